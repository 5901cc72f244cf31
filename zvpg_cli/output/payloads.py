"""Writers for annotated API payloads: JSON and NDJSON byte streams (lossless,
in large chunks), and table / CSV views for people and spreadsheets."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from ..model import KnowledgeBase
from ..payload import Annotation, Payload, Reporter, annotate_all, cell_text, json_chunks
from .sanitize import printable
from .views import failover_short
from .writer import write, write_bytes

#: Columns zvpg computes (see HEADERS); any other name is an API object's top-level field.
DEFAULT_FIELDS = ["name", "status", "substatus", "severity", "failover", "actual_rpo", "configured_rpo"]
TABLE_FIELDS = ["name", "status", "substatus", "severity", "failover", "rpo"]
HEADERS = {"name": "Name", "status": "Status", "substatus": "Substatus", "severity": "Severity",
           "failover": "Failover?", "rpo": "RPO act / cfg", "actual_rpo": "Actual RPO",
           "configured_rpo": "Configured RPO"}


def write_json(kb: KnowledgeBase, payload: Payload, report: Reporter) -> None:
    """The input's objects, in order, each with the `zvpg` key; an array in,
    an array out; one object in, one object out; a wrapped array
    (`{"value": [...], "Count": N}`) in, the same wrapper out."""
    if payload.single:
        write_bytes([*json_chunks(kb, payload, report), b"\n"])
        return
    head, tail = payload.prefix, payload.suffix.rstrip() + b"\n"
    if not payload.items:
        write_bytes([head, b"[]", tail])
        return
    write_bytes([head, b"[\n"])
    for chunk in json_chunks(kb, payload, report):
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


def write_ndjson(kb: KnowledgeBase, payload: Payload, report: Reporter) -> None:
    """One annotated object per line."""
    for chunk in json_chunks(kb, payload, report, ndjson=True):
        write_bytes([chunk])


#: The API fields each computed column reads (any other column is a field itself).
_READS = {"name": ("VpgName", "VmName"), "status": ("Status",), "substatus": ("SubStatus",),
          "rpo": ("ActualRPO", "ConfiguredRpoSeconds"), "actual_rpo": ("ActualRPO",),
          "configured_rpo": ("ConfiguredRpoSeconds",), "severity": (), "failover": ()}


def rows(kb: KnowledgeBase, payload: Payload, columns: list[str], report: Reporter,
         batch: int = 4096) -> Iterator[list[str]]:
    """Cell texts per object for `columns` (untrusted text, not yet escaped).
    Only the fields the columns read are decoded (kept raw: numbers keep
    their text), for `batch` objects at a time in one msgspec pass."""
    import msgspec

    names = list(dict.fromkeys(n for c in columns for n in _READS.get(c, (c,))))
    cells: Any = msgspec.defstruct("Cells", [(f"f{i}", msgspec.Raw, None) for i in range(len(names))],
                                   rename={f"f{i}": n for i, n in enumerate(names)})
    annotations = annotate_all(kb, payload)
    items = payload.items
    for start in range(0, len(items), batch):
        part = items[start:start + batch]
        decoded = msgspec.json.decode(b"[" + b",".join([memoryview(r) for r in part]) + b"]", type=list[cells])
        for obj, (index, a) in zip(decoded, annotations, strict=False):  # (decoded first: zip stops there)
            if a.problems:
                report(index, a)
            members = dict(zip(names, msgspec.structs.astuple(obj), strict=True))
            yield [_cell(c, members, a) for c in columns]


def _cell(column: str, members: dict[str, Any], a: Annotation) -> str:
    pair = a.pair
    if column == "name":
        return cell_text(members.get("VpgName") or members.get("VmName"))
    if column == "status":
        if pair is None:
            return "(no Status)"
        return pair.status.name or f"unknown {cell_text(members.get('Status'))}"
    if column == "substatus":
        if pair is None or pair.substatus is None:
            return ""
        if pair.substatus.no_substatus:
            return "none"
        return pair.substatus.name or f"unknown {cell_text(members.get('SubStatus'))}"
    if column == "severity":
        return (pair.severity if pair else None) or "unknown"
    if column == "failover":
        if pair is None:
            return failover_short(None)
        return failover_short(pair.failover.recovery, pair.failover.condition, pair.failover.basis)
    if column == "rpo":
        actual, configured = cell_text(members.get("ActualRPO")), cell_text(members.get("ConfiguredRpoSeconds"))
        return f"{actual or '?'}s / {configured or '?'}s" if actual or configured else ""
    if column == "actual_rpo":
        return cell_text(members.get("ActualRPO"))
    if column == "configured_rpo":
        return cell_text(members.get("ConfiguredRpoSeconds"))
    return cell_text(members.get(column))


def write_csv(kb: KnowledgeBase, payload: Payload, columns: list[str], report: Reporter) -> None:
    """CSV (RFC 4180 quoting) with a header row. Control and invisible
    formatting characters are shown as escapes (as on a terminal: CSV gets
    `cat`ed too, and a NUL breaks many readers); text that a spreadsheet would
    run as a formula (starting with = + - @ or a tab) gets a leading quote."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(columns)
    for row in rows(kb, payload, columns, report):
        w.writerow([_defuse(printable(c)) for c in row])
        if buf.tell() > 1 << 20:
            write(buf.getvalue())
            buf.seek(0)
            buf.truncate()
    write(buf.getvalue())


def _defuse(text: str) -> str:
    if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


#: Rows rendered per write; the first batch also sets the column widths.
TABLE_BATCH = 2000


def write_table(kb: KnowledgeBase, payload: Payload, columns: list[str], report: Reporter) -> None:
    """A table for people, streamed: column widths come from the headers and
    the first rows and fit the terminal (80 columns off a terminal, or
    $COLUMNS); then every row is laid out at those widths, a batch at a time,
    so 200,000 rows take seconds and little memory. Cells wrap at spaces
    (`textwrap`, never at a hyphen); a word is broken only where it is longer
    than its column can be, which the widths rule out for the first rows."""
    from itertools import islice

    from rich.cells import cell_len

    from .human import console

    out = console()
    styled = _Styler(out)
    headers = [printable(HEADERS.get(c, c)) for c in columns]
    source = rows(kb, payload, columns, report)
    batch = [[printable(cell) for cell in row] for row in islice(source, TABLE_BATCH)]
    widths = _fit(columns, headers, batch, out.width, cell_len)
    header = _lines(headers, widths, columns, cell_len, lambda c, text: styled(text, "table.header"))
    rule = " " + styled("─" * (sum(widths) + 3 * (len(widths) - 1)), "table.header")
    write("\n" + "\n".join([*header, rule]) + "\n")

    def severity(column: str, text: str) -> str:
        return text if column != "severity" or styled.plain else styled(text, SEVERITY_STYLES.get(text, ""))

    while batch:
        lines: list[str] = []
        for row in batch:
            lines += _lines(row, widths, columns, cell_len, severity)
        write("\n".join(lines) + "\n")
        batch = [[printable(cell) for cell in row] for row in islice(source, TABLE_BATCH)]
    n = len(payload.items)
    write(f"\n{n} object{'s' if n != 1 else ''}\n")


SEVERITY_STYLES = {"ok": "green", "warning": "yellow", "critical": "bold red", "unknown": "magenta"}


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


def _fit(columns: list[str], headers: list[str], sample: list[list[str]], width: int,
         cell_len: Any) -> list[int]:
    """Column widths: each column's widest cell (or header), narrowed to fit
    `width` where it can be without breaking a word or a header."""
    def longest_word(text: str) -> int:
        return max((cell_len(w) for w in text.split()), default=0)

    natural = [max([cell_len(h), *(cell_len(r[i]) for r in sample)]) for i, h in enumerate(headers)]
    words = [natural[i] if c == "severity" else max([longest_word(h), *(longest_word(r[i]) for r in sample), 1])
             for i, (c, h) in enumerate(zip(columns, headers, strict=True))]
    room = width - 1 - 3 * (len(columns) - 1)  # the left edge and three spaces between columns
    widths = list(natural)
    # narrow the column with the most to give, one cell at a time (few columns: cheap): first
    # down to its header's width, then (if that is not enough) down to its longest word
    for least in ([max(w, cell_len(h)) for w, h in zip(words, headers, strict=True)], words):
        while sum(widths) > room:
            i = max(range(len(widths)), key=lambda k: widths[k] - least[k])
            if widths[i] <= least[i]:
                break
            widths[i] -= 1
    return widths


_WRAPPED: dict[tuple[str, int], list[str]] = {}


def _lines(cells: list[str], widths: list[int], columns: list[str], cell_len: Any, style: Any) -> list[str]:
    """One table row as lines of text: each cell wrapped to its column's width."""
    import textwrap

    def width_of(text: str) -> int:
        return len(text) if text.isascii() else int(cell_len(text))

    sizes = [width_of(c) for c in cells]
    if all(n <= w for n, w in zip(sizes, widths, strict=True)):  # one line (the common case)
        return [" " + "   ".join(style(col, c) + " " * (w - n)
                                 for col, c, w, n in zip(columns, cells, widths, sizes, strict=True)).rstrip()]
    wrapped = []
    for c, w, n in zip(cells, widths, sizes, strict=True):
        if n <= w:
            wrapped.append([c])
            continue
        key = (c, w)
        hit = _WRAPPED.get(key)
        if hit is None:
            hit = textwrap.wrap(c, w, break_on_hyphens=False) or [""]
            if len(_WRAPPED) < 50_000:  # statuses, failover texts and RPOs repeat across rows
                _WRAPPED[key] = hit
        wrapped.append(hit)
    lines = []
    for k in range(max(map(len, wrapped))):
        parts = []
        for col, part, w in zip(columns, wrapped, widths, strict=True):
            text = part[k] if k < len(part) else ""
            parts.append(style(col, text) + " " * max(0, w - width_of(text)))
        lines.append((" " + "   ".join(parts)).rstrip())
    return lines


def parse_fields(spec: str | None, table: bool = False) -> list[str]:
    if not spec:
        return list(TABLE_FIELDS if table else DEFAULT_FIELDS)
    return [f.strip() for f in spec.split(",") if f.strip()]
