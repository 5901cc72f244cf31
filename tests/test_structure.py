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
    for heavy in ("rich", "yaml", "json", "msgspec", "zvpg_cli.knowledge.model", "zvpg_cli.knowledge.schema"):
        assert heavy not in mods, heavy


def test_human_path_does_not_import_yaml_or_payload_code() -> None:
    mods = _modules_after(["explain", "Bitmap Syncing"])
    assert "rich.console" in mods
    for heavy in ("yaml", "msgspec", "zvpg_cli.knowledge.schema", "zvpg_cli.sources.payload"):
        assert heavy not in mods, heavy


def test_commands_that_need_no_alert_codes_do_not_load_them() -> None:
    """The alert codes (data/alerts.yaml) load only for `explain CODE` and `list --alerts`."""
    for args in (["explain", "Bitmap Syncing", "--json"], ["explain", "Bitmap Syncing"], ["list"],
                 ["decode", "2", "23"]):
        assert "zvpg_cli.knowledge.alerts" not in _modules_after(args), args
    assert "zvpg_cli.knowledge.alerts" in _modules_after(["explain", "VPG0010"])


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


#: What each layer (a folder of zvpg_cli) may import besides itself: the
#: knowledge base, sources (files, stdin, ZVMs), triage (the judge), output
#: (renderers) and cli (the Typer layer) over base (plumbing). docs/development.md
#: draws the same map.
LAYERS = {
    "base": set(),
    "knowledge": {"base"},
    "sources": {"base", "knowledge"},
    "triage": {"base", "knowledge", "sources"},
    "output": {"base", "knowledge", "sources", "triage"},
    "cli": {"base", "knowledge", "sources", "triage", "output"},
}
#: The modules at the top: the public API, the entry point.
TOP = {"__init__.py": {"knowledge"}, "__main__.py": set(), "_entry.py": {"base", "cli"}}


def imported(package: Path, path: Path) -> set[str]:
    """Every zvpg_cli module `path` imports, anywhere in it (lazy imports and
    type-checking ones too), as absolute names."""
    inside = ("zvpg_cli", *path.relative_to(package).parent.parts)
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = inside[:len(inside) - (node.level - 1)]
                names = [".".join((*base, node.module))] if node.module else [".".join((*base, a.name))
                                                                               for a in node.names]
            else:
                names = [node.module or ""]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        found.update(n for n in names if n == "zvpg_cli" or n.startswith("zvpg_cli."))
    return found


#: What any module may import from the top: the version.
ANYONE = {"zvpg_cli", "zvpg_cli.__version__"}


def forbidden_imports(package: Path) -> list[str]:
    problems = []
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(package)
        own = rel.parts[0] if len(rel.parts) > 1 else None
        if own is None and rel.name not in TOP:
            problems.append(f"{rel}: a loose module at the top (put it in its layer)")
            continue
        if own is not None and own not in LAYERS:
            problems.append(f"{rel}: in no layer")
            continue
        allowed = TOP[rel.name] if own is None else LAYERS[own]
        for name in imported(package, path) - ANYONE:
            parts = name.split(".")
            layer = parts[1] if parts[1] in LAYERS else None
            if layer is None and not (own is None and name == "zvpg_cli._entry"):
                problems.append(f"{rel} imports {name}, a top-level module")
            elif layer is not None and layer != own and layer not in allowed:
                problems.append(f"{rel} imports {name} ({own or 'the top'} may not import {layer})")
    return problems


def test_every_module_imports_only_the_layers_below_it() -> None:
    assert forbidden_imports(PACKAGE) == []


def test_the_layer_contract_fails_on_a_forbidden_import(tmp_path: Path) -> None:
    """The contract above is not a text search: a ZVM module reaching up into the
    CLI (however it spells the import) is caught, and so is a loose module."""
    import shutil

    copy = tmp_path / "zvpg_cli"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    assert forbidden_imports(copy) == []
    with (copy / "sources" / "zvm" / "sites.py").open("a", encoding="utf-8") as f:
        f.write("\n\ndef _later() -> None:\n    from ...cli import app  # noqa\n")
    (copy / "loose.py").write_text("", encoding="utf-8")
    problems = forbidden_imports(copy)
    assert any("sources/zvm/sites.py imports zvpg_cli.cli" in p for p in problems), problems
    assert any("loose.py" in p for p in problems), problems


def test_no_module_but_the_cli_imports_typer() -> None:
    for path in PACKAGE.rglob("*.py"):
        if "cli" in path.relative_to(PACKAGE).parts:
            continue
        assert not any(n == "typer" or n.startswith(("typer.", "click"))
                       for n in _imports_of(path)), path


def _imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def test_no_module_is_too_long_to_read_in_one_sitting() -> None:
    for path in PACKAGE.rglob("*.py"):
        assert len(path.read_text(encoding="utf-8").splitlines()) <= 500, path


def test_no_module_imports_one_that_imports_it() -> None:
    """The knowledge base's loader (kb) and its validator (schema) share what they need
    through modules below both (kbsource, kbyaml), not through each other."""
    def imports(name: str) -> set[str]:
        tree = ast.parse((PACKAGE / "knowledge" / f"{name}.py").read_text(encoding="utf-8"))
        return {n.module.lstrip(".") for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}

    assert "kb" not in imports("schema") and "kb" not in imports("kbyaml") and "kb" not in imports("kbsource")
    assert "schema" not in imports("kbsource") | imports("kbyaml")


def test_the_zvm_layer_neither_prints_nor_imports_rich() -> None:
    """zvm/ reads ZVMs and tells an observer how the read goes: drawing it is output/progress.py's business."""
    for path in (PACKAGE / "sources" / "zvm").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom):
                names = [("." * node.level) + (node.module or "")]
            assert not any(n.split(".")[0] == "rich" or n.startswith(("..output", "...output")) for n in names), path


def test_a_read_whose_stderr_is_not_a_terminal_imports_no_progress_display(monkeypatch: Any) -> None:
    import socket

    with socket.socket() as s:  # a port where nothing listens: the read fails at once
        s.bind(("127.0.0.1", 0))
        dead = f"https://127.0.0.1:{s.getsockname()[1]}"
    monkeypatch.setenv("ZVPG_PASSWORD", "x")
    for args in (["triage", "--zvm", dead, "--user", "m", "--format", "json"], ["fetch", "vpgs", "--zvm", dead,
                                                                               "--user", "m"]):
        mods = _modules_after(args)
        assert "zvpg_cli.sources.zvm.fetch" in mods, args
        assert not any(m == "rich" or m.startswith("rich.") for m in mods), args
