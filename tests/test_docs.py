"""Documentation that cannot rot: the examples of README and docs/ run and print
what the page shows; docs/cli.md is the program's own help; links lead somewhere;
every command has help with examples; the version agrees everywhere and CHANGELOG
is kept."""

from __future__ import annotations

import itertools
import re
import shlex
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from cli_reference import CLI_MD, reference
from readme_examples import README, WIDTH, examples, pages, run
from rich.cells import cell_len

from zvpg_cli.cli import app

ROOT = Path(__file__).resolve().parent.parent
README_TEXT = README.read_text(encoding="utf-8")
COMMANDS = sorted(c.name or c.callback.__name__ for c in app.registered_commands)  # type: ignore[union-attr]


EXAMPLES = [(page, command, shown) for page in pages() for command, shown in examples(page.read_text(encoding="utf-8"))]


@pytest.mark.parametrize(("page", "command", "shown"), EXAMPLES,
                         ids=[f"{p.relative_to(ROOT)}: {c}" for p, c, _ in EXAMPLES])
def test_console_example_output_is_real(page: Path, command: str, shown: str) -> None:
    if command.startswith("@") and shutil.which("faketime") is None:
        pytest.skip("this example is run at a fixed moment: needs faketime (Debian package faketime)")
    assert run(command) == shown, \
        f"{page.relative_to(ROOT)} is stale for `{command}`: run python tests/readme_examples.py --update"


#: The commands whose default output is for people (the others print what monitoring reads);
#: `history` and `policy show` are laid out by their own owners' code and not yet held to it.
FOR_PEOPLE = ("explain", "decode", "list", "triage", "annotate", "codes", "validate")


def _bare(command: str) -> str:
    """The command line without the moment a block is run at (`@2026-12-07 03:00:00 zvpg ...`)."""
    return re.sub(r"^@\S+ \S+ ", "", command)


def _for_people(command: str) -> bool:
    args = shlex.split(_bare(command))[1:]
    while args and args[0].startswith("-"):  # zvpg's own options: --data FILE
        args = args[2:]
    fmt = next((b for a, b in itertools.pairwise(args) if a in ("--format", "-f")), "table")
    return bool(args) and args[0] in FOR_PEOPLE and fmt == "table" and not {"--nagios", "--json"} & set(args)


PEOPLES = [(p, c, shown) for p, c, shown in EXAMPLES if _for_people(c)]


@pytest.mark.parametrize(("page", "command", "shown"), PEOPLES,
                         ids=[f"{p.relative_to(ROOT)}: {c}" for p, c, _ in PEOPLES])
def test_console_examples_for_people_fit_the_width_the_docs_state(page: Path, command: str, shown: str) -> None:
    wide = [line for line in shown.splitlines() if cell_len(line) > WIDTH]
    assert not wide, f"{page.name}: `{command}` shows a line over {WIDTH} columns: {wide[0]!r}"


def test_examples_for_people_are_checked_for_width() -> None:
    assert len(PEOPLES) >= 8 and {_bare(c).split()[1] for _, c, _ in PEOPLES} >= {"explain", "decode", "list", "triage",
                                                                           "annotate"}


def test_the_module_map_draws_the_tree() -> None:
    """docs/development.md's map: every path it names exists, every layer folder
    of zvpg_cli is in it, and each layer's paragraph names every module the folder
    holds (a module added or moved without the map fails here)."""
    text = (ROOT / "docs" / "development.md").read_text(encoding="utf-8")
    block = re.search(r"^```\n(.*?)^```", text, re.S | re.M)
    assert block is not None
    lines = block.group(1).splitlines()
    named = re.findall(r"^([\w./-]+)\s", block.group(1), re.M) + re.findall(r"\bzvpg_cli/[\w/]+\.py\b", text)
    missing = [path for path in named if not (ROOT / path).exists()]
    assert not missing, f"docs/development.md names what does not exist: {missing}"
    layers: dict[str, str] = {}
    current = None
    for line in lines:
        folder = re.match(r"^  (\w+)/\s", line)
        if folder:
            current = folder.group(1)
            layers[current] = line
        elif current and line.startswith("    "):
            layers[current] += " " + line
        else:
            current = None
    package = ROOT / "zvpg_cli"
    assert set(layers) == {p.name for p in package.iterdir() if (p / "__init__.py").exists()}
    for layer, paragraph in layers.items():
        words = set(re.findall(r"\w+", paragraph))
        modules = {p.stem for p in (package / layer).iterdir() if p.suffix == ".py" and p.stem != "__init__"}
        modules |= {p.name for p in (package / layer).iterdir() if (p / "__init__.py").exists()}
        assert modules <= words, f"{layer}/: the map leaves out {sorted(modules - words)}"


def test_examples_are_checked_on_every_page() -> None:
    checked = {p.name for p, _, _ in EXAMPLES}
    assert {"README.md", "explain.md", "annotate.md", "monitoring.md", "zvm.md"} <= checked


def test_cli_reference_is_the_programs_own_help() -> None:
    assert CLI_MD.read_text(encoding="utf-8") == reference(), \
        "docs/cli.md differs from the program: run python tests/cli_reference.py --update"


def test_readme_is_a_front_door() -> None:
    assert len(README_TEXT.splitlines()) < 400
    for page in sorted((ROOT / "docs").glob("*.md")):
        assert f"(docs/{page.name})" in README_TEXT, f"README does not link to docs/{page.name}"


def _anchors(text: str) -> set[str]:
    """GitHub's anchors of a page's headings (outside code blocks)."""
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-")
            for h in re.findall(r"^#+ (.*)$", text, re.M)}


@pytest.mark.parametrize("page", pages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_lead_somewhere(page: Path) -> None:
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        assert dest.exists(), f"{page.name}: link to {target}: no such file"
        if anchor:
            assert anchor in _anchors(dest.read_text(encoding="utf-8")), f"{page.name}: {target}: no such heading"


@pytest.mark.parametrize("page", pages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_pages_speak_only_of_released_versions(page: Path) -> None:
    released = set(re.findall(r"^## \[(\d+\.\d+\.\d+)\]", (ROOT / "CHANGELOG.md").read_text(encoding="utf-8"), re.M))
    text = page.read_text(encoding="utf-8")
    # zvpg's versions ("zvpg 0.2.0", "since 0.2"); ZVM versions ("before 10.0", "9.5U1") are not zvpg's
    for version in re.findall(r"\b(?:zvpg|[Ss]ince) v?(\d+\.\d+(?:\.\d+)?)\b(?!U)", text):
        assert version in released, f"{page.name} speaks of zvpg {version}, not a release in CHANGELOG.md"


def test_readme_has_the_two_commands() -> None:
    blocks = re.findall(r"```sh\n(.*?)\n```", README_TEXT, re.S)
    install = 'python3 -m venv .venv && .venv/bin/pip install -c constraints.txt -e ".[test]"'
    assert blocks[0].startswith(install + " && .venv/bin/zvpg ")
    assert blocks[1] == ".venv/bin/python -m pytest"
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert blocks[1] in ci, "CI must run README's test command"
    assert '-m venv .venv && .venv/bin/pip install -q -c constraints.txt -e ".[test]"' in ci, "CI: as README"


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_has_help_with_examples(name: str) -> None:
    from typer.testing import CliRunner

    r = CliRunner().invoke(app, [name, "--help"], env={"COLUMNS": "120"})
    assert r.exit_code == 0
    assert "Examples:" in r.stdout and f"zvpg {name}" in r.stdout


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_is_named_in_readme_and_shown_in_the_docs(name: str) -> None:
    assert f"`zvpg {name}`" in README_TEXT
    docs = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "docs").glob("*.md") if p != CLI_MD)
    assert f"zvpg {name} " in docs


def test_changelog_keeps_a_changelog() -> None:
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert text.startswith("# Changelog")
    assert "## [Unreleased]" in text
    from zvpg_cli import __version__

    assert f"## [{__version__}]" in text


def test_version_agrees_in_the_program_the_package_and_the_changelog() -> None:
    """`zvpg --version`, the installed package's metadata and CHANGELOG's newest
    release (the first dated section below Unreleased) name one version."""
    from zvpg_cli import __version__

    shown = subprocess.run([sys.executable, "-m", "zvpg_cli", "--version"], capture_output=True, text=True,
                           timeout=60).stdout.strip()
    assert shown == f"zvpg {__version__}"
    assert metadata.version("zvpg") == __version__, "stale metadata: pip install -e . again"
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    sections = re.findall(r"^## \[([^\]]+)\](.*)$", text, re.M)
    assert sections[0] == ("Unreleased", "")
    newest, dated = sections[1]
    assert newest == __version__
    assert re.fullmatch(r" - \d{4}-\d{2}-\d{2}", dated), f"CHANGELOG's {newest} has no date"
