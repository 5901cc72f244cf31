"""Rich views for people. Rich honours NO_COLOR, FORCE_COLOR, TERM=dumb and
COLUMNS itself; off a terminal it writes plain text without escape codes."""

from __future__ import annotations

import io
import sys
from typing import Any, cast

from rich import box
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from ..decoding import documented_failover
from ..model import Entry, KnowledgeBase, Status, Substatus
from ..sanitize import printable
from ..writer import OutputError, write
from .views import Section, failover_text, listed_under, severity_word, substatus_count

SEVERITY_STYLE = {"ok": "green", "warning": "yellow", "critical": "bold red", None: "magenta"}


def console(stderr: bool = False) -> Console:
    return Console(file=sys.stderr if stderr else sys.stdout, highlight=False, soft_wrap=False)


def emit(*renderables: Any) -> None:
    """Print to stdout. Off a terminal the text is rendered into memory and
    goes through the pipe-safe writer, without the padding rich leaves at the
    ends of lines; a terminal that cannot be written raises `OutputError`."""
    out = console()
    group = Group(*renderables)
    if out.is_terminal:
        try:
            out.print(group)
        except OSError as exc:  # the terminal went away (EIO)
            raise OutputError(exc.strerror or str(exc)) from None
        return
    write(render(group, out))


def render(renderable: Any, like: Console) -> str:
    """`renderable` as text, laid out for `like` (its width and colours),
    rendered into memory: rich never touches stdout itself."""
    buffer = io.StringIO()
    Console(file=buffer, width=like.width, color_system=cast(Any, like.color_system), force_terminal=like.is_terminal,
            highlight=False, soft_wrap=False, legacy_windows=False).print(renderable)
    return "\n".join(line.rstrip() for line in buffer.getvalue().split("\n"))


def t(text: Any, style: str = "") -> Text:
    """Untrusted or not, text reaches rich only as Text (no markup parsing),
    with control characters escaped."""
    return Text(printable(str(text)), style=style)


def render_sections(title: str, subtitle: str, sections: list[Section]) -> Group:
    parts: list[Any] = [Text.assemble(t(title, "bold"), "  ", t(subtitle, "dim"))]
    for sec in sections:
        if sec.title:
            parts.append(Text(""))
            parts.append(t(sec.title, "bold underline"))
        if sec.rows:
            grid = Table.grid(padding=(0, 2))
            grid.add_column(style="bold cyan", no_wrap=True)
            grid.add_column(overflow="fold")
            for label, value in sec.rows:
                style = ""
                if label == "Severity":
                    style = SEVERITY_STYLE.get(value.split(" ", 1)[0], "")
                elif label == "Caution":
                    style = "yellow"
                grid.add_row(t(label), t(value, style))
            parts.append(grid)
        if sec.text:
            parts.append(t(sec.text))
    return Group(*parts)


def print_sections(title: str, subtitle: str, sections: list[Section]) -> None:
    emit(render_sections(title, subtitle, sections))


def _table(title: str | None) -> Table:
    # a title from data ("Substatuses of NAME") is Text: rich would read a str as markup
    return Table(title=t(title, "table.title") if title else None, title_justify="left", expand=False,
                 pad_edge=False, box=box.SIMPLE_HEAD)


def entries_tables(kb: KnowledgeBase, entries: list[Entry], title: str | None = None,
                   show_listed: bool = True) -> list[Table]:
    """Statuses and substatuses, each in a table of its own."""
    statuses = [e for e in entries if isinstance(e, Status)]
    subs = [e for e in entries if not isinstance(e, Status)]
    tables = []
    if statuses:
        table = _table(title if title and not subs else "Statuses")
        table.add_column("Code", justify="right", no_wrap=True)
        table.add_column("Status", min_width=12)
        table.add_column("API name", no_wrap=True, style="dim")
        table.add_column("Severity", width=8)
        table.add_column("Substatuses", min_width=10, overflow="fold")
        for st in statuses:
            rel = substatus_count(kb, st)
            table.add_row(t("" if st.api_code is None else st.api_code),
                          t(st.name, "bold"), t(st.api_name or ""),
                          t(severity_word(st), SEVERITY_STYLE.get(st.severity, "")), t(rel))
        tables.append(table)
    if subs or not statuses:
        table = _table(title if title and not statuses else "Substatuses")
        table.add_column("Code", justify="right", no_wrap=True)
        table.add_column("Substatus", min_width=12)
        table.add_column("API name", no_wrap=True, style="dim")
        table.add_column("Severity", width=8)
        table.add_column("Failover?", min_width=6, overflow="fold")
        if show_listed:
            table.add_column("Listed under", min_width=8, overflow="fold")
        for e in subs:
            assert isinstance(e, Substatus)
            under = listed_under(e)
            cells = [t("" if e.api_code is None else e.api_code),
                     t(e.name, "bold"), t(e.api_name or ""),
                     t(severity_word(e), SEVERITY_STYLE.get(e.severity, "")),
                     t(failover_text(documented_failover(e), short=True))]
            table.add_row(*cells, *([t(under)] if show_listed else []))
        tables.append(table)
    return tables


#: Below this width a table cannot hold its columns without splitting API
#: names or words: entries are stacked instead.
NARROW = 100


def entries_stacked(kb: KnowledgeBase, entries: list[Entry], title: str | None, show_listed: bool) -> list[Any]:
    out: list[Any] = [t(title or "", "bold underline")] if title else []
    for e in entries:
        code = "" if e.api_code is None else f"{e.api_code} "
        line = Text.assemble(t(code), t(e.name, "bold"))
        if e.api_name:
            line.append_text(Text.assemble(" · API ", t(e.api_name, "dim")))
        out.append(line)
        facts = [t(severity_word(e), SEVERITY_STYLE.get(e.severity, ""))]
        if isinstance(e, Status):
            facts.append(t(f"substatuses: {substatus_count(kb, e)}"))
        else:
            facts.append(t(f"failover: {failover_text(documented_failover(e), short=True)}"))
            if show_listed:
                facts.append(t(f"under: {listed_under(e)}"))
        out.append(Text("  ") + Text(" · ").join(facts))
    return out


def print_entries(kb: KnowledgeBase, entries: list[Entry], title: str | None = None,
                  note: str | None = None, show_listed: bool = True) -> None:
    if console().width < NARROW:
        tables = entries_stacked(kb, entries, title, show_listed)
    else:
        tables = entries_tables(kb, entries, title, show_listed)
    emit(*([t(note, "dim")] if note else []), *tables)
