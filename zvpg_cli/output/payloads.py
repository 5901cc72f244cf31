"""Writers for annotated API payloads: JSON and NDJSON (lossless: every
original byte kept, a `zvpg` member added), and table / CSV views for people
and spreadsheets. Each is a plain loop over the payload's rows
(`zvpg_cli.triage.rows`)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import msgspec

from ..base.sanitize import json_safe, printable
from ..base.units import number
from ..base.writer import error, write, write_bytes
from ..knowledge.model import KnowledgeBase
from ..sources.payload import _CODES, _IDENTITY, Payload
from ..triage.rows import Row
from .annotate import cell_text, fragment, pieces, single_line
from .views import failover_text

#: Columns zvpg computes (see HEADERS); any other name is an API object's top-level field.
DEFAULT_FIELDS = ["name", "status", "substatus", "severity", "failover", "actual_rpo", "configured_rpo"]
TABLE_FIELDS = ["name", "status", "substatus", "severity", "failover", "rpo"]
HEADERS = {"name": "Name", "status": "Status", "substatus": "Substatus", "severity": "Severity",
           "failover": "Failover?", "rpo": "RPO act / cfg", "actual_rpo": "Actual RPO",
           "configured_rpo": "Configured RPO"}

#: Called for each row whose codes zvpg cannot fully decode (cli: a warning on stderr).
Reporter = Callable[[Row], None]


def _reported(rows: list[Row], report: Reporter) -> list[Row]:
    for row in rows:
        if row.verdict.annotation.problems:
            report(row)
    return rows


# ---- JSON / NDJSON ----------------------------------------------------------------

def json_chunks(kb: KnowledgeBase, payload: Payload, rows: list[Row], *, ndjson: bool = False,
                per_chunk: int = 8192) -> Iterator[bytes]:
    """The annotated objects as JSON text, in chunks: separated by ",\n" (the
    inside of an array), or one per line (`ndjson`). Each distinct `zvpg`
    member is made once (rows share their pair's verdict, and the few the RPO
    rules raise share theirs) and followed, in the common case of a compact
    object, by its closing brace and separator, so that object costs one slice."""
    separator = b"\n" if ndjson else b",\n"
    #: what the member says -> the member, and what follows a compact object's last member
    shared: dict[tuple[Any, ...], tuple[bytes, bytes]] = {}
    out: list[bytes] = []
    items = payload.items
    for row in rows:
        obj = bytes(items[row.position])  # (a copy: slicing bytes is cheaper than slicing a memoryview)
        key = (id(row.verdict), row.severity, id(row.reasons), id(row.failover))  # the rows keep them alive
        found = shared.get(key)
        if found is None:
            member = fragment(kb, row)
            found = (member, b"," + member + b"}" + separator)
            if len(shared) < 100_000:
                shared[key] = found
        if not ndjson and obj[-2] not in _WS_OR_OPEN:  # compact and not empty: the common case
            out += (obj[:-1], found[1])
        else:
            obj = b"".join(pieces(obj, found[0]))
            if ndjson:
                out.append(single_line(obj))
            else:  # pretty-printed: its opening brace gets the indentation of its closing one
                out += (obj[obj.rfind(b"\n") + 1:-1].lstrip(b"}") if b"\n" in obj else b"", obj)
            out.append(separator)
        if len(out) >= per_chunk:
            yield json_safe(b"".join(out))
            out.clear()
    if out:
        chunk = json_safe(b"".join(out))
        yield chunk if ndjson else chunk[: -len(separator)]  # no separator after the last object


_WS_OR_OPEN = frozenset(b" \t\r\n{")


def write_json(kb: KnowledgeBase, payload: Payload, rows: list[Row], report: Reporter) -> None:
    """The input's objects, in order, each with the `zvpg` key; an array in,
    an array out; one object in, one object out; a wrapped array
    (`{"value": [...], "Count": N}`) in, the same wrapper out."""
    chunks = json_chunks(kb, payload, _reported(rows, report))
    if payload.single:
        write_bytes([*chunks, b"\n"])
        return
    head, tail = json_safe(payload.prefix), json_safe(payload.suffix).rstrip() + b"\n"
    if not payload.items:
        write_bytes([head, b"[]", tail])
        return
    write_bytes([head, b"[\n"])
    for chunk in chunks:
        write_bytes([chunk])
    write_bytes([_closing_space(payload.data), b"]", tail])


def _closing_space(array: bytes) -> bytes:
    """The white space before the array's closing bracket when it starts a
    line of its own (keeps a wrapped, indented array indented), else a newline."""
    i = len(array) - 1
    while i > 0 and array[i] in b" \t\r\n":
        i -= 1
    j = i - 1
    while j > 0 and array[j] in b" \t\r\n":
        j -= 1
    space = bytes(array[j + 1:i])
    return space if b"\n" in space else b"\n"


def write_ndjson(kb: KnowledgeBase, payload: Payload, rows: list[Row], report: Reporter) -> None:
    """One annotated object per line."""
    for chunk in json_chunks(kb, payload, _reported(rows, report), ndjson=True):
        write_bytes([chunk])


# ---- cells: the same row model as triage -------------------------------------------

_COMPUTED = frozenset(HEADERS)
#: The API fields zvpg reads, in every spelling: a column even where a payload lacks them.
_READ = frozenset((*_CODES, *_IDENTITY))
#: A top-level API field a column may name: printable, no quote or backslash, at most 100 characters.
_FIELD_NAME = re.compile(r'[^"\\\x00-\x1f\x7f-\x9f]{1,100}')


class FieldError(ValueError):
    """--fields names no column, or a column no object has (a usage error to show)."""


def parse_fields(spec: str | None, fmt: str) -> list[str]:
    """The columns --fields names for `fmt` (none for json and ndjson). Raises FieldError."""
    if fmt not in ("table", "csv"):
        return []
    if spec is None:
        return list(TABLE_FIELDS if fmt == "table" else DEFAULT_FIELDS)
    columns = [f.strip() for f in spec.split(",") if f.strip()]
    if not columns:
        raise FieldError("--fields names no column (e.g. --fields name,status,severity,VpgIdentifier)")
    for c in columns:
        if c not in _COMPUTED and (not _FIELD_NAME.fullmatch(c) or printable(c) != c):
            raise FieldError(f"--fields: {printable(repr(c))} is not a column: give {', '.join(HEADERS)} "
                             "or a top-level API field such as VpgIdentifier")
    return columns


def check_fields(payload: Payload, columns: list[str]) -> None:
    """A column naming a field no object of the payload has, and none that
    zvpg reads either (`VmName` of a VPG list is an empty column), is a
    misspelling: raises FieldError naming the columns there are."""
    own = [c for c in columns if c not in _COMPUTED and c not in _READ]
    if not own or not payload.items:
        return
    data = payload.data if not payload.single else b"[" + payload.data + b"]"
    present: dict[str, None] = {}
    for obj in msgspec.json.decode(data, type=list[dict[str, msgspec.Raw]]):
        present.update(dict.fromkeys(obj))
    missing = [c for c in own if c not in present]
    if missing:
        import difflib

        close = {k.casefold(): k for k in present}
        hints = [m for c in missing for m in difflib.get_close_matches(c.casefold(), list(close), 1, 0.6)]
        mean = f" (did you mean {', '.join(close[h] for h in hints)}?)" if hints else ""
        fields = ", ".join(list(present)[:40]) + (", ..." if len(present) > 40 else "")
        raise FieldError(printable(f"--fields: no object has {', '.join(map(repr, missing))}{mean}; the columns are "
                                   f"{', '.join(HEADERS)} and the objects' fields: {fields}"))


def cells(payload: Payload, rows: list[Row], columns: list[str]) -> Iterator[list[str]]:
    """Each row's cell texts for `columns` (untrusted text, not yet escaped).
    Names and RPOs come from the row (any spelling, VMs as `VM db01 (VPG
    ExportStuff)`); any other column is the object's own field, as written."""
    own = [c for c in columns if c not in _COMPUTED]
    raw: list[Any] = []
    if own:
        slots = [f"f{i}" for i in range(len(own))]
        struct: Any = msgspec.defstruct("Fields", [(f, msgspec.Raw, None) for f in slots],
                                        rename=dict(zip(slots, own, strict=True)))
        data = payload.data if not payload.single else b"[" + payload.data + b"]"
        raw = [msgspec.structs.astuple(s) for s in msgspec.json.decode(data, type=list[struct])]
    at = {c: i for i, c in enumerate(own)}
    shared: dict[tuple[Any, ...], list[str | None]] = {}  # what the verdict decides -> its cells (None: per row)
    for row in rows:
        key = (id(row.verdict), row.failover, row.severity, row.actual_rpo, row.configured_rpo)
        common = shared.get(key)
        if common is None:
            common = [None if c in at or c == "name" else _cell(c, row) for c in columns]
            if len(shared) < 100_000:
                shared[key] = common
        fields = raw[row.position] if own else ()
        yield [text if text is not None else cell_text(fields[at[c]]) if c in at else _cell(c, row)
               for c, text in zip(columns, common, strict=True)]


def _cell(column: str, row: Row) -> str:
    """The text of a computed column."""
    v = row.verdict
    if column == "name":
        return row.own_label if (row.name or row.kind == "vm") else ""
    if column == "status":
        return v.status_text if v.annotation.pair is not None else "(no Status)"
    if column == "substatus":
        return v.substatus_text
    if column == "failover":
        return failover_text(row.failover, short=True)
    if column == "severity":
        return row.severity.value
    a, c = row.actual_rpo, row.configured_rpo
    if column == "actual_rpo":
        return "" if a is None else number(a)
    if column == "configured_rpo":
        return "" if c is None else number(c)
    # rpo: "412s / 300s"
    if a is None and c is None:
        return ""
    return f"{'?' if a is None else number(a)}s / {'?' if c is None else number(c)}s"


# ---- CSV ---------------------------------------------------------------------------

def write_csv(payload: Payload, rows: list[Row], columns: list[str], report: Reporter) -> None:
    """CSV (RFC 4180 quoting) with a header row. Control and invisible
    formatting characters are shown as escapes (as on a terminal: CSV gets
    `cat`ed too, and a NUL breaks many readers); text that a spreadsheet would
    run as a formula (starting with = + - @ or a tab) gets a leading quote."""
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(columns)
    for row in cells(payload, _reported(rows, report), columns):
        w.writerow([t if t.isascii() and t.isprintable() and t[:1] not in _RISKY else _defuse(printable(t))
                    for t in row])
        if buf.tell() > 1 << 20:
            write(buf.getvalue())
            buf.seek(0)
            buf.truncate()
    write(buf.getvalue())


_RISKY = frozenset("=+-@\t\r")


def _defuse(text: str) -> str:
    if text[:1] in _RISKY and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# ---- a table for people --------------------------------------------------------------

#: The rows that set the column widths.
TABLE_SAMPLE = 2000


def write_table(payload: Payload, rows: list[Row], columns: list[str], report: Reporter) -> None:
    """A table for people: column widths from the headers and the first rows,
    fitted to the terminal (80 columns off a terminal, or $COLUMNS); cells wrap
    at spaces (never at a hyphen), severities and RPOs never. Where the words
    cannot fit side by side, each object is stacked: its first column on a
    line, the others below it."""
    from itertools import chain

    from rich.cells import cell_len

    from .human import SEVERITY_STYLE, console, fit

    out = console()
    styled = _Styler(out)
    headers = [printable(HEADERS.get(c, c)) for c in columns]

    def style(column: str, text: str) -> str:
        return text if column != "severity" else styled(text, SEVERITY_STYLE.get(text, ""))

    texts = cells(payload, _reported(rows, report), columns)
    sample = []
    for row in texts:
        sample.append(row)
        if len(sample) == TABLE_SAMPLE:
            break
    widths = fit(headers, [[printable(t) for t in row] for row in sample], out.width - 1 - 3 * (len(columns) - 1),
                 [c in _WHOLE for c in columns])
    if widths is None:
        lines = _stacked(headers, chain(sample, texts), columns, out.width, styled)
    else:
        _write_header(columns, headers, widths, styled, cell_len)
        layout = _Layout(widths, columns, cell_len, style)
        lines = (line for row in chain(sample, texts) for line in layout.lines(row))
    batch: list[str] = []
    for line in lines:
        batch.append(line)
        if len(batch) >= 4096:
            write("\n".join(batch) + "\n")
            batch.clear()
    if batch:
        write("\n".join(batch) + "\n")
    write(f"\n{len(rows)} object{'s' if len(rows) != 1 else ''}\n")


#: Columns never wrapped: a severity is one word, an RPO (`1807s / 600s`) one value.
_WHOLE = frozenset({"severity", "rpo"})


def _stacked(headers: list[str], rows: Iterator[list[str]], columns: list[str], width: int,
             styled: Any) -> Iterator[str]:
    """Rows too wide for a table, one under another: the first column on a
    line, the others joined with ` · ` below it (wrapped at spaces, an RPO
    kept whole), under a header that reads the same way."""
    from rich.cells import cell_len

    from .human import wrap

    def tail(cells: list[str]) -> list[str]:
        text = " · ".join((printable(c).replace(" ", "\xa0") if col in _WHOLE else printable(c)) or "-"
                          for col, c in zip(columns[1:], cells, strict=True))
        return ["   " + line for line in wrap(text, width - 3)]

    head = [" " + line for line in wrap(headers[0], width - 1)]
    if len(columns) > 1:
        head += tail(headers[1:])
    rule = " " + "─" * (max(map(cell_len, head)) - 1)
    write("\n" + "\n".join([styled(line, "table.header") for line in head] + [styled(rule, "table.header")]) + "\n")
    tails: dict[tuple[str, ...], list[str]] = {}
    for row in rows:
        yield from (" " + line for line in wrap(printable(row[0]), width - 1))
        key = tuple(row[1:])
        found = tails.get(key)
        if found is None:
            found = tail(row[1:]) if key else []
            if len(tails) < 100_000:
                tails[key] = found
        yield from found


def _write_header(columns: list[str], headers: list[str], widths: list[int], styled: Any, cell_len: Any) -> None:
    header = _Layout(widths, columns, cell_len, lambda c, text: styled(text, "table.header")).lines(headers)
    rule = " " + styled("─" * (sum(widths) + 3 * (len(widths) - 1)), "table.header")
    write("\n" + "\n".join([*header, rule]) + "\n")


class _Styler:
    """Text in a rich style, as the console would print it (colours only on a
    terminal or with FORCE_COLOR; nothing under NO_COLOR): rendered once per
    (text, style) by rich and reused."""

    def __init__(self, out: Any) -> None:
        self.out = out
        self.plain = not (out.is_terminal and out.color_system)
        self.cache: dict[tuple[str, str], str] = {}

    def __call__(self, text: str, style: str) -> str:
        if self.plain or not style or not text:
            return text
        key = (text, style)
        hit = self.cache.get(key)
        if hit is None:
            from rich.text import Text

            with self.out.capture() as captured:
                self.out.print(Text(text, style=style), end="", soft_wrap=True)
            hit = captured.get()
            if len(self.cache) < 10_000:
                self.cache[key] = hit
        return hit


class _Layout:
    """Table rows as lines of text: each cell escaped (`printable`), wrapped at
    spaces to its column's width (a word broken only where it is longer than
    the column), padded and styled. What follows the first column (statuses,
    failover, RPOs: few distinct combinations) is laid out once per
    combination and reused; the first column (a name) once per row."""

    def __init__(self, widths: list[int], columns: list[str], cell_len: Any, style: Any) -> None:
        self.widths, self.columns, self.cell_len, self.style = widths, columns, cell_len, style
        self.tails: dict[tuple[str, ...], list[str]] = {}
        self.cells: dict[tuple[int, str], list[str]] = {}  # a cell after the first -> its lines

    def cell(self, k: int, text: str) -> list[str]:
        w, col = self.widths[k], self.columns[k]
        if text.isascii() and text.isprintable():
            if len(text) <= w:  # fits on one line (the common case)
                return [self.style(col, text) + " " * (w - len(text))]
        else:
            text = printable(text)
        if self._width(text) <= w:
            parts = [text]
        else:
            from .human import wrap

            parts = wrap(text, w)
        return [self.style(col, part) + " " * max(0, w - self._width(part)) for part in parts]

    def _tail_cell(self, k: int, text: str) -> list[str]:
        """`cell` of a column after the first: few distinct texts, each laid out once."""
        found = self.cells.get((k, text))
        if found is None:
            found = self.cell(k, text)
            if len(self.cells) < 100_000:
                self.cells[(k, text)] = found
        return found

    def _width(self, text: str) -> int:
        return len(text) if text.isascii() else int(self.cell_len(text))

    def _joined(self, parts: list[list[str]], start: int) -> list[str]:
        height = max(map(len, parts), default=1)
        widths = self.widths[start:]
        return ["   ".join([p[i] if i < len(p) else " " * w for p, w in zip(parts, widths, strict=True)])
                for i in range(height)]

    def lines(self, cells: list[str]) -> list[str]:
        key = tuple(cells[1:])
        tail = self.tails.get(key)
        if tail is None:
            tail = self._joined([self._tail_cell(k, c) for k, c in enumerate(cells[1:], 1)], 1)
            if len(self.tails) < 100_000:
                self.tails[key] = tail
        head = self.cell(0, cells[0])
        if len(head) == 1 and len(tail) == 1:  # one line (the common case)
            return [(" " + head[0] + "   " + tail[0]).rstrip() if key else (" " + head[0]).rstrip()]
        blank = " " * self.widths[0]
        return [(" " + (head[i] if i < len(head) else blank)
                 + ("   " + tail[i] if i < len(tail) and key else "")).rstrip()
                for i in range(max(len(head), len(tail)))]


#: annotate's formats, each with its writer (the one place a format is chosen).
FORMATS: dict[str, Callable[[KnowledgeBase, Payload, list[Row], list[str], Reporter], None]] = {
    "json": lambda kb, payload, rows, columns, report: write_json(kb, payload, rows, report),
    "ndjson": lambda kb, payload, rows, columns, report: write_ndjson(kb, payload, rows, report),
    "csv": lambda kb, payload, rows, columns, report: write_csv(payload, rows, columns, report),
    "table": lambda kb, payload, rows, columns, report: write_table(payload, rows, columns, report),
}


def render(kb: KnowledgeBase, payload: Payload, rows: list[Row], fmt: str, columns: list[str],
           report: Reporter) -> None:
    """Write the annotated payload in `fmt` (a name in FORMATS); `columns` for table and csv."""
    FORMATS[fmt](kb, payload, rows, columns, report)


class _Warnings:
    """Warnings for objects zvpg cannot fully decode: the first few by index,
    then a count, so a large payload cannot flood the terminal."""

    SHOWN = 20

    def __init__(self) -> None:
        self.flagged = 0

    def __call__(self, row: Row) -> None:
        self.flagged += 1
        if self.flagged <= self.SHOWN:
            error(printable(f"zvpg: warning: object {row.position}: {'; '.join(row.verdict.annotation.problems)} "
                            "(kept as given, flagged \"known\": false)"))

    def finish(self) -> None:
        if self.flagged > self.SHOWN:
            error(f"zvpg: warning: {self.flagged - self.SHOWN} more objects with unknown or missing codes "
                  f"({self.flagged} in all)")


def annotate(kb: KnowledgeBase, payload: Payload, fmt: str, columns: list[str], vpg: tuple[str, ...] = (),
             exclude: tuple[str, ...] = ()) -> list[Row]:
    """A whole `zvpg annotate` request: the rows `vpg`/`exclude` keep, written
    in `fmt` (`columns`: `parse_fields`), a warning on stderr for each object
    zvpg cannot fully decode. The rows written; raises FieldError."""
    from ..triage.report import select

    check_fields(payload, columns)
    rows = select(kb, payload, vpg, exclude)
    warnings = _Warnings()
    render(kb, payload, rows, fmt, columns, warnings)
    warnings.finish()
    return rows
