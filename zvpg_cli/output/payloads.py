"""Writers for annotated API payloads: JSON and NDJSON byte streams (lossless,
in large chunks), and table / CSV views for people and spreadsheets."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from msgspec import UNSET as _UNSET

from ..model import KnowledgeBase
from ..payload import Annotation, Payload, Reporter, annotate_head, cell_text, json_chunks, pair_key
from ..sanitize import printable
from ..writer import write, write_bytes
from .views import failover_short

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
    """Cell texts per object for `columns` (untrusted text, not yet escaped)."""
    for cols in column_batches(kb, payload, columns, report, batch):
        yield from map(list, zip(*cols, strict=True))


#: Columns whose text follows from the Status/SubStatus pair alone (when the pair is known).
_VERDICT_COLUMNS = frozenset(("status", "substatus", "severity", "failover"))


def column_batches(kb: KnowledgeBase, payload: Payload, columns: list[str], report: Reporter,
                   batch: int = 4096) -> Iterator[list[list[str]]]:
    """The cells of `batch` objects at a time, column by column (untrusted
    text, not yet escaped): what `_cell` gives for each object and column.

    Per batch one msgspec pass decodes only the fields the columns read, to
    Python values; a column that follows from the Status/SubStatus pair gets
    one text per pair, shared. Strings, nulls, missing fields and integers
    other than 0 have the same text as their raw JSON; an object with any
    other value (a float, 0, true, an object), or with a pair whose text
    needs its raw codes, is done the exact way (`_cell` over raw members),
    as is a whole batch msgspec cannot decode to Python values."""
    import msgspec

    names = list(dict.fromkeys(n for c in columns for n in _READS.get(c, (c,))))
    slots = [f"f{i}" for i in range(len(names))]
    rename = dict(zip(slots, names, strict=True))
    raw_cells: Any = msgspec.defstruct("Cells", [(f, msgspec.Raw, None) for f in slots], rename=rename)
    cells: Any = msgspec.defstruct("Values", [(f, Any, msgspec.UNSET) for f in slots], rename=rename)
    at = {n: i for i, n in enumerate(names)}
    verdicts: dict[Any, int] = {}  # pair key -> index into `annotations`
    annotations: list[Annotation] = []
    texts: list[list[str | None]] = []  # per verdict, per column: its text, or None when computed per object
    fast = not payload.raw_codes
    items, heads = payload.items, payload.heads
    for start in range(0, len(items), batch):
        part = items[start:start + batch]
        joined = b"[" + b",".join([memoryview(r) for r in part]) + b"]"
        which = []
        for head in heads[start:start + batch]:
            key = (head.Status, head.SubStatus) if fast else pair_key(head)
            v = verdicts.get(key)
            if v is None:
                v = verdicts[key] = len(annotations)
                a = annotate_head(kb, head)
                annotations.append(a)
                texts.append([_verdict_cell(c, a) if c in _VERDICT_COLUMNS else None for c in columns])
            which.append(v)
        if any(annotations[v].problems for v in set(which)):
            for index, v in enumerate(which, start):
                if annotations[v].problems:
                    report(index, annotations[v])
        try:
            values = list(zip(*map(msgspec.structs.astuple, msgspec.json.decode(joined, type=list[cells])),
                              strict=True)) or [()] * len(names)
        except (msgspec.ValidationError, msgspec.DecodeError, RecursionError):
            values = None
        cols: list[list[str | None]] = []
        if values is not None:
            for k, c in enumerate(columns):
                if c in _VERDICT_COLUMNS:
                    cols.append([texts[v][k] for v in which])
                elif c == "name":
                    cols.append([_plain_text(n if n is not msgspec.UNSET else m)
                                 for n, m in zip(values[at["VpgName"]], values[at["VmName"]], strict=True)])
                elif c == "rpo":
                    cols.append([_rpo_text(_plain_text(x), _plain_text(y)) for x, y in
                                 zip(values[at["ActualRPO"]], values[at["ConfiguredRpoSeconds"]], strict=True)])
                else:
                    cols.append([_plain_text(x) for x in values[at[_READS.get(c, (c,))[0]]]])
            odd = {i for col in cols for i, text in enumerate(col) if text is None} if any(
                None in col for col in cols) else set()
        else:
            odd = set(range(len(part)))
            cols = [[None] * len(part) for _ in columns]
        if odd:  # the exact way, from the raw members
            decoded = msgspec.json.decode(b"[" + b",".join([memoryview(part[i]) for i in sorted(odd)]) + b"]",
                                          type=list[raw_cells])
            for i, obj in zip(sorted(odd), decoded, strict=True):
                members = dict(zip(names, msgspec.structs.astuple(obj), strict=True))
                for col, c in zip(cols, columns, strict=True):
                    col[i] = _cell(c, members, annotations[which[i]])
        yield cols  # type: ignore[misc]  # (no None is left)


def _plain_text(value: Any) -> str | None:
    """`cell_text` of a value whose raw JSON it can tell from the value
    alone (strings, null, missing, an integer other than 0: JSON writes
    those one way); None for any other value."""
    if type(value) is str:
        return value
    if value is None or value is _UNSET:
        return ""
    if type(value) is int and value:
        return str(value)
    return None


def _rpo_text(actual: str | None, configured: str | None) -> str | None:
    if actual is None or configured is None:
        return None
    return f"{actual or '?'}s / {configured or '?'}s" if actual or configured else ""


def _verdict_cell(column: str, a: Annotation) -> str | None:
    """The text of a column that follows from the pair, or None where it
    needs the object's raw codes (an unknown status or substatus)."""
    pair = a.pair
    if column == "status" and pair is not None and not pair.status.name:
        return None
    if column == "substatus" and pair is not None and pair.substatus is not None and not (
            pair.substatus.no_substatus or pair.substatus.name):
        return None
    return _cell(column, {}, a)


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
    shared: dict[str, str] = {}  # a verdict's text, escaped and defused once
    for cols in column_batches(kb, payload, columns, report):
        safe = []
        for c, col in zip(columns, cols, strict=True):
            if c in _VERDICT_COLUMNS:
                safe.append([shared.get(t) or shared.setdefault(t, _defuse(printable(t))) for t in col])
            else:  # (a text that is printable ASCII and starts harmlessly needs nothing)
                safe.append([t if t.isascii() and t.isprintable() and t[:1] not in _RISKY else _defuse(printable(t))
                             for t in col])
        w.writerows(zip(*safe, strict=True))
        if buf.tell() > 1 << 20:
            write(buf.getvalue())
            buf.seek(0)
            buf.truncate()
    write(buf.getvalue())


_RISKY = frozenset(("=", "+", "-", "@", "\t", "\r"))


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

    from rich.cells import cell_len

    from .human import console

    out = console()
    styled = _Styler(out)
    headers = [printable(HEADERS.get(c, c)) for c in columns]

    def severity(column: str, text: str) -> str:
        return text if column != "severity" or styled.plain else styled(text, SEVERITY_STYLES.get(text, ""))

    widths: list[int] = []
    # Each row: its first column (the name, different in every row) laid out per row, the
    # rest (statuses, failover, RPO: few distinct combinations) laid out once per combination.
    first = 0 if columns[0] in _VERDICT_COLUMNS else 1
    rest = list(range(first, len(columns)))
    tails: dict[tuple[str, ...], list[str]] = {}  # the rest's cells -> its lines, right ends stripped
    wrapped: dict[str, list[str]] = {}  # a first cell too wide for its column -> its lines

    def tail_lines(cells: tuple[str, ...]) -> list[str]:
        parts = [_segments(printable(cell), widths[k], columns[k], cell_len, severity)
                 for cell, k in zip(cells, rest, strict=True)]
        height = max(map(len, parts))
        return ["   ".join([p[i] if i < len(p) else " " * widths[k] for p, k in zip(parts, rest, strict=True)]).rstrip()
                for i in range(height)]

    started = False
    for cols in column_batches(kb, payload, columns, report, max(4096, TABLE_BATCH)):
        if not started:
            sample = [[printable(t) for t in row] for row in zip(*[c[:TABLE_BATCH] for c in cols], strict=True)]
            widths = _fit(columns, headers, sample, out.width, cell_len)
            _write_header(columns, headers, widths, styled, cell_len)
            started = True
        n = len(cols[0])
        if first:
            w, col = widths[0], columns[0]
            blank = " " * w
            heads: Any = [[t + " " * (w - len(t))] if t.isascii() and t.isprintable() and len(t) <= w
                          else wrapped.get(t) or _remember(wrapped, t, _segments(printable(t), w, col, cell_len,
                                                                                  severity))
                          for t in cols[0]]
        else:
            blank, heads = "", [[""]] * n
        keys = list(zip(*cols[first:], strict=True)) if rest else [()] * n
        lines: list[str] = []
        add = lines.append
        for head, key in zip(heads, keys, strict=True):
            tail = tails.get(key) if rest else [""]
            if tail is None:
                tail = tail_lines(key)
                if len(tails) < 100_000:
                    tails[key] = tail
            if len(head) == 1 and len(tail) == 1:
                t = tail[0]
                # (a row of one line keeps its leading space, as `_lines` lays it out)
                add((" " + head[0] + "   " + t) if t and first else (" " + t) if t else " " + head[0].rstrip())
                continue
            for i in range(max(len(head), len(tail))):
                h = head[i] if i < len(head) else blank
                t = tail[i] if i < len(tail) else ""
                add((" " + h + "   " + t) if t and first else (" " + t) if t else (" " + h).rstrip())
        write("\n".join(lines) + "\n")
    if not started:
        widths = _fit(columns, headers, [], out.width, cell_len)
        _write_header(columns, headers, widths, styled, cell_len)
    n = len(payload.items)
    write(f"\n{n} object{'s' if n != 1 else ''}\n")


def _remember(cache: dict[Any, list[str]], key: Any, lines: list[str]) -> list[str]:
    if len(cache) < 10_000:
        cache[key] = lines
    return lines


def _write_header(columns: list[str], headers: list[str], widths: list[int], styled: Any, cell_len: Any) -> None:
    header = _lines(headers, widths, columns, cell_len, lambda c, text: styled(text, "table.header"))
    rule = " " + styled("─" * (sum(widths) + 3 * (len(widths) - 1)), "table.header")
    write("\n" + "\n".join([*header, rule]) + "\n")


def _segments(text: str, width: int, column: str, cell_len: Any, style: Any) -> list[str]:
    """A cell's lines at its column's width, styled and padded (as `_lines` lays them out)."""
    import textwrap

    def width_of(t: str) -> int:
        return len(t) if t.isascii() else int(cell_len(t))

    n = width_of(text)
    if n <= width:
        return [style(column, text) + " " * (width - n)]
    key = (text, width)
    hit = _WRAPPED.get(key)
    if hit is None:
        hit = textwrap.wrap(text, width, break_on_hyphens=False) or [""]
        if len(_WRAPPED) < 50_000:
            _WRAPPED[key] = hit
    return [style(column, part) + " " * max(0, width - width_of(part)) for part in hit]


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
