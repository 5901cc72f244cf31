"""Untrusted text (VPG names, payload strings, user-supplied knowledge bases)
never reaches a terminal or a line-based format raw."""

from __future__ import annotations

import re

# C0/C1 controls (ESC, CR, LF, TAB ...), DEL, bidirectional and other format
# characters (U+200E/F, U+202A-E, U+2066-9, ...), line/paragraph separators.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """`text` with every control or invisible formatting character shown as an
    escape (``\\x1b``, ``\\u202e``), so it cannot move the cursor, colour the
    terminal, reorder the line or start a new one."""
    return _UNSAFE.sub(_escape, text)
