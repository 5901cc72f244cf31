"""Numbers and durations as zvpg writes and reads them: one formatter for every
output, one parser for every duration a user gives (`--rpo-warning 15m`, a
policy file's `grace = "30m"`)."""

from __future__ import annotations

import re


def number(value: float) -> str:
    """A number as every output writes it: integers exact (`1234567`), other
    floats in the shortest form that reads back as the same float, never in
    exponent notation (monitoring-plugins performance data allows only digits,
    `-` and `.`): `0.1`, `1830.5`, `12345678901234567890`."""
    if type(value) is int:
        return str(value)
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"not a finite number: {value!r}")
    if value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    text = repr(value)
    if "e" not in text:
        return text
    from decimal import Decimal  # only for the rare float repr() writes with an exponent

    return format(Decimal(text), "f")


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = r"(?i)(?:(\d+)\s*([smhd])\s*)+"  # (compiled by `re` when first used)
_PART = r"(?i)(\d+)\s*([smhd])"


def parse_duration(text: str) -> int:
    """Seconds in a duration a person writes: `900s`, `15m`, `2h`, `1d`,
    `1h30m`. Raises ValueError with a message to show for anything else."""
    spec = text.strip()
    if not spec.isascii() or not re.fullmatch(_DURATION, spec):
        raise ValueError(f"{text!r} is not a duration (examples: 900s, 15m, 2h, 1h30m, 1d)")
    seconds = sum(int(n) * _UNITS[unit.lower()] for n, unit in re.findall(_PART, spec))
    if seconds > 10 * 365 * 86400:
        raise ValueError(f"{text!r} is longer than ten years")
    return seconds


def duration(seconds: float) -> str:
    """A duration for people, its two largest units: `45s`, `4m`, `30m 30s`,
    `1h 2m`, `26h`; days from two days on (`3d 4h`)."""
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        m, s = divmod(s, 60)
        return f"{m}m {s}s" if s else f"{m}m"
    if s < 2 * 86400:
        h, rest = divmod(s, 3600)
        m = rest // 60
        return f"{h}h {m}m" if m else f"{h}h"
    d, rest = divmod(s, 86400)
    h = rest // 3600
    return f"{d}d {h}h" if h else f"{d}d"
