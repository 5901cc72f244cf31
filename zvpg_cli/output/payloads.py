"""Writers for annotated API payloads: JSON and NDJSON byte streams (lossless,
in large chunks), and table / CSV views for people and spreadsheets."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from ..model import KnowledgeBase
from ..payload import Annotation, Payload, Reporter, annotate_all, cell_text, fields, json_chunks
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


def rows(kb: KnowledgeBase, payload: Payload, columns: list[str], report: Reporter) -> Iterator[list[str]]:
    """Cell texts per object for `columns` (untrusted text, not yet escaped)."""
    for (index, a), raw in zip(annotate_all(kb, payload), payload.items, strict=True):
        if a.problems:
            report(index, a)
        members = fields(raw)
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


def write_table(kb: KnowledgeBase, payload: Payload, columns: list[str], report: Reporter) -> None:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from .human import SEVERITY_STYLE, emit

    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for c in columns:
        header = printable(HEADERS.get(c, c))  # --fields is user text: as Text, never markup
        table.add_column(Text(header), overflow="fold", no_wrap=c == "severity", min_width=min(len(header), 14))
    for row in rows(kb, payload, columns, report):
        table.add_row(*(Text(printable(value), style=SEVERITY_STYLE.get(value, "") if c == "severity" else "")
                        for c, value in zip(columns, row, strict=True)))
    n = len(payload.items)
    emit(table, Text(f"{n} object{'s' if n != 1 else ''}"))


def parse_fields(spec: str | None, table: bool = False) -> list[str]:
    if not spec:
        return list(TABLE_FIELDS if table else DEFAULT_FIELDS)
    return [f.strip() for f in spec.split(",") if f.strip()]
