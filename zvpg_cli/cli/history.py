"""Commands over time: history (what the state file remembers) and policy
(the grace periods, escalations and stuck rules in force)."""

from enum import Enum

import typer

from .app import app, data_option, fail, kb_or_exit, use_data
from .exits import EXIT_NOT_FOUND, EXIT_USAGE

STATE_HELP = "The state file `zvpg triage --state` writes. Default: $ZVPG_STATE."
POLICY_HELP = "A policy file (TOML) merged over zvpg's defaults. Default: $ZVPG_POLICY."


class ObjectKind(str, Enum):
    vpg = "vpg"
    vm = "vm"
    alert = "alert"
    vra = "vra"
    peer = "peer"
    test = "test"


@app.command(epilog="""Examples:
  zvpg history --state /var/lib/zvpg/state.db
  zvpg history "web-*" --since 24h     # with ZVPG_STATE set
  zvpg history web --state state.db    # names containing "web"
  zvpg history --state state.db --json | jq '.[0]'
  zvpg history --state state.db --kind alert --kind vra

Each line is one change of state, newest first, with how long the new state
lasted ("now": it still holds). Objects no longer in the ZVM's answer are
marked "gone since"; they are forgotten 30 days later. Besides VPGs and VMs,
the state file remembers alerts, VRAs, peer sites and failover tests; an
alert no longer raised is "cleared or dismissed".""")
def history(
    pattern: str | None = typer.Argument(
        None, metavar="PATTERN",
        help="Only objects whose name (or VPG name, or site) matches: a glob (web-*) or a part of "
             "it; case ignored. Nothing matching is an error (exit 1)."),
    state_file: str | None = typer.Option(None, "--state", metavar="PATH", envvar="ZVPG_STATE",
                                          show_envvar=False, help=STATE_HELP),
    since: str | None = typer.Option(None, "--since", metavar="DURATION",
                                     help="Only changes within this long before now (24h, 7d, 1h30m)."),
    kind: list[ObjectKind] = typer.Option([], "--kind", metavar="KIND",
                                          help="Only objects of this kind: vpg, vm, alert, vra, peer or test. "
                                               "Repeatable."),
    json_flag: bool = typer.Option(False, "--json", help="JSON output (schemas/history.schema.json)."),
) -> None:
    """Show how the states of VPGs, VMs and the site's findings changed across triage runs, and how long each
    lasted."""
    if not state_file:
        fail("give --state PATH (or set ZVPG_STATE): the file zvpg triage --state writes", EXIT_USAGE)
    from ..output.history import HistoryError, NothingMatches, show

    try:
        show(state_file, pattern, since, as_json=json_flag, kinds=tuple(k.value for k in kind))
    except NothingMatches as exc:
        fail(str(exc), EXIT_NOT_FOUND)
    except HistoryError as exc:
        fail(str(exc), EXIT_USAGE)


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

  [[rule]]                      # alerts, VRAs, peer sites, failover tests
  kind = "alert"                # alert, vra, peer or test
  code = "ZVM0003"              # glob on HelpIdentifier (VRA, peer: status)
  grace = "10m"

and optionally flap_changes = 6, flap_window = "1h", test_max_age = "180d"
("off": tests' age not judged) at the top. "0s" turns a default duration
off. The defaults are zvpg's own choice: the Zerto documentation gives no
durations.""")
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
    from ..output.policy import policy_json, policy_text
    from ..triage.policy import PolicyError, load_policy

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
