"""Guards on the structure that keeps zvpg fast and its layers apart."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path
from typing import Any

PACKAGE = Path(__file__).resolve().parent.parent / "zvpg_cli"


def _modules_after(args: list[str]) -> set[str]:
    code = ("import sys, runpy\n"
            f"sys.argv = ['zvpg', *{args!r}]\n"
            "try:\n    runpy.run_module('zvpg_cli', run_name='__main__')\n"
            "except SystemExit:\n    pass\n"
            "sys.stdout.flush()\n"
            "sys.stderr.write(' '.join(sorted(sys.modules)))\n")
    # the first run compiles the knowledge base into the (test's own) cache
    subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60)
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    return set(p.stderr.split())


def test_json_fast_path_imports_neither_rich_nor_yaml_nor_json() -> None:
    mods = _modules_after(["explain", "Bitmap Syncing", "--json"])
    assert "zvpg_cli.cli" in mods
    for heavy in ("rich", "yaml", "json", "msgspec", "zvpg_cli.model", "zvpg_cli.schema"):
        assert heavy not in mods, heavy


def test_human_path_does_not_import_yaml_or_payload_code() -> None:
    mods = _modules_after(["explain", "Bitmap Syncing"])
    assert "rich.console" in mods
    for heavy in ("yaml", "msgspec", "zvpg_cli.schema", "zvpg_cli.payload"):
        assert heavy not in mods, heavy


def test_rich_stays_in_the_output_package() -> None:
    """Presentation lives in zvpg_cli/output: no other module imports rich."""
    for path in PACKAGE.rglob("*.py"):
        if "output" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            assert not any(n == "rich" or n.startswith("rich.") for n in names), path


def test_the_domain_layer_does_not_import_the_cli() -> None:
    for path in PACKAGE.rglob("*.py"):
        if "cli" in path.parts or path.name in ("_entry.py", "__main__.py"):
            continue
        text = path.read_text(encoding="utf-8")
        assert "import typer" not in text and "from .cli" not in text, path


def test_benchmark_script_runs() -> None:
    """The benchmark script works (a smoke run on tiny payloads; no timing is judged here)."""
    script = PACKAGE.parent / "benchmarks" / "run.py"
    p = subprocess.run([sys.executable, str(script), "--smoke"], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert "Start-up: explain --json vs the Typer floor" in p.stdout
    assert "triage vs annotate" in p.stdout and "marginal cost" in p.stdout


def test_no_module_is_too_long_to_read_in_one_sitting() -> None:
    for path in PACKAGE.rglob("*.py"):
        assert len(path.read_text(encoding="utf-8").splitlines()) <= 500, path


def test_no_module_imports_one_that_imports_it() -> None:
    """The knowledge base's loader (kb) and its validator (schema) share what they need
    through modules below both (kbsource, kbyaml), not through each other."""
    def imports(name: str) -> set[str]:
        tree = ast.parse((PACKAGE / f"{name}.py").read_text(encoding="utf-8"))
        return {n.module.lstrip(".") for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}

    assert "kb" not in imports("schema") and "kb" not in imports("kbyaml") and "kb" not in imports("kbsource")
    assert "schema" not in imports("kbsource") | imports("kbyaml")


def test_the_zvm_layer_neither_prints_nor_imports_rich() -> None:
    """zvm/ reads ZVMs and tells an observer how the read goes: drawing it is output/progress.py's business."""
    for path in (PACKAGE / "zvm").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom):
                names = [("." * node.level) + (node.module or "")]
            assert not any(n.split(".")[0] == "rich" or n.startswith("..output") for n in names), path


def test_a_read_whose_stderr_is_not_a_terminal_imports_no_progress_display(monkeypatch: Any) -> None:
    import socket

    with socket.socket() as s:  # a port where nothing listens: the read fails at once
        s.bind(("127.0.0.1", 0))
        dead = f"https://127.0.0.1:{s.getsockname()[1]}"
    monkeypatch.setenv("ZVPG_PASSWORD", "x")
    for args in (["triage", "--zvm", dead, "--user", "m", "--format", "json"], ["fetch", "vpgs", "--zvm", dead,
                                                                               "--user", "m"]):
        mods = _modules_after(args)
        assert "zvpg_cli.zvm.fetch" in mods, args
        assert not any(m == "rich" or m.startswith("rich.") for m in mods), args
