"""JSON output: UTF-8, indented, keys in contract order."""

from __future__ import annotations

import json
from typing import Any


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2) + "\n"


def dumps_large(value: Any) -> bytes:
    """The same JSON as `dumps` (floats may be spelled differently), as UTF-8, for outputs that grow with a
    payload (triage of 100,000 VPGs): msgspec encodes several times faster."""
    import msgspec

    return msgspec.json.format(msgspec.json.encode(value), indent=2) + b"\n"
