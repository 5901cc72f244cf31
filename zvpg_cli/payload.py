"""Read ZVM REST API payloads (`GET /v1/vpgs`, `GET /v1/vms`) losslessly.

Each object is kept as its original bytes (msgspec.Raw); only `Status` and
`SubStatus` are decoded. Annotating an object appends one key, `zvpg`, before
its closing brace, so every original field and value survives exactly as
written: key order, unknown and nested fields, nulls, non-ASCII text, and
numbers no float64 or int64 could hold.
"""

from __future__ import annotations

import codecs
import io
import os
import re
import stat
import sys
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple, Union

import msgspec

from .decode import Decoded, DecodedPair, decode
from .model import KnowledgeBase, Substatus

#: Input larger than this is refused (override with --max-bytes).
DEFAULT_MAX_BYTES = 512 * 1024 * 1024


class PayloadError(Exception):
    """Input that cannot be read; `str()` is one line saying what and where."""


def camel(name: str) -> str:
    """The camelCase spelling of a PascalCase API field (the 10.x swagger's)."""
    return name[:1].lower() + name[1:]


_RawField = Union[msgspec.Raw, msgspec.UnsetType]  # noqa: UP007 - msgspec reads these at run time
_CodeField = Union[int, str, msgspec.UnsetType]  # noqa: UP007
#: Live ZVMs answer in PascalCase; the ZVM 10.x swagger documents camelCase.
#: Both are read; a camelCase code is moved to the PascalCase field after parsing.
_CODES = ("Status", "SubStatus", "status", "subStatus")

# The only fields annotate decodes from every object, in one pass over the
# whole input; the rest of each object is skipped (and kept, as its raw
# bytes). Codes are ints or strings in every real payload: decoded as such
# they key the cache of annotations directly. A payload with a code of any
# other type (true, 1.5, null, an object) is decoded again with the codes kept
# raw, so that value is still echoed exactly.
#: A VM object's own identity (GET /v1/vms), kept raw: whether a payload holds
#: VM objects is read from these, not by searching the whole input's bytes.
VM_FIELDS = ("VmName", "vmName", "VmIdentifier", "vmIdentifier")
_VM_HEAD = [(n, _RawField, msgspec.UNSET) for n in VM_FIELDS]
_Codes: Any = msgspec.defstruct("_Codes", [(n, _CodeField, msgspec.UNSET) for n in _CODES] + _VM_HEAD)
_RawCodes: Any = msgspec.defstruct("_RawCodes", [(n, _RawField, msgspec.UNSET) for n in _CODES] + _VM_HEAD)
#: What triage also reads (names, identifiers, RPOs), decoded to Python values
#: whatever their type, for the objects it needs them for.
DETAIL_FIELDS = ("VpgName", "VmName", "VpgIdentifier", "VmIdentifier", "ActualRPO", "ConfiguredRpoSeconds")
Details: Any = msgspec.defstruct("Details", [(name, Any, None) for name in (
    *DETAIL_FIELDS, *(camel(n) for n in DETAIL_FIELDS))])


class Payload(NamedTuple):
    #: the UTF-8 text of the input (BOM removed, UTF-16/32 converted)
    data: bytes
    #: each object's original bytes
    items: list[msgspec.Raw]
    #: each object's Status / SubStatus: ints and strings, or raw where `raw_codes`
    heads: list[Any]
    #: the input was one object, not an array
    single: bool
    #: the codes are msgspec.Raw (some code is neither an int nor a string)
    raw_codes: bool = False
    #: the text around the array when it came wrapped ({"value": [...], "Count": N}):
    #: annotate writes the same wrapper back
    prefix: bytes = b""
    suffix: bytes = b""


#: Input is read in pieces of this size: memory grows with what arrives, never
#: with the --max-bytes limit, and the first piece shows whether it can be JSON.
CHUNK = 1 << 20


def read_source(path: str | None, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """The bytes of FILE, or of stdin for None or "-", at most `max_bytes`.

    Input whose first meaningful byte (after an optional byte-order mark and
    white space) cannot start a JSON array or object is refused as soon as
    that byte arrives, without reading the rest (`/dev/zero`, a binary file,
    an HTML error page)."""
    where = "stdin" if path is None or path == "-" else path
    try:
        if path is None or path == "-":
            if sys.stdin is None:  # started with stdin closed (`zvpg annotate <&-`)
                raise PayloadError("cannot read stdin: it is closed")
            return _read(sys.stdin.buffer, max_bytes)
        with open(path, "rb") as fh:
            return _read(fh, max_bytes)
    except OSError as exc:
        raise PayloadError(f"cannot read {where}: {exc.strerror or exc}") from None


def _read(stream: Any, max_bytes: int) -> bytes:
    size = None
    try:
        info = os.fstat(stream.fileno())
        if stat.S_ISREG(info.st_mode):
            size = info.st_size
    except (OSError, AttributeError, ValueError):  # not a real file (a test runner's stdin)
        pass
    if size is not None and size > max_bytes:  # refuse before reading anything
        raise PayloadError(f"input is {size} bytes, larger than the limit of {max_bytes} "
                           "(raise it with --max-bytes)")
    too_large = PayloadError(f"input is larger than the limit of {max_bytes} bytes (raise it with --max-bytes)")
    if size is not None and stream.seekable():  # a regular file: its size is known
        _can_start_json(memoryview(stream.read(4097)))
        stream.seek(0)
        data: bytes = stream.read(size + 1)  # one piece, as large as the file (not the limit)
        if len(data) > max_bytes:  # it grew meanwhile
            raise too_large
        return data
    buffer = io.BytesIO()  # grows with what arrives; getvalue() hands over its bytes without a copy
    head = b""  # the first bytes, until they show whether this can be JSON
    started = False
    while chunk := stream.read(min(CHUNK, max_bytes + 1 - buffer.tell())):
        buffer.write(chunk)
        if buffer.tell() > max_bytes:
            raise too_large
        if not started:
            head = (head + chunk[:4097])[:4097]
            started = _can_start_json(memoryview(head)) or buffer.tell() > 4096
    return buffer.getvalue()


_JSON_SPACE = b" \t\r\n"


def _can_start_json(head: memoryview) -> bool:
    """True when `head`, the first bytes of the input, starts like a JSON
    array or object; False when only a byte-order mark and white space have
    arrived so far. Raises `PayloadError` for anything else."""
    data = bytes(head[:4096])
    text: bytes | str = data
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            body = data[len(bom):]
            if encoding == "utf-8":
                text = body
                break
            width = 4 if "32" in encoding else 2
            try:
                text = body[:len(body) // width * width].decode(encoding)
            except UnicodeError:
                return True  # to_utf8 says what is wrong with it
            break
    if isinstance(text, str):
        first = text.lstrip(" \t\r\n")[:1]
        if not first:
            return len(head) > 4096  # (4 KiB of white space: the parser takes it from here)
        first_byte = first.encode("utf-8", "replace")[:1]
    else:
        rest = text.lstrip(_JSON_SPACE)
        if not rest:
            return len(head) > 4096
        first_byte = rest[:1]
        if first_byte == b"\x00" and rest[1:2] in (b"[", b"{"):
            return True  # UTF-16 BE without a byte-order mark: to_utf8 explains
    if first_byte in (b"[", b"{"):
        return True
    if first_byte in b'"-0123456789tfn':
        raise PayloadError(f"input is a JSON {_json_kind(first_byte)}: expected a JSON array of API objects, "
                           "or one object")
    shown = first_byte.decode("latin-1")
    shown = repr(shown) if shown.isprintable() else f"the byte 0x{first_byte[0]:02x}"
    raise PayloadError(f"input is not JSON: it starts with {shown} (expected a JSON array of API objects, "
                       "or one object)")


_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def to_utf8(data: bytes) -> bytes:
    """UTF-8 without a BOM, from UTF-8 (with or without a BOM) or UTF-16/32
    with a BOM (Windows PowerShell's `Out-File` writes UTF-16 LE)."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            body = data[len(bom):]
            if encoding == "utf-8":
                _check_utf8(body)
                return body
            try:
                return body.decode(encoding).encode("utf-8")
            except UnicodeError:
                raise PayloadError(f"input starts with a {encoding.upper()} byte-order mark but is not "
                                   f"{encoding.upper()} text") from None
    if b"\x00" in data[:1024]:  # JSON text never holds a NUL byte
        raise PayloadError("input is not UTF-8 text: it looks like UTF-16 without a byte-order mark "
                           "(save it as UTF-8, or with a BOM)")
    _check_utf8(data)
    return data


def _check_utf8(data: bytes) -> None:
    if data.isascii():  # the common case, checked without decoding
        return
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, col = _line_col(data, exc.start)
        raise PayloadError(f"input is not UTF-8 text: invalid byte 0x{data[exc.start]:02x} at line {line}, "
                           f"column {col}") from None


def _line_col(data: bytes, offset: int) -> tuple[int, int]:
    line = data.count(b"\n", 0, offset) + 1
    col = offset - (data.rfind(b"\n", 0, offset) + 1) + 1
    return line, col


def _decode_error(data: bytes, exc: Exception) -> PayloadError:
    message = str(exc)
    if "truncated" in message:
        line, col = _line_col(data, len(data.rstrip()))
        return PayloadError(f"invalid JSON at line {line}, column {col}: the input ends before the JSON does")
    if "(byte " in message:
        head, _, rest = message.rpartition("(byte ")
        try:
            offset = int(rest.rstrip(")"))
        except ValueError:
            return PayloadError(f"invalid JSON: {message}")
        line, col = _line_col(data, offset)
        reason = head.strip().removeprefix("JSON is malformed: ")
        return PayloadError(f"invalid JSON at line {line}, column {col}: {reason}")
    return PayloadError(f"invalid JSON: {message}")


def parse(data: bytes) -> Payload:
    """Parse a JSON array of objects, one object, or an array wrapped the way
    Windows PowerShell writes it (`{"value": [...], "Count": N}`). Raises
    `PayloadError` for anything else, including data of other endpoints and
    Zerto Analytics codes (a different numbering)."""
    data = to_utf8(data)
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
        raise _decode_error(data, exc) from None
    except RecursionError:  # msgspec's own limit, which depends on the Python version: always above MAX_DEPTH
        raise _too_deep() from None
    # (an object of n bytes nests at most n/2 levels: most payloads need no scan)
    if max(map(len, items), default=0) > 2 * MAX_DEPTH and nesting_depth(data) > MAX_DEPTH:
        raise _too_deep()
    if single and bytes(memoryview(items[0])[:1]) != b"{":
        kind = _json_kind(bytes(memoryview(items[0])[:1]))
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
        heads = msgspec.json.decode(array, type=list[_Codes])
    except msgspec.ValidationError:
        raw_codes = True
        try:
            heads = msgspec.json.decode(array, type=list[_RawCodes])
        except msgspec.ValidationError as exc:  # an item that is not an object
            raise _item_error(items, exc) from None
    except (msgspec.DecodeError, RecursionError) as exc:  # pragma: no cover - already parsed above
        raise PayloadError(f"invalid JSON: {exc}") from None
    unset = msgspec.UNSET
    if any(h.status is not unset or h.subStatus is not unset for h in heads):  # camelCase (the 10.x swagger)
        heads = [_pascal(h, raw_codes) for h in heads]
    payload = Payload(data, items, heads, single, raw_codes, prefix, suffix)
    if wrapper is not None and wrapped_by == "vpgs":
        _check_analytics(heads)
    if items and all(h.Status is msgspec.UNSET for h in heads) and not any(
            _is_named(d) for d in details(payload)):
        raise PayloadError(
            f"input does not look like VPG or VM data: none of its {len(items)} object"
            f"{'s' if len(items) != 1 else ''} has a Status, VpgName or VmName (data of another endpoint, "
            "such as /v1/alerts, /v1/events or /v1/vras?)")
    return payload


def check_json(data: bytes) -> None:
    """Raise `PayloadError` unless `data` is one JSON value that passes the
    checks `parse` makes of any input (encoding, syntax, nesting), whatever
    its source: a file, stdin or a ZVM's answer."""
    data = to_utf8(data)
    try:
        msgspec.json.decode(data, type=msgspec.Raw)
    except msgspec.DecodeError as exc:
        raise _decode_error(data, exc) from None
    except RecursionError:
        raise _too_deep() from None
    if len(data) > 2 * MAX_DEPTH and nesting_depth(data) > MAX_DEPTH:
        raise _too_deep()


#: zvpg's own limit on nesting (arrays and objects inside each other), the same
#: on every Python version: msgspec's limit comes from the interpreter's
#: recursion limit (about 1,000 levels on Python 3.11, 10,000 on 3.13). API
#: objects nest a few levels deep.
MAX_DEPTH = 512


def _too_deep() -> PayloadError:
    return PayloadError(f"input is nested too deeply to read safely (more than {MAX_DEPTH} levels of arrays "
                        "and objects)")


_KEEP = b'"[]{}'
_DELETE = bytes(b for b in range(256) if b not in _KEEP)
_SAME_BRACKETS = bytes.maketrans(b"{}", b"[]")


def nesting_depth(data: bytes) -> int:
    """How deeply the arrays and objects of `data` (valid JSON) nest, at the
    speed of a few passes of bytes methods: escapes dropped, then everything
    but quotes and brackets; strings (adjacent quote pairs; any pair of
    adjacent quotes can go, which keeps every other character inside or
    outside a string) dropped; then each `replace("[]", "")` takes away
    exactly one level; what is left after a few levels (a deep input) is
    measured by a running sum."""
    if b"\\" in data:
        data = data.replace(b"\\\\", b"").replace(b'\\"', b"")  # JSON escapes pair from the left, as replace does
    s = data.translate(None, _DELETE).replace(b'""', b"")
    if b'"' in s:  # strings with brackets in them (rare): drop them with a regular expression
        s = re.sub(rb'"[^"]*"', b"", s)
    s = s.translate(_SAME_BRACKETS)
    depth = 0
    while s and depth < 8:
        s = s.replace(b"[]", b"")
        depth += 1
    if s:
        from itertools import accumulate

        depth += max(accumulate(1 if c == 0x5B else -1 for c in s))
    return depth


def _pascal(head: Any, raw_codes: bool) -> Any:
    """A head with a camelCase status/subStatus moved to Status/SubStatus."""
    if (head.Status is not msgspec.UNSET or head.status is msgspec.UNSET) and (
            head.SubStatus is not msgspec.UNSET or head.subStatus is msgspec.UNSET):
        return head
    make = _RawCodes if raw_codes else _Codes
    return make(Status=head.status if head.Status is msgspec.UNSET else head.Status,
                SubStatus=head.subStatus if head.SubStatus is msgspec.UNSET else head.SubStatus,
                **{n: getattr(head, n) for n in VM_FIELDS})


def has_vm_objects(payload: Payload) -> bool:
    """Whether any object is a VM (carries VmName or VmIdentifier, in either case)."""
    unset = msgspec.UNSET
    return any(h.VmName is not unset or h.VmIdentifier is not unset or h.vmName is not unset
               or h.vmIdentifier is not unset for h in payload.heads)


def _is_named(d: Any) -> bool:
    return any(getattr(d, n) is not None for n in ("VpgName", "vpgName", "VmName", "vmName"))


_IDENTITY_KEYS = frozenset(("Status", "status", "SubStatus", "subStatus", "VpgName", "vpgName", "VmName", "vmName"))


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


def details(payload: Payload, indices: list[int] | None = None) -> list[Any]:
    """The `Details` of every object, or of the objects at `indices` (in that
    order): one msgspec pass over just those objects' bytes."""
    if indices is None:
        data = payload.data if not payload.single else b"[" + payload.data + b"]"
    else:
        items = payload.items
        data = b"[" + b",".join([memoryview(items[i]) for i in indices]) + b"]"
    try:
        result: list[Any] = msgspec.json.decode(data, type=list[Details])
    except msgspec.ValidationError:  # an integer of thousands of digits: no Python int holds it
        result = [Details(**{k: _safe_value(v) for k, v in msgspec.structs.asdict(r).items()})
                  for r in msgspec.json.decode(data, type=list[_RawDetails])]
    return result


# msgspec.Raw in a Union is not raw: a missing field defaults to None instead.
_RawDetails: Any = msgspec.defstruct("_RawDetails", [(name, msgspec.Raw, None) for name in Details.__struct_fields__])


def _safe_value(raw: msgspec.Raw | None) -> Any:
    """A detail as Python where Python can hold it; a number too long for an
    int is kept as its text."""
    if raw is None:
        return None
    try:
        return msgspec.json.decode(raw)
    except msgspec.ValidationError:  # 1E+400, an integer of 4,301+ digits (also inside an array or object)
        return RawText(bytes(raw).decode("utf-8"))


def _item_error(items: list[msgspec.Raw], exc: Exception) -> PayloadError:
    match = re.search(r"at `\$\[(\d+)\]`$", str(exc))
    if match is None:  # pragma: no cover - msgspec names the item
        return PayloadError(f"unexpected JSON: {exc}")
    index = int(match.group(1))
    kind = _json_kind(bytes(memoryview(items[index])[:1]))
    return PayloadError(f"item {index} of the array is a JSON {kind}, not an object")


def _json_kind(first: bytes) -> str:
    return {b"[": "array", b'"': "string", b"t": "boolean", b"f": "boolean", b"n": "null"}.get(first, "number")


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


def annotation_dict(kb: KnowledgeBase, a: Annotation) -> dict[str, Any]:
    """The value of the `zvpg` key added to an object."""
    pair = a.pair
    sub_entry = pair.substatus.entry if pair is not None and pair.substatus is not None else None
    return {
        "status": _decoded_json(kb, pair.status if pair else None, a.status_value),
        "substatus": _decoded_json(kb, pair.substatus if pair else None, a.substatus_value),
        "severity": pair.severity if pair else None,
        "recovery": sub_entry.recovery if isinstance(sub_entry, Substatus) else None,
        "recovery_condition": pair.failover.condition if pair else None,
        "failover_possible": pair.failover.possible if pair else None,
        "failover_basis": pair.failover.basis if pair else None,
        "protection_halted": sub_entry.protection_halted if isinstance(sub_entry, Substatus) else None,
        "listed": pair.listed if pair else None,
    }


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


def fragment(kb: KnowledgeBase, a: Annotation) -> bytes:
    """The member `"zvpg":{...}` that annotate adds to an object, as UTF-8 JSON."""
    import json

    body = json.dumps(annotation_dict(kb, a), ensure_ascii=False, separators=(",", ":"))
    return b'"zvpg":' + body.encode("utf-8")


_EMPTY_OBJECT = re.compile(rb"\{\s*\}")
_LEADING_WS = re.compile(rb"\{([ \t\r\n]*)")
_WS = frozenset(b" \t\r\n")
_WS_OR_OPEN = frozenset(b" \t\r\n{")


def pieces(raw: msgspec.Raw, fragment: bytes) -> tuple[bytes | memoryview, ...]:
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


def annotate_all(kb: KnowledgeBase, payload: Payload) -> Iterator[tuple[int, Annotation]]:
    """(index, annotation) for every object; one annotation per distinct
    Status/SubStatus pair, shared."""
    cache: dict[tuple[Any, Any], Annotation] = {}
    for index, head in enumerate(payload.heads):
        key = pair_key(head)
        a = cache.get(key)
        if a is None:
            a = cache[key] = annotate_head(kb, head)
        yield index, a


Reporter = Callable[[int, Annotation], None]


def json_chunks(kb: KnowledgeBase, payload: Payload, report: Reporter, *, ndjson: bool = False,
                objects_per_chunk: int = 8192) -> Iterator[bytes]:
    """The annotated objects as JSON text, in large chunks: separated by ",\n"
    (the inside of an array), or one per line (`ndjson`). `report` is called
    for every object that has problems (unknown or missing codes).

    This is the hot loop of annotate: per object it looks up the precomputed
    tail (`,"zvpg":{...}}` and the separator) for its raw Status/SubStatus and
    slices the original bytes up to the closing brace, without copying them."""
    cache: dict[tuple[Any, Any], tuple[bytes, bytes, Annotation]] = {}
    fast = not payload.raw_codes  # codes are ints and strings: they are the key
    separator = b"\n" if ndjson else b",\n"
    out: list[bytes | memoryview] = []
    add = out.append
    for index, (raw, head) in enumerate(zip(payload.items, payload.heads, strict=True)):
        key = (head.Status, head.SubStatus) if fast else pair_key(head)  # (pair_key, inlined)
        hit = cache.get(key)
        if hit is None:
            a = annotate_head(kb, head)
            member = fragment(kb, a)
            hit = cache[key] = (member, b"," + member + b"}" + separator, a)
        if hit[2].problems:
            report(index, hit[2])
        view = memoryview(raw)
        last = len(view) - 1
        if not ndjson and view[last - 1] not in _WS_OR_OPEN:  # compact and not empty: the common case
            add(view[:last])
            add(hit[1])
        else:
            obj = b"".join(pieces(raw, hit[0]))
            if ndjson:
                add(single_line(obj))
            else:
                # A pretty-printed object: its opening brace gets the indentation of its closing one.
                add(obj[obj.rfind(b"\n") + 1:-1].lstrip(b"}") if b"\n" in obj else b"")
                add(obj)
            add(separator)
        if len(out) >= objects_per_chunk * 2:
            yield b"".join(out)
            out.clear()
    if out:
        chunk = b"".join(out)
        # the last object is not followed by a separator inside an array
        yield chunk if ndjson else chunk[: -len(separator)]


def single_line(obj: bytes) -> bytes:
    """An object's JSON on one line. Outside strings JSON holds CR and LF only
    as white space (inside strings they must be escaped), so no value changes."""
    return obj.replace(b"\r", b"").replace(b"\n", b"")


def fields(raw: msgspec.Raw) -> dict[str, msgspec.Raw]:
    """An object's top-level members, values still raw (numbers keep their text)."""
    return msgspec.json.decode(raw, type=dict[str, msgspec.Raw])


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
