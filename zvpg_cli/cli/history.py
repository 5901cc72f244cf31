"""Commands over time: history (what the state file remembers) and policy
(the grace periods, escalations and stuck rules in force)."""

from enum import Enum

import typer

from .app import app, data_option, fail, kb_or_exit, use_data
from .exits import EXIT_NOT_FOUND, EXIT_USAGE

STATE_HELP = "The state file `zvpg triage --state` writes. Default: $ZVPG_STATE."
POLICY_HELP = "A policy file (TOML) merged over zvpg's defaults. Default: $ZVPG_POLICY."


@app.command(epilog="""Examples:
  zvpg history --state /var/lib/zvpg/state.db
  zvpg history "web-*" --since 24h     # with ZVPG_STATE set
  zvpg history web --state state.db    # names containing "web"
  zvpg history --state state.db --json | jq '.[0]'

Each line is one change of state, newest first, with how long the new state
lasted ("now": it still holds). Objects no longer in the ZVM's answer are
marked "gone since"; they are forgotten 30 days later.""")
def history(
    pattern: str | None = typer.Argument(
        None, metavar="PATTERN",
        help="Only VPGs or VMs whose name (or VPG name, or site) matches: a glob (web-*) or a part of "
             "it; case ignored. Nothing matching is an error (exit 1)."),
    state_file: str | None = typer.Option(None, "--state", metavar="PATH", envvar="ZVPG_STATE",
                                          show_envvar=False, help=STATE_HELP),
    since: str | None = typer.Option(None, "--since", metavar="DURATION",
                                     help="Only changes within this long before now (24h, 7d, 1h30m)."),
    json_flag: bool = typer.Option(False, "--json", help="JSON output (schemas/history.schema.json)."),
) -> None:
    """Show how the states of VPGs and VMs changed across triage runs, and how long each lasted."""
    import time

    from ..base.units import parse_duration
    from ..base.writer import write
    from ..triage.state import StateError
    from ..triage.state import history as read_history

    if not state_file:
        fail("give --state PATH (or set ZVPG_STATE): the file zvpg triage --state writes", EXIT_USAGE)
    now = time.time()
    start = None
    if since is not None:
        try:
            start = now - parse_duration(since)
        except ValueError as exc:
            fail(f"--since: {exc}", EXIT_USAGE)
    try:
        transitions = read_history(state_file, pattern, start, now)
    except StateError as exc:
        fail(str(exc), EXIT_USAGE)
    if not transitions and pattern:
        within = f" within --since {since}" if since else ""
        fail(f"nothing in {state_file} matches {pattern!r}{within} (history matches VPG, VM and site names)",
             EXIT_NOT_FOUND)
    if json_flag:
        from ..base.sanitize import json_text

        write(json_text([_json(t) for t in transitions]))
    else:
        write(_table(transitions))


def _iso(epoch: float) -> str:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _json(t: object) -> dict[str, object]:
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


def _table(transitions: list) -> str:  # type: ignore[type-arg]
    """A table within WIDTH columns: names and states wrap at spaces (a word
    longer than its column is cut), the time and how long never do."""
    from textwrap import wrap

    from ..base.sanitize import printable
    from ..base.units import duration

    if not transitions:
        return "No changes recorded.\n"
    rows = [("WHEN (UTC)", "VPG / VM", "STATE", "LASTED")]
    gone: dict[int, str] = {}  # row -> a line of its own under it
    for t in transitions:
        who = t.name if t.kind == "vpg" or t.name == t.vpg_name else f"{t.name} (VPG {t.vpg_name})"
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


class PolicyAction(str, Enum):
    show = "show"


@app.command(epilog="""Examples:
  zvpg policy show
  zvpg policy show --policy /etc/zvpg/policy.toml
  zvpg policy show --json | jq '.rules[] | select(.default | not)'

A policy file holds [[rule]] tables, tried in order (yours first, then
zvpg's defaults; for each setting the first matching rule wins):

  [[rule]]
  match = "Not Meeting SLA / Delta Syncing"   # as zvpg explain accepts
  vpg = "dev-*"                 # optional glob on the VPG name, not a VM's
  site = "lab*"                 # optional glob on the site
  severity = "ok"               # ok, warning, critical or unknown
  grace = "30m"                 # one level lower for this long
  escalate_after = "26h"        # a warning held this long: critical
  stuck_after = "1h"            # progress not risen this long: critical

and optionally flap_changes = 6, flap_window = "1h" at the top. "0s"
turns a default duration off. The defaults are zvpg's own choice: the Zerto
documentation gives no durations.""")
def policy(
    action: PolicyAction = typer.Argument(PolicyAction.show, metavar="[show]",
                                          help="show: print the policy in force (the default)."),
    policy_file: str | None = typer.Option(None, "--policy", metavar="FILE", envvar="ZVPG_POLICY",
                                           show_envvar=False, help=POLICY_HELP),
    json_flag: bool = typer.Option(False, "--json", help="JSON output (schemas/policy.schema.json)."),
    data: str | None = data_option(),
) -> None:
    """Show the policy in force: grace periods, escalations, stuck syncs, flapping; defaults marked."""
    from ..base.writer import write
    from ..triage.policy import PolicyError, load_policy, policy_json, policy_text

    use_data(data)
    kb = kb_or_exit()
    try:
        loaded = load_policy(kb, policy_file or None)
    except PolicyError as exc:
        fail(str(exc), EXIT_USAGE)
    if json_flag:
        from ..base.sanitize import json_text

        write(json_text(policy_json(loaded, kb)))
    else:
        write(policy_text(loaded, kb))
