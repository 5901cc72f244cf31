"""`zvpg history`: the transitions the state file remembers, as JSON
(schemas/history.schema.json) and as a table within 80 columns."""

from __future__ import annotations

from ..base.sanitize import json_text


def _iso(epoch: float) -> str:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def history_dict(t: object) -> dict[str, object]:
    from ..triage.state import Transition, key_parts

    assert isinstance(t, Transition)
    _, _, vpg_identifier, identifier = key_parts(t.key)
    return {
        "at": _iso(t.at), "site": t.site, "kind": t.kind, "name": t.name, "vpg": t.vpg_name, "key": t.key,
        "from": t.from_state, "to": t.to_state, "lasted_seconds": round(t.lasted, 3), "current": t.current,
        "gone_since": None if t.gone_since is None else _iso(t.gone_since),
        "identifier": identifier, "vpg_identifier": vpg_identifier,
    }


#: The width `history`'s table keeps to.
WIDTH = 80


def history_table(transitions: list) -> str:  # type: ignore[type-arg]
    """A table within WIDTH columns: names and states wrap at spaces (a word
    longer than its column is cut), the time and how long never do."""
    from textwrap import wrap

    from ..base.sanitize import printable
    from ..base.units import duration

    if not transitions:
        return "No changes recorded.\n"
    rows = [("WHEN (UTC)", "VPG / VM" if all(t.kind in ("vpg", "vm") for t in transitions) else "OBJECT",
             "STATE", "LASTED")]
    gone: dict[int, str] = {}  # row -> a line of its own under it
    for t in transitions:
        # (a finding's name is its label: "alert ZVM0003 (No connection to site)", "failover test of VPG x")
        who = t.name if t.kind != "vm" or t.name == t.vpg_name else f"{t.name} (VPG {t.vpg_name})"
        if t.site:
            who += f" @ {t.site}"
        lasted = duration(t.lasted)
        if t.current and t.gone_since:
            gone[len(rows)] = "(gone since " + _iso(t.gone_since).replace("T", " ")[:16] + ")"
        elif t.current:
            lasted += " (now)"
        state = t.to_state if t.from_state is not None else f"{t.to_state} (first seen)"
        rows.append((_iso(t.at).replace("T", " ")[:16], printable(who), printable(state), lasted))
    natural = [max(len(r[i]) for r in rows) for i in range(4)]
    widths = list(natural)
    room = WIDTH - widths[0] - widths[3] - 6
    if natural[1] + natural[2] > room:  # share what is left between the name and the state
        widths[1] = min(natural[1], max(room // 2, room - natural[2]))
        widths[2] = room - widths[1]
    out = []
    for number, r in enumerate(rows):
        cells = [wrap(text, widths[i], break_on_hyphens=False) or [""] for i, text in enumerate(r)]
        for n in range(max(map(len, cells))):
            parts = [c[n] if n < len(c) else "" for c in cells]
            out.append("  ".join(f"{p:<{widths[i]}}" for i, p in enumerate(parts[:3])) + "  " + parts[3])
        if number in gone:
            out.append(" " * (widths[0] + 2) + gone[number])
    return "".join(line.rstrip() + "\n" for line in out)


def history_json(transitions: list) -> str:  # type: ignore[type-arg]
    return json_text([history_dict(t) for t in transitions])


class HistoryError(Exception):
    """A history request that cannot be answered: a --since that is not a
    duration, a state file that cannot be read (the command line: exit 2)."""


class NothingMatches(HistoryError):
    """No remembered change matches the pattern (the command line: exit 1)."""


#: What `history --kind` may name: rows, and the findings of site health.
KINDS = ("vpg", "vm", "alert", "vra", "peer", "test")


def show(state_file: str, pattern: str | None = None, since: str | None = None, *, as_json: bool = False,
         kinds: tuple[str, ...] = ()) -> None:
    """A whole `zvpg history` request: the changes `state_file` remembers for
    names matching `pattern`, of `kinds` (KINDS; none: all), within `since` (a
    duration) before now, newest first, written as a table or JSON. Raises
    `HistoryError`, `NothingMatches`."""
    import time

    from ..base.units import parse_duration
    from ..base.writer import write
    from ..triage.state import StateError, history

    now = time.time()
    try:
        start = None if since is None else now - parse_duration(since)
    except ValueError as exc:
        raise HistoryError(f"--since: {exc}") from exc
    try:
        transitions = history(state_file, pattern, start, now, kinds)
    except StateError as exc:
        raise HistoryError(str(exc)) from exc
    if not transitions and (pattern or kinds):
        within = f" within --since {since}" if since else ""
        what = " and ".join(x for x in (f"{pattern!r}" if pattern else "",
                                        f"--kind {','.join(kinds)}" if kinds else "") if x)
        raise NothingMatches(f"nothing in {state_file} matches {what}{within} (history matches VPG, VM and "
                             "site names, and the labels of findings)")
    write(history_json(transitions) if as_json else history_table(transitions))
