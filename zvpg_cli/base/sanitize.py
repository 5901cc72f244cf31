"""Untrusted text (VPG names, payload strings, user-supplied knowledge bases)
never reaches a terminal or a line-based format raw."""

from __future__ import annotations

import re

# C0/C1 controls (ESC, CR, LF, TAB ...), DEL, bidirectional and other format
# characters (U+200E/F, U+202A-E, U+2066-9, ...), line/paragraph separators.
# (patterns, compiled by `re` on first use and cached there: a run that meets no
# such text, the common case, never compiles them)
_UNSAFE = r"[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]"


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """`text` with every control or invisible formatting character shown as an
    escape (``\\x1b``, ``\\u202e``), so it cannot move the cursor, colour the
    terminal, reorder the line or start a new one."""
    if text.isascii() and text.isprintable():  # (ASCII's unprintable characters are its controls and DEL)
        return text
    return re.sub(_UNSAFE, _escape, text)


# The same characters as `_UNSAFE` (but the C0 controls, which JSON text never
# holds raw), as UTF-8. In JSON text every byte outside the ASCII range lies
# inside a string, so each can be replaced by its `\uXXXX` escape.
_UNSAFE_UTF8 = (rb"\x7f|\xc2[\x80-\x9f]|\xd8\x9c|\xe2\x80[\x8b-\x8f\xa8-\xae]|\xe2\x81[\xa0-\xaf]"
                rb"|\xef\xbb\xbf|\xef\xbf[\xb9-\xbb]")


def _json_escape(match: re.Match[bytes]) -> bytes:
    return b"\\u%04x" % ord(match.group().decode("utf-8"))


def json_safe(data: bytes) -> bytes:
    """UTF-8 JSON text with every C1 control, DEL, bidirectional or invisible
    formatting character and line/paragraph separator written as a `\\uXXXX`
    escape: the same JSON values, nothing that can steer a terminal."""
    if data.isascii() and b"\x7f" not in data:  # the common case, checked first
        return data
    return re.sub(_UNSAFE_UTF8, _json_escape, data)


def json_text(value: object) -> str:
    """The one JSON encoder of every command that prints JSON: UTF-8, indented
    by 2, keys in the order given, with `json_safe`'s escapes."""
    import json

    text = json.dumps(value, ensure_ascii=False, indent=2) + "\n"
    if text.isascii() and "\x7f" not in text:  # the common case
        return text
    return json_safe(text.encode("utf-8")).decode("utf-8")
