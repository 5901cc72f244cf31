"""What annotate adds to an API object, and how: the `zvpg` member, built
from the object's row (`zvpg_cli.triage.rows`), appended before the object's closing
brace so every original byte survives; and the text of an original member
for a table or CSV cell."""

from __future__ import annotations

import re
from typing import Any

import msgspec

from ..knowledge.decoding import Decoded
from ..knowledge.model import KnowledgeBase, Severity, Substatus
from ..sources.payload import RawText
from ..triage.rows import Row


def summary(d: Decoded) -> str | None:
    """The short explanation of a decoded value."""
    if d.no_substatus:
        return None
    e = d.entry
    if e is None:
        return None
    if isinstance(e, Substatus):
        if e.comment:
            return e.comment
        if e.description:
            first, dot, _ = e.description.partition(". ")
            return first + ("." if dot else "")
        return None
    return e.meaning


def _decoded_json(kb: KnowledgeBase, d: Decoded | None, value: Any) -> Any:
    if d is None:
        if value is msgspec.UNSET:
            return None
        return {"value": _plain(value), "code": None, "name": None, "api_name": None, "known": False,
                "summary": None}
    meaning = kb.no_substatus.meaning if d.no_substatus and kb.no_substatus else summary(d)
    return {"value": _plain(value), "code": d.code, "name": d.name, "api_name": d.api_name, "known": d.known,
            "summary": meaning}


def _plain(value: Any) -> Any:
    return str(value) if isinstance(value, RawText) else value


def annotation_dict(kb: KnowledgeBase, row: Row) -> dict[str, Any]:
    """The value of the `zvpg` key added to an object: its decoded codes and
    its row's verdict (as triage judges it, without thresholds)."""
    v = row.verdict
    a, f = v.annotation, row.failover
    pair = a.pair
    return {
        "status": _decoded_json(kb, pair.status if pair else None, a.status_value),
        "substatus": _decoded_json(kb, pair.substatus if pair else None, a.substatus_value),
        "severity": None if row.severity is Severity.UNKNOWN else row.severity.value,
        "recovery": v.recovery,
        "recovery_condition": f.condition,
        "failover_possible": f.possible,
        "failover_basis": f.basis,
        "protection_halted": v.protection_halted,
        "listed": pair.listed if pair else None,
        "reasons": list(row.reasons),
        "basis": {k: v for k, v in row.basis.items() if k != "grace_until"},
    }


def fragment(kb: KnowledgeBase, row: Row) -> bytes:
    """The member `"zvpg":{...}` that annotate adds to an object, as UTF-8 JSON."""
    import json

    body = json.dumps(annotation_dict(kb, row), ensure_ascii=False, separators=(",", ":"))
    return b'"zvpg":' + body.encode("utf-8")


_EMPTY_OBJECT = re.compile(rb"\{\s*\}")
_LEADING_WS = re.compile(rb"\{([ \t\r\n]*)")
_WS = frozenset(b" \t\r\n")


def pieces(raw: bytes, fragment: bytes) -> tuple[bytes | memoryview, ...]:
    """`raw` (an object's bytes) with `fragment` added as its last member, as
    pieces to join: the original bytes are not copied. A pretty-printed object
    gets the fragment on a line of its own, indented like its first member."""
    view = memoryview(raw)
    if _EMPTY_OBJECT.fullmatch(view):
        return (b"{", fragment, b"}")
    last = len(view) - 1  # the closing brace
    end = last
    while view[end - 1] in _WS:
        end -= 1
    if end == last:
        return (view[:end], b",", fragment, b"}")
    indent = _LEADING_WS.match(view)
    separator = b"," + (indent.group(1) if indent and indent.group(1) else b" ")
    return (view[:end], separator, fragment, view[end:])


def single_line(obj: bytes) -> bytes:
    """An object's JSON on one line. Outside strings JSON holds CR and LF only
    as white space (inside strings they must be escaped), so no value changes."""
    return obj.replace(b"\r", b"").replace(b"\n", b"")


def cell_text(raw: msgspec.Raw | msgspec.UnsetType | None) -> str:
    """A raw member as text for a table or CSV cell: strings unquoted, numbers
    exactly as written, null empty, objects and arrays as their JSON."""
    if raw is None or raw is msgspec.UNSET:
        return ""
    text = bytes(raw)
    if text[:1] == b'"':
        if b"\\" not in text:  # no escapes: the text between the quotes (the common case)
            return text[1:-1].decode("utf-8")
        return str(msgspec.json.decode(text))
    if text == b"null":
        return ""
    return text.decode("utf-8")
