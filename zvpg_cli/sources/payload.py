"""Read ZVM REST API payloads (`GET /v1/vpgs`, `GET /v1/vms`) losslessly.

Each object is kept as its original bytes (msgspec.Raw); only `Status` and
`SubStatus` are decoded. Annotating an object appends one key, `zvpg`, before
its closing brace, so every original field and value survives exactly as
written: key order, unknown and nested fields, nulls, non-ASCII text, and
numbers no float64 or int64 could hold.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple, Union

import msgspec

from ..knowledge.decoding import DecodedPair, decode
from ..knowledge.model import KnowledgeBase
from .hygiene import MAX_DEPTH, decode_error, json_kind, nesting_depth, to_utf8, too_deep
from .hygiene import PayloadError as PayloadError  # (raised by parse: read from here too)
from .shape import SITE_MARKERS

_RawField = Union[msgspec.Raw, msgspec.UnsetType]  # noqa: UP007 - msgspec reads these at run time
_CodeField = Union[int, str, msgspec.UnsetType]  # noqa: UP007
#: Live ZVMs answer in PascalCase; the ZVM 10.x swagger documents camelCase.
#: Both are read; a camelCase code is moved to the PascalCase field after parsing.
_CODES = ("Status", "SubStatus", "status", "subStatus")

#: Each field of a row (`zvpg_cli.triage.rows`) and the API fields it is read from,
#: first found wins: PascalCase (live ZVMs), camelCase (the ZVM 10.x swagger)
#: and plain names (Zerto Analytics' lists). `rows` normalises them.
SPELLINGS = {
    "vpg_name": ("VpgName", "vpgName"),
    "vpg_identifier": ("VpgIdentifier", "vpgIdentifier"),
    "vm_name": ("VmName", "vmName"),
    "vm_identifier": ("VmIdentifier", "vmIdentifier"),
    "name": ("name",),
    "identifier": ("identifier",),
    "actual_rpo": ("ActualRPO", "actualRPO", "actualRpo"),
    "configured_rpo": ("ConfiguredRpoSeconds", "configuredRpoSeconds"),
    "progress": ("ProgressPercentage", "progressPercentage"),
}
_IDENTITY = tuple(f for spellings in SPELLINGS.values() for f in spellings)
#: What site health reads of a VPG besides its identity, kept raw and decoded
#: only where it is needed (`zvpg_cli.triage.site`): its last failover test,
#: a test running now, and the sites it replicates between.
SITE_FIELDS = ("LastTest", "ActiveProcessesApi", "ProtectedSite", "RecoverySite", "SourceSite", "TargetSite")
#: The members that mark an object of another part of a site (an alert, a VRA, a
#: peer site: `shape.SITE_MARKERS`), kept raw (None where missing): the payload's part
#: is then told from the heads of the one decode that reads it (`shape.parse_any`).
OTHER_MARKERS = tuple(name for names in SITE_MARKERS.values() for name in names)

# The only fields zvpg decodes from every object (its codes, and the fields of
# SPELLINGS), in one pass over the whole input; the rest of each object is
# skipped (and kept, as its raw bytes). Codes are ints or strings in every
# real payload: decoded as such they key the cache of verdicts directly. A
# payload with a code of any other type (true, 1.5, null, an object), or a
# number no Python value holds (a 5,000-digit integer), is decoded again with
# those fields raw, so that value is still echoed exactly. (gc=False: a head
# holds values decoded from JSON, which cannot refer back to it, so it is never
# part of a reference cycle; untracked, 100,000 heads take 1.6 MB less and
# decode faster.)
_Head: Any = msgspec.defstruct(
    "_Head", [(n, _CodeField, msgspec.UNSET) for n in _CODES] + [(f, Any, None) for f in _IDENTITY]
    + [(f, msgspec.Raw, None) for f in SITE_FIELDS + OTHER_MARKERS], gc=False)
_RawHead: Any = msgspec.defstruct(
    "_RawHead", [(n, _RawField, msgspec.UNSET) for n in _CODES] + [(f, msgspec.Raw, None) for f in _IDENTITY]
    + [(f, msgspec.Raw, None) for f in SITE_FIELDS + OTHER_MARKERS], gc=False)
#: The names that make an object one of a VPG or a VM, in any spelling (a payload
#: none of whose objects has a Status or any of these is data of another endpoint).
_NAMES = ("VpgName", "vpgName", "VmName", "vmName")


class Payload(NamedTuple):
    #: the UTF-8 text of the input (BOM removed, UTF-16/32 converted)
    data: bytes
    #: each object's original bytes
    items: list[msgspec.Raw]
    #: each object's Status / SubStatus (ints and strings, or raw where
    #: `raw_codes`) and the fields of SPELLINGS (None where missing)
    heads: list[Any]
    #: the input was one object, not an array
    single: bool
    #: the codes are msgspec.Raw (some code is neither an int nor a string)
    raw_codes: bool = False
    #: the text around the array when it came wrapped ({"value": [...], "Count": N}):
    #: annotate writes the same wrapper back
    prefix: bytes = b""
    suffix: bytes = b""


def parse(data: bytes, checked: bool = False) -> Payload:
    """Parse a JSON array of objects, one object, or an array wrapped the way
    Windows PowerShell writes it (`{"value": [...], "Count": N}`). Raises
    `PayloadError` for anything else, including data of other endpoints and
    Zerto Analytics codes (a different numbering). `checked`: the bytes
    passed `hygiene.check_json` already (a ZVM's answer): their encoding and
    nesting are not checked again."""
    data = to_utf8(data, checked)
    start = data.lstrip()[:1]
    if not start:
        raise PayloadError("input is empty: expected a JSON array of API objects, or one object")
    try:
        if start == b"[":
            items = msgspec.json.decode(data, type=list[msgspec.Raw])
            single = False
        else:
            items = [msgspec.json.decode(data, type=msgspec.Raw)]
            single = True
    except msgspec.DecodeError as exc:
        raise decode_error(data, exc) from None
    except RecursionError:  # msgspec's own limit, which depends on the Python version: always above MAX_DEPTH
        raise too_deep() from None
    # (an object of n bytes nests at most n/2 levels: most payloads need no scan)
    if not checked and max(map(len, items), default=0) > 2 * MAX_DEPTH and nesting_depth(data) > MAX_DEPTH:
        raise too_deep()
    if single and bytes(memoryview(items[0])[:1]) != b"{":
        kind = json_kind(bytes(memoryview(items[0])[:1]))
        raise PayloadError(f"input is a JSON {kind}: expected a JSON array of API objects, or one object")
    prefix = suffix = b""
    wrapper = _unwrap(data) if single else None
    if wrapper is not None:
        prefix, inner, suffix, wrapped_by = wrapper
        data, single = inner, False
        items = msgspec.json.decode(data, type=list[msgspec.Raw])
    array = data if not single else b"[" + data + b"]"
    raw_codes = False
    try:
        heads = msgspec.json.decode(array, type=list[_Head])
    except msgspec.ValidationError:
        raw_codes = True
        try:
            heads = [_python_identity(h) for h in msgspec.json.decode(array, type=list[_RawHead])]
        except msgspec.ValidationError as exc:  # an item that is not an object
            raise _item_error(items, exc) from None
    except (msgspec.DecodeError, RecursionError) as exc:  # pragma: no cover - already parsed above
        raise PayloadError(f"invalid JSON: {exc}") from None
    unset = msgspec.UNSET
    if any(h.status is not unset or h.subStatus is not unset for h in heads):  # camelCase (the 10.x swagger)
        heads = [_pascal(h) for h in heads]
    payload = Payload(data, items, heads, single, raw_codes, prefix, suffix)
    if wrapper is not None and wrapped_by == "vpgs":
        _check_analytics(heads)
    if items and all(h.Status is msgspec.UNSET for h in heads) and not any(map(_is_named, heads)):
        raise PayloadError(
            f"input does not look like VPG or VM data: none of its {len(items)} object"
            f"{'s' if len(items) != 1 else ''} has a Status, VpgName or VmName (data of another endpoint, "
            "such as /v1/alerts, /v1/events or /v1/vras?)")
    return payload


def _pascal(head: Any) -> Any:
    """A head with a camelCase status/subStatus moved to Status/SubStatus."""
    if (head.Status is not msgspec.UNSET or head.status is msgspec.UNSET) and (
            head.SubStatus is not msgspec.UNSET or head.subStatus is msgspec.UNSET):
        return head
    return msgspec.structs.replace(head, Status=head.status if head.Status is msgspec.UNSET else head.Status,
                                   SubStatus=head.subStatus if head.SubStatus is msgspec.UNSET else head.SubStatus)


def _is_named(head: Any) -> bool:
    return any(getattr(head, n) is not None for n in _NAMES)


def _python_identity(head: Any) -> Any:
    """A head decoded raw with its identity fields as Python values (codes stay raw)."""
    return msgspec.structs.replace(head, **{f: _python(getattr(head, f)) for f in _IDENTITY})


def _python(raw: msgspec.Raw | None) -> Any:
    if raw is None:
        return None
    try:
        return msgspec.json.decode(raw)
    except msgspec.ValidationError:  # 1E+400, an integer of 4,301+ digits
        return RawText(bytes(raw).decode("utf-8"))


#: The members that make a top-level object one VPG or VM, not a wrapper of them.
_IDENTITY_KEYS = frozenset(_CODES + _NAMES)


def _unwrap(data: bytes) -> tuple[bytes, bytes, bytes, str] | None:
    """(text before the array, the array, text after it, wrapper key) for a
    top-level object that wraps the objects: Windows PowerShell 5.1's
    `{"value": [...], "Count": N}` or Zerto Analytics' `{"vpgs": [...]}`."""
    try:
        members = msgspec.json.decode(data, type=dict[str, msgspec.Raw])
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):  # pragma: no cover - parsed already
        return None
    if members.keys() & _IDENTITY_KEYS:
        return None  # one VPG or VM object
    if "value" in members and members.keys() <= {"value", "Count"}:
        key = "value"
    elif "vpgs" in members:
        key = "vpgs"
    else:
        return None
    if bytes(memoryview(members[key])[:1]) != b"[":
        return None
    start, end = _member_span(data, members, key)
    return data[:start], data[start:end], data[end:], key


_MEMBER_KEY = re.compile(rb'[ \t\r\n]*("(?:[^"\\]|\\.)*")[ \t\r\n]*:[ \t\r\n]*')
_MEMBER_END = re.compile(rb"[ \t\r\n]*[,}]")


def _member_span(data: bytes, members: dict[str, msgspec.Raw], wanted: str) -> tuple[int, int]:
    """Where the value of member `wanted` lies in `data` (an object whose
    members are `members`, in order): every key is checked on the way, so a
    duplicate key or anything unexpected is an error, not a wrong span."""
    pos = data.index(b"{") + 1
    span = None
    for key, raw in members.items():
        m = _MEMBER_KEY.match(data, pos)
        if m is None or msgspec.json.decode(m.group(1)) != key:
            raise PayloadError("cannot read the wrapper object around the array (duplicate keys?)")
        pos = m.end()
        if key == wanted:
            span = (pos, pos + len(memoryview(raw)))
        pos += len(memoryview(raw))
        end = _MEMBER_END.match(data, pos)
        if end is None:
            raise PayloadError("cannot read the wrapper object around the array (duplicate keys?)")
        pos = end.end()
    if span is None or data[pos - 1:pos] != b"}" or data[pos:].strip():
        raise PayloadError("cannot read the wrapper object around the array (duplicate keys?)")
    return span


def _check_analytics(heads: list[Any]) -> None:
    """Zerto Analytics numbers statuses and substatuses its own way: its codes
    cannot be decoded with the ZVM's tables, its names can."""
    for h in heads:
        for value in (h.Status, h.SubStatus):
            if value is msgspec.UNSET:
                continue
            if not isinstance(value, str) or _looks_like_code(value):
                raise PayloadError(
                    'input looks like Zerto Analytics data ({"vpgs": [...]}): a different API that numbers '
                    "statuses and substatuses its own way, so its codes cannot be decoded with the ZVM REST "
                    "API's tables; read GET /v1/vpgs from the ZVM, or give statuses as names")


def _looks_like_code(value: str) -> bool:
    text = value.strip()
    return text.isascii() and text.lstrip("+-").isdigit()


def _item_error(items: list[msgspec.Raw], exc: Exception) -> PayloadError:
    match = re.search(r"at `\$\[(\d+)\]`$", str(exc))
    if match is None:  # pragma: no cover - msgspec names the item
        return PayloadError(f"unexpected JSON: {exc}")
    index = int(match.group(1))
    kind = json_kind(bytes(memoryview(items[index])[:1]))
    return PayloadError(f"item {index} of the array is a JSON {kind}, not an object")


#: An integer code longer than this is kept as its text (Python refuses to
#: convert integers of over 4,300 digits, and no API code comes near).
MAX_CODE_DIGITS = 100


class RawText(str):
    """A code of a type the API never sends (1.5, 1E+400, an object or array),
    echoed as its JSON text exactly as written."""


def raw_value(raw: Any) -> Any:
    """A Status/SubStatus as Python: int, str, or (for any other JSON value) its
    exact JSON text as `RawText`; UNSET stays UNSET."""
    if raw is msgspec.UNSET or isinstance(raw, (int, str)):
        return raw
    text = bytes(raw)
    if text[:1] in (b'"', b"t", b"f", b"n"):  # strings, true, false, null: exact in Python
        return msgspec.json.decode(text)
    if text.lstrip(b"-").isdigit() and len(text) <= MAX_CODE_DIGITS:
        return int(text)
    return RawText(text.decode("utf-8"))  # also integers too long to be a code: kept as written


class Annotation(NamedTuple):
    """What zvpg adds to one API object."""

    pair: DecodedPair | None  # None when the object has no Status
    status_value: Any
    substatus_value: Any
    problems: tuple[str, ...]


def annotate_head(kb: KnowledgeBase, head: Any) -> Annotation:
    status = raw_value(head.Status)
    substatus = raw_value(head.SubStatus)
    problems = []
    if status is msgspec.UNSET:
        problems.append("no Status")
        pair = None
    else:
        pair = decode(kb, _code_or_name(status), None if substatus is msgspec.UNSET else _code_or_name(substatus))
        if not pair.status.known:
            problems.append(f"unknown Status {show(status)}")
        if pair.substatus is not None and not pair.substatus.known:
            problems.append(f"unknown SubStatus {show(substatus)}")
    return Annotation(pair, status, substatus, tuple(problems))


def _code_or_name(value: Any) -> Any:
    """Ints and strings decode; anything else (true, 1.5, objects) is a wrong
    type, kept as given and reported unknown."""
    if isinstance(value, (bool, RawText)) or not isinstance(value, (int, str)):
        return _WrongType(value)
    return value


class _WrongType:
    """A code of a type decode must not read as a code or a name (true, 1.5,
    an object); it decodes as unknown. Annotations keep the value itself."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __repr__(self) -> str:
        return show(self.value)


def show(value: Any) -> str:
    """A Status/SubStatus value as given, short: `35`, `"Foo"`, `1.5`."""
    import json  # only for values it shows: off the monitoring path's start-up

    text = str(value) if isinstance(value, RawText) else json.dumps(value, ensure_ascii=True)
    return text if len(text) <= 40 else text[:37] + "..."


def pair_key(head: Any) -> tuple[Any, Any]:
    """A key for the object's Status and SubStatus: objects with equal keys
    are annotated alike. Ints and strings key as themselves; raw codes as
    their bytes (so 1.5 and 1.50 stay apart and are each echoed exactly)."""
    status, substatus = head.Status, head.SubStatus
    if isinstance(status, msgspec.Raw):
        status = (bytes(status),)
    if isinstance(substatus, msgspec.Raw):
        substatus = (bytes(substatus),)
    return (status, substatus)


