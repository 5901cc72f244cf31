"""--help as a new user reads it at 80 columns: no word split across lines, no
type names or braces, examples one command a line, --data on every command that
loads the knowledge base."""

from __future__ import annotations

import enum
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import typer
from conftest import KB_FILE

from zvpg_cli.cli import app
from zvpg_cli.cli.help import plain

ZVPG = [sys.executable, "-m", "zvpg_cli"]
GROUP = typer.main.get_command(app)
COMMANDS = list(GROUP.commands)  # type: ignore[attr-defined]
LOADS_THE_KB = ["explain", "decode", "list", "triage", "annotate", "codes", "validate"]


def _help(*args: str, columns: int = 80, **env: str) -> str:
    full = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TYPER_USE_RICH")}
    full.update(COLUMNS=str(columns), TERM="xterm-256color", **env)
    p = subprocess.run([*ZVPG, *args, "--help"], capture_output=True, env=full, timeout=60)
    assert p.returncode == 0 and p.stderr == b"", p.stderr
    return p.stdout.decode()


@pytest.fixture(scope="module")
def pages() -> dict[str, str]:
    """Every help page once, at 80 columns, as a user's terminal shows it."""
    return {name: _help(*([name] if name else [])) for name in ["", *COMMANDS]}


def _command(name: str) -> Any:
    return GROUP if not name else GROUP.commands[name]  # type: ignore[attr-defined]


def _flat(text: str) -> str:
    return " ".join(text.split())


def _sources(name: str) -> list[str]:
    """The texts the page is made of, as written in the code."""
    command = _command(name)
    texts = [command.help or ""]
    texts += [getattr(p, "help", None) or "" for p in command.params if not getattr(p, "hidden", False)]
    if not name:
        texts += [_command(c).help.split("\n\n")[0] for c in COMMANDS]
    return [plain(t) for t in texts if t]


@pytest.mark.parametrize("name", ["", *COMMANDS])
def test_no_word_is_split_and_nothing_is_cut(pages: dict[str, str], name: str) -> None:
    page = pages[name]
    lines = page.splitlines()
    assert max(len(line) for line in lines) <= 78, max(lines, key=len)  # click's width at 80 columns
    flat = _flat(page)
    for text in _sources(name):
        # a word broken across lines ("unknow / n", "not- / possible") or a help
        # text cut short ("what to...") would not be found whole
        assert _flat(text) in flat, text
    prose: list[str] = []
    for line in [*plain(textwrap.dedent(_command(name).epilog or "")).splitlines(), ""]:
        if line[:1].isspace() or not line:
            if line:  # an example: shown as written (indented by two), never rewrapped
                assert f"\n  {line}\n" in page, f"example rewrapped: {line!r}"
            assert _flat(" ".join(prose)) in flat, prose  # lines at the margin: one wrapped paragraph
            prose = []
        else:
            prose.append(line)


@pytest.mark.parametrize("name", ["", *COMMANDS])
def test_no_type_names_braces_backticks_or_raw_bytes(pages: dict[str, str], name: str) -> None:
    page = pages[name]
    for bad in ("<str>", "<int", "<float", "<table", "{", "}", "`", "536870912", "\x1b["):
        assert bad not in page, (bad, name)


def test_usage_lines(pages: dict[str, str]) -> None:
    usage = {name: page.splitlines()[0] for name, page in pages.items()}
    assert usage[""] == "Usage: zvpg [OPTIONS] COMMAND [ARGS]..."
    assert usage["explain"] == "Usage: zvpg explain [OPTIONS] TERM"
    assert usage["decode"] == "Usage: zvpg decode [OPTIONS] STATUS [SUBSTATUS]"
    assert usage["triage"] == "Usage: zvpg triage [OPTIONS] [FILE...]"
    assert usage["annotate"] == "Usage: zvpg annotate [OPTIONS] [FILE]"
    assert usage["validate"] == "Usage: zvpg validate [OPTIONS] [FILE]"


def test_every_option_with_a_value_has_a_metavar_and_names_its_choices() -> None:
    for name in ["", *COMMANDS]:
        for param in _command(name).params:
            if getattr(param, "is_flag", False) or param.param_type_name != "option":
                continue
            assert param.metavar and param.metavar.upper() == param.metavar, (name, param.name)
            choices = getattr(param.type, "enum", None) or getattr(param.type, "choices", None) or []
            for choice in choices:
                value = choice.value if isinstance(choice, enum.Enum) else str(choice)
                assert re.search(rf"(?<![\w-]){re.escape(value)}(?![\w-])", param.help or ""), (name, param.name, value)


def test_sizes_read_as_sizes(pages: dict[str, str]) -> None:
    for name in ("annotate", "triage"):
        assert "--max-bytes BYTES" in pages[name] and "512 MiB" in _flat(pages[name])


def test_top_level_examples_cover_the_everyday_commands(pages: dict[str, str]) -> None:
    examples = pages[""].split("Examples:", 1)[1]
    for command in ("explain", "decode", "list", "triage", "annotate"):
        assert f"zvpg {command} " in examples, command
    assert "--show-completion SHELL" in pages[""]


@pytest.mark.parametrize("name", LOADS_THE_KB)
def test_data_is_offered_by_every_command_that_loads_the_knowledge_base(pages: dict[str, str], name: str) -> None:
    assert "--data PATH" in pages[name] and "ZVPG_DATA" in pages[name]


def test_help_is_plain_text_with_or_without_rich() -> None:
    """One formatter: TYPER_USE_RICH or a forced colour terminal change nothing."""
    default = _help("list")
    assert _help("list", TYPER_USE_RICH="0") == default
    assert _help("list", FORCE_COLOR="1") == default


def test_never_wider_than_80_columns_on_a_wide_terminal() -> None:
    page = _help("triage", columns=200)
    assert max(len(line) for line in page.splitlines()) <= 80


# ---- --data after the command --------------------------------------------------------

ARGS = {
    "explain": ["Error"], "decode": ["2", "23"], "list": [], "validate": [],
    "annotate": ["-"], "triage": ["-", "--allow-empty"], "codes": ["--zvm", "https://zvm.invalid"],
}


@pytest.mark.parametrize("name", LOADS_THE_KB)
def test_data_after_the_command_is_used(cli: Any, tmp_path: Path, name: str) -> None:
    missing = str(tmp_path / "missing.yaml")
    bad = cli(name, *ARGS[name], "--data", missing, input="[]")
    assert bad.exit_code == 2 and "missing.yaml" in bad.stderr and bad.stderr.count("\n") <= 2
    if name == "codes":
        return  # loads the knowledge base first; a good one would go on to the (here unknown) ZVM
    good = cli(name, *ARGS[name], "--data", str(KB_FILE), input="[]", env={"ZVPG_DATA": missing})
    assert good.exit_code == 0, good.stderr


def test_explain_json_fast_path_honours_data(cli: Any, tmp_path: Path) -> None:
    missing = str(tmp_path / "missing.yaml")
    assert cli("explain", "Bitmap Syncing", "--json", "--data", missing).exit_code == 2


def test_the_command_s_data_wins_over_the_top_level_s(cli: Any, tmp_path: Path) -> None:
    missing = str(tmp_path / "missing.yaml")
    assert cli("--data", missing, "list", "--data", str(KB_FILE)).exit_code == 0
    assert cli("--data", str(KB_FILE), "list", "--data", missing).exit_code == 2
    # the top level's --data still beats ZVPG_DATA
    assert cli("--data", missing, "list", env={"ZVPG_DATA": str(KB_FILE)}).exit_code == 2
