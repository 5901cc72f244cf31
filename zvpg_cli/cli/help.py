"""How every command's --help looks: plain text that reads cleanly at 80 columns.

One mechanism for all commands (the Typer app uses these classes), built on
click's own help formatter, which wraps at word boundaries:

- the usage line names arguments in capitals, `[FILE]` when optional, never
  `{term}` or `<str>` (typer's renderings differ between 0.26 and 0.28);
- every option that takes a value shows a metavar (`FORMAT`, `PATH`), never a
  type name or a list of choices that would break mid-word; the help text
  names the choices instead;
- help text is written like Markdown: `code` is shown as 'code', not with
  literal backticks;
- an epilog (the examples) is printed line by line as written, never rewrapped,
  so an example stays one command on one line;
- the command list shows each command's whole first paragraph, wrapped, never
  cut off with "...".

Nothing here imports rich: help goes through the same plain formatter whether
or not rich is installed, and TYPER_USE_RICH changes nothing.
"""

from __future__ import annotations

import inspect
import re
import textwrap
from typing import Any

from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

from .framework import OwnCompletion, click

_CODE = re.compile(r"`([^`\n]+)`")


def plain(text: str) -> str:
    """Help text written with `code` spans, as plain text."""
    return _CODE.sub(r"'\1'", text)


def _first_paragraph(text: str | None) -> str:
    return plain(inspect.cleandoc(text or "").partition("\f")[0].split("\n\n")[0]).replace("\n", " ").strip()


def _wrap(text: str, width: int) -> list[str]:
    """Lines of at most `width` characters, broken at spaces only: never inside
    a word, a hyphenated value (not-possible) or a long name. Blank lines
    separate paragraphs; a paragraph's line breaks are not kept."""
    wrapper = textwrap.TextWrapper(max(width, 20), break_on_hyphens=False, break_long_words=False)
    lines: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text.strip()):
        if lines:
            lines.append("")
        lines.extend(wrapper.wrap(" ".join(paragraph.split())))
    return lines


def _write_text(formatter: click.HelpFormatter, text: str) -> None:
    indent = " " * formatter.current_indent
    for line in _wrap(text, formatter.width - formatter.current_indent):
        formatter.write(f"{indent}{line}\n" if line else "\n")


def _write_dl(formatter: click.HelpFormatter, rows: list[tuple[str, str]], col_max: int = 30) -> None:
    """click's definition list (options, commands), wrapped by _wrap."""
    first = min(max(len(name) for name, _ in rows), col_max) + 2
    indent = " " * formatter.current_indent
    for name, text in rows:
        lines = _wrap(text, formatter.width - formatter.current_indent - first) if text else []
        if len(name) > first - 2:  # a long option: its help starts on the next line
            formatter.write(f"{indent}{name}\n")
        else:
            formatter.write(f"{indent}{name:<{first}}{lines.pop(0) if lines else ''}".rstrip() + "\n")
        for line in lines:
            formatter.write(f"{indent}{'':<{first}}{line}".rstrip() + "\n")


def _name_parameters(params: list[click.Parameter]) -> None:
    """A metavar for every argument and every option that takes a value."""
    for param in params:
        if param.metavar is not None or not param.name:
            continue
        takes_a_value = isinstance(param, TyperOption) and not param.is_flag and not param.count
        if isinstance(param, TyperArgument) or takes_a_value:
            param.metavar = param.name.upper()


def _argument_label(param: click.Parameter) -> str:
    name = param.metavar or (param.name or "").upper()
    if param.nargs != 1:
        name += "..."
    return name if param.required else f"[{name}]"


def _usage_pieces(command: click.Command, ctx: click.Context) -> list[str]:
    pieces = [command.options_metavar] if command.options_metavar else []
    for param in command.get_params(ctx):
        if isinstance(param, TyperArgument):
            pieces.append(_argument_label(param))
    return pieces


def _format_text(command: click.Command, formatter: click.HelpFormatter) -> None:
    text = plain(inspect.cleandoc(command.help or "").partition("\f")[0])
    if text:
        formatter.write_paragraph()
        with formatter.indentation():
            _write_text(formatter, text)


def _format_parameters(command: click.Command, ctx: click.Context, formatter: click.HelpFormatter) -> None:
    """Arguments, then options; options with a `rich_help_panel` get a section
    of that name after the others (typer shows panels only in rich help)."""
    sections: dict[str, list[tuple[str, str]]] = {"Arguments": [], "Options": []}
    for param in command.get_params(ctx):
        if getattr(param, "hidden", False):
            continue
        if isinstance(param, TyperArgument):
            row = (_argument_label(param).strip("[]"), plain(getattr(param, "help", None) or ""))
            sections["Arguments"].append(row)
        else:
            record = param.get_help_record(ctx)
            if record is not None:
                panel = getattr(param, "rich_help_panel", None) or "Options"
                sections.setdefault(panel, []).append((record[0], plain(record[1])))
    for title, rows in sections.items():
        if rows:
            with formatter.section(title):
                _write_dl(formatter, rows)


def _format_epilog(command: click.Command, formatter: click.HelpFormatter) -> None:
    """Indented lines (the examples) as written: a command cut in two cannot be
    copied, and tests/test_help.py keeps them within 80 columns. Lines that
    start at the margin are prose: each run of them is wrapped as a paragraph."""
    if not command.epilog:
        return
    formatter.write_paragraph()
    prose: list[str] = []

    def flush() -> None:
        if prose:
            _write_text(formatter, " ".join(prose))
            prose.clear()

    with formatter.indentation():
        for line in plain(textwrap.dedent(command.epilog).strip("\n")).splitlines():
            if line[:1].isspace() or not line:
                flush()
                formatter.write(f"{'':>{formatter.current_indent}}{line}\n" if line.strip() else "\n")
            else:
                prose.append(line)
        flush()


class ZvpgCommand(TyperCommand):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _name_parameters(self.params)

    def collect_usage_pieces(self, ctx: click.Context) -> list[str]:
        return _usage_pieces(self, ctx)

    def format_help_text(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        _format_text(self, formatter)

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        _format_parameters(self, ctx, formatter)

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        _format_epilog(self, formatter)


class ZvpgGroup(OwnCompletion, TyperGroup):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _name_parameters(self.params)

    def collect_usage_pieces(self, ctx: click.Context) -> list[str]:
        return [*_usage_pieces(self, ctx), self.subcommand_metavar]

    def format_help_text(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        _format_text(self, formatter)

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        _format_parameters(self, ctx, formatter)
        self.format_commands(ctx, formatter)

    def list_commands(self, ctx: click.Context) -> list[str]:
        """The commands in the order cli/__init__.py's COMMANDS gives them."""
        from . import COMMANDS

        order = list(COMMANDS)
        return sorted(super().list_commands(ctx), key=lambda n: order.index(n) if n in order else len(order))

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, _first_paragraph(command.short_help or command.help)))
        if rows:
            with formatter.section("Commands"):
                _write_dl(formatter, rows)

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        _format_epilog(self, formatter)
