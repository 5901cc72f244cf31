"""Times as ZVMs write them (zerto-site-health.md §6): Microsoft JSON dates,
`/Date(1531938627284)/` or `/Date(1444792425000+0200)/` (`TurnedOn`; the
milliseconds count from 1970-01-01 UTC and the suffix, the writer's offset,
does not change the instant), and ISO 8601 (`LastTest`:
`2019-07-11T16:51:07.022Z`). A time without a zone is read as UTC: the ZVM's
own offset is not in the payload (off by that offset at most)."""

from __future__ import annotations

import re
from datetime import datetime, timezone

_MS_DATE = re.compile(r"\\?/Date\((-?\d{1,15})(?:[+-]\d{4})?\)\\?/")
#: The times a date can show (Python's datetime range): a ZVM time beyond them is
#: not a time (`/Date(999999999999999)/` is the year 33658).
_EARLIEST, _LATEST = -62135596800.0, 253402300799.0


def api_time(value: object) -> float | None:
    """Seconds since the epoch of a ZVM time, or None for anything else (null,
    a number, text that is not a time, a time no date can show)."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    text = value.strip()
    m = _MS_DATE.fullmatch(text)
    if m is not None:
        seconds = int(m.group(1)) / 1000
        return seconds if _EARLIEST <= seconds <= _LATEST else None
    try:
        when = datetime.fromisoformat(text[:-1] + "+00:00" if text[-1:] in ("Z", "z") else text)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    try:
        return when.timestamp()
    except (OverflowError, OSError, ValueError):
        return None
