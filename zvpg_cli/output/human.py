"""Rich views for people. Rich honours NO_COLOR, FORCE_COLOR, TERM=dumb and
COLUMNS itself; off a terminal it writes plain text without escape codes."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any, cast

from rich import box
from rich.cells import cell_len
from rich.console import Console, Group
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from ..base.sanitize import printable
from ..base.writer import OutputError, environment, write
from ..knowledge.decoding import documented_failover
from ..knowledge.model import Entry, KnowledgeBase, Status, Substatus
from .views import Section, failover_text, listed_under, severity_word, substatus_count

#: The colour of each severity, for people (every rich output reads it; None: the knowledge base has none).
SEVERITY_STYLE = {"ok": "green", "warning": "yellow", "critical": "bold red", "unknown": "magenta", None: "magenta"}


def console(stderr: bool = False) -> Console:
    env = environment()
    return Console(file=env.stderr if stderr else env.stdout, highlight=False, soft_wrap=False)


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


def render_sections(title: str, subtitle: str, sections: list[Section], width: int | None = None) -> Group:
    """The sections under a title line; the subtitle goes on a line of its own
    where the two do not fit `width` together."""
    apart = width is not None and cell_len(title) + 2 + cell_len(subtitle) > width
    parts: list[Any] = [Text.assemble(t(title, "bold"), "\n" if apart else "  ", t(subtitle, "dim"))]
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
    emit(render_sections(title, subtitle, sections, console().width))


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


# ---- fitting a table to the width, or stacking its rows ------------------------------

def fit(headers: Sequence[str], rows: Sequence[Sequence[str]], room: int, whole: Sequence[bool]) -> list[int] | None:
    """Column widths for a table of plain-text cells that fit in `room` cells
    (the edges and gaps left out) without breaking a word or a number: each
    column as wide as its widest cell or header, narrowed where it has to be,
    the column with the most to give first, down to its header's width, then
    down to its longest word. A `whole` column (a severity, an RPO) is never
    wrapped: no narrower than its widest cell. None when even that is too
    wide: the caller stacks the rows instead."""
    def longest_word(text: str) -> int:
        return max((cell_len(w) for w in text.split()), default=0)

    natural = [max([cell_len(h), *(cell_len(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    least = [max([longest_word(h), *((cell_len(r[i]) if keep else longest_word(r[i])) for r in rows), 1])
             for i, (h, keep) in enumerate(zip(headers, whole, strict=True))]
    widths = list(natural)
    for floor in ([max(w, cell_len(h)) for w, h in zip(least, headers, strict=True)], least):
        while sum(widths) > room:
            i = max(range(len(widths)), key=lambda k: widths[k] - floor[k])
            if widths[i] <= floor[i]:
                break
            widths[i] -= 1
    return widths if sum(widths) <= room else None


def fitted(table: Table, width: int) -> bool:
    """Give `table` (plain `Text` cells, zvpg's table style: an edge of one
    space each side, three spaces between columns) column widths that fit
    `width` without breaking a word (`fit`); False, leaving it as it is, when
    no widths can. A `no_wrap` column is never narrowed below its widest cell."""
    columns = table.columns
    headers = [getattr(c.header, "plain", str(c.header)) for c in columns]
    cells = [[getattr(cell, "plain", str(cell)) for cell in c.cells] for c in columns]
    rows = list(zip(*cells, strict=True))
    widths = fit(headers, rows, width - 2 - 3 * (len(columns) - 1), [c.no_wrap for c in columns])
    if widths is None:
        return False
    for column, w in zip(columns, widths, strict=True):
        column.width, column.min_width, column.max_width = w, None, None
    return True


def wrap(text: str, width: int, indent: int = 0) -> list[str]:
    """`text` in lines of at most `width` cells, broken at spaces only (a
    non-breaking space holds words together; the text's own leading spaces
    are kept), the lines after the first indented by `indent` spaces; a word
    longer than a line is the one thing ever broken."""
    body = text.lstrip(" ")
    lines: list[str] = []
    line, room = text[:len(text) - len(body)], width
    for word in body.split(" "):
        if line.strip(" ") and cell_len(line) + 1 + cell_len(word) <= room:
            line = f"{line} {word}"
            continue
        if line.strip(" "):
            lines.append(line)
            line, room = "", max(width - indent, 1)
        if cell_len(line) + cell_len(word) > room:  # longer than a line: the one place a word is broken
            piece, used = line, cell_len(line)
            for char in word:
                size = cell_len(char)
                if used + size > room and piece.strip(" "):
                    lines.append(piece)
                    piece, used, room = "", 0, max(width - indent, 1)
                piece, used = piece + char, used + size
            line, word = piece, ""
        line += word
    lines.append(line)
    pad = " " * indent
    return [(pad if i else "") + li.replace("\xa0", " ") for i, li in enumerate(lines)]


def entries_stacked(kb: KnowledgeBase, entries: list[Entry], title: str | None, show_listed: bool) -> list[Any]:
    """Entries one under another, for a terminal too narrow for their table:
    each under its heading, as the tables have it."""
    statuses = [e for e in entries if isinstance(e, Status)]
    subs = [e for e in entries if not isinstance(e, Status)]
    out: list[Any] = []
    for group, heading in ((statuses, title if title and not subs else "Statuses"),
                           (subs, title if title and not statuses else "Substatuses")):
        if not group and (group is statuses or statuses):
            continue
        if out:
            out.append(Text(""))
        out.append(t(heading, "table.title"))
        for e in group:
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
            out.append(Padding(Text(" · ").join(facts), (0, 0, 0, 2)))
    return out


def print_entries(kb: KnowledgeBase, entries: list[Entry], title: str | None = None,
                  note: str | None = None, show_listed: bool = True) -> None:
    """Tables where they fit the width without breaking a word, else the
    entries stacked."""
    tables: list[Any] = entries_tables(kb, entries, title, show_listed)
    if not all([fitted(table, console().width) for table in tables]):
        tables = entries_stacked(kb, entries, title, show_listed)
    emit(*([t(note, "dim")] if note else []), *tables)
