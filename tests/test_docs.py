"""Documentation that cannot rot: README's examples run and print what README
shows; every command has help with examples; CHANGELOG is kept."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer
from readme_examples import README, examples, run

from zvpg_cli.cli import app

ROOT = Path(__file__).resolve().parent.parent
README_TEXT = README.read_text(encoding="utf-8")
COMMANDS = sorted(c.name or c.callback.__name__ for c in app.registered_commands)  # type: ignore[union-attr]


@pytest.mark.parametrize(("command", "shown"), examples(README_TEXT), ids=[c for c, _ in examples(README_TEXT)])
def test_readme_example_output_is_real(command: str, shown: str) -> None:
    assert run(command) == shown, f"README is stale for `{command}`: run python tests/readme_examples.py --update"


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
def test_every_command_is_documented_in_readme(name: str) -> None:
    assert f"zvpg {name}" in README_TEXT


def test_changelog_keeps_a_changelog() -> None:
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert text.startswith("# Changelog")
    assert "## [Unreleased]" in text
    from zvpg_cli import __version__

    assert f"## [{__version__}]" in text


def test_typer_app_is_a_typer() -> None:
    assert isinstance(app, typer.Typer)
