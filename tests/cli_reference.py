"""docs/cli.md, generated from the Typer app: every command's --help as a user's
80-column terminal shows it. tests/test_docs.py fails when docs/cli.md differs
from what this makes; run this file with `--update` to rewrite it."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from readme_examples import WIDTH
from typer.testing import CliRunner

from zvpg_cli.cli import load_commands

app = load_commands()

CLI_MD = Path(__file__).resolve().parent.parent / "docs" / "cli.md"


def help_page(*args: str) -> str:
    r = CliRunner().invoke(app, [*args, "--help"], env={"COLUMNS": str(WIDTH), "NO_COLOR": "1", "TERM": "dumb"},
                           catch_exceptions=False)
    assert r.exit_code == 0, r.output
    return r.stdout.rstrip() + "\n"


def reference() -> str:
    group = typer.main.get_command(app)
    commands = group.list_commands(typer.Context(group))  # type: ignore[attr-defined]
    out = ["# CLI reference", "",
           "Every command's `--help`, generated from the command line itself by",
           "`python tests/cli_reference.py --update` (do not edit by hand: a test fails when this",
           f"page and the program differ), as a terminal of {WIDTH} columns shows it, the width every",
           "example of these pages is run at. What the commands are for: [README](../README.md).", ""]
    out += ["- [zvpg](#zvpg)"] + [f"- [zvpg {c}](#zvpg-{c})" for c in commands] + [""]
    for name in ["", *commands]:
        title = f"zvpg {name}".strip()
        out += [f"## {title}", "", "```text", help_page(*([name] if name else [])).rstrip(), "```", ""]
    return "\n".join(out)


if __name__ == "__main__" and "--update" in sys.argv:
    CLI_MD.write_text(reference(), encoding="utf-8")
