"""Byte hygiene: the checks every input gets before it is read as JSON,
whatever its source (a file, stdin, a ZVM's answer): its size, its encoding
(UTF-8, or UTF-16/32 with a byte-order mark), its first byte, its syntax and
how deeply it nests. `check_json` is what a ZVM's answer gets
(`zvm.exchange`); `payload.parse` makes the same checks as it reads."""

from __future__ import annotations

import codecs
import re

from .limits import DEFAULT_MAX_BYTES as DEFAULT_MAX_BYTES  # (the size check: read.read_source)


class PayloadError(Exception):
    """Input that cannot be read; `str()` is one line saying what and where."""


BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def to_utf8(data: bytes, checked: bool = False) -> bytes:
    """UTF-8 without a BOM, from UTF-8 (with or without a BOM) or UTF-16/32
    with a BOM (Windows PowerShell's `Out-File` writes UTF-16 LE). `checked`:
    `check_json` passed it already, only the conversion is left to do."""
    for bom, encoding in BOMS:
        if data.startswith(bom):
            body = data[len(bom):]
            if encoding == "utf-8":
                if not checked:
                    _check_utf8(body)
                return body
            try:
                return body.decode(encoding).encode("utf-8")
            except UnicodeError:
                raise PayloadError(f"input starts with a {encoding.upper()} byte-order mark but is not "
                                   f"{encoding.upper()} text") from None
    if checked:
        return data
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


def decode_error(data: bytes, exc: Exception) -> PayloadError:
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


def check_json(data: bytes) -> None:
    """Raise `PayloadError` unless `data` is one JSON value that passes the
    checks `parse` makes of any input (encoding, syntax, nesting), whatever
    its source: a file, stdin or a ZVM's answer."""
    import msgspec

    data = to_utf8(data)
    try:
        msgspec.json.decode(data, type=msgspec.Raw)
    except msgspec.DecodeError as exc:
        raise decode_error(data, exc) from None
    except RecursionError:
        raise too_deep() from None
    if len(data) > 2 * MAX_DEPTH and nesting_depth(data) > MAX_DEPTH:
        raise too_deep()


#: zvpg's own limit on nesting (arrays and objects inside each other), the same
#: on every Python version: msgspec's limit comes from the interpreter's
#: recursion limit (about 1,000 levels on Python 3.11, 10,000 on 3.13). API
#: objects nest a few levels deep.
MAX_DEPTH = 512


def too_deep() -> PayloadError:
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


def json_kind(first: bytes) -> str:
    return {b"[": "array", b'"': "string", b"t": "boolean", b"f": "boolean", b"n": "null"}.get(first, "number")




_JSON_SPACE = b" \t\r\n"


def can_start_json(head: memoryview) -> bool:
    """True when `head`, the first bytes of the input, starts like a JSON
    array or object; False when only a byte-order mark and white space have
    arrived so far. Raises `PayloadError` for anything else."""
    data = bytes(head[:4096])
    text: bytes | str = data
    for bom, encoding in BOMS:
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
        word = (text.lstrip(" \t\r\n").encode("utf-8", "replace") if isinstance(text, str)
                else text.lstrip(_JSON_SPACE))
        scalar = _scalar(word, complete=len(head) > 4096)
        if scalar is None:
            return False  # the word has not ended yet: more bytes tell
        if scalar:
            raise PayloadError(f"input is a JSON {json_kind(first_byte)}: expected a JSON array of API objects, "
                               "or one object")
        shown = repr(re.split(rb"\s", word, maxsplit=1)[0][:20].decode("utf-8", "replace"))
    else:
        shown = first_byte.decode("latin-1")
        shown = repr(shown) if shown.isprintable() else f"the byte 0x{first_byte[0]:02x}"
    raise PayloadError(f"input is not JSON: it starts with {shown} (expected a JSON array of API objects, "
                       "or one object)")


_NUMBER_SO_FAR = rb"-?[0-9]*\.?[0-9]*(?:[eE][-+]?[0-9]*)?"
_SCALAR = rb"true|false|null|-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?"


def _scalar(word: bytes, complete: bool) -> bool | None:
    """Whether `word` (the input from its first meaningful byte on) is a JSON
    string, number, true, false or null; None when it cannot tell yet (it may
    still become one: `nu`, `12`, and `complete` is false: more may come)."""
    if word[:1] == b'"':
        return True
    if not complete and (re.fullmatch(_NUMBER_SO_FAR, word) or any(
            literal.startswith(word) for literal in (b"true", b"false", b"null"))):
        return None
    found = re.match(_SCALAR, word)
    return found is not None and word[found.end():found.end() + 1] in (b"", b" ", b"\t", b"\r", b"\n")
