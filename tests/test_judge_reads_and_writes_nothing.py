"""The judge computes; the caller loads the policy and remembers states
(`triage.report.run` does both for the command line and for Python users).
Renderers take the limits each row was judged by, never the request's options."""

from __future__ import annotations

import json
from pathlib import Path

from test_grace_and_escalation import T0, vpg

from zvpg_cli.knowledge.kb import load_kb
from zvpg_cli.output.nagios import nagios
from zvpg_cli.sources.payload import parse
from zvpg_cli.sources.read import Read
from zvpg_cli.triage import state
from zvpg_cli.triage.policy import load_policy
from zvpg_cli.triage.report import Options, judge, report, run
from zvpg_cli.triage.rows import parse_thresholds

DELTA_SYNC = (1, 6)  # Initializing / Delta Syncing: a grace period in the default policy


def _reads() -> list[Read]:
    return [Read(parse(json.dumps([vpg(*DELTA_SYNC, name="ERP"), vpg(1, 0, 901, name="CRM")]).encode()))]


def test_judging_with_a_state_file_in_the_options_writes_no_file(tmp_path: Path) -> None:
    kb = load_kb()
    db = tmp_path / "state.db"
    options = Options(state=str(db), now=T0)
    judged = judge(kb, _reads(), options, load_policy(kb, None))
    result = report(judged)
    assert not db.exists() and not result.rows[0].timed
    assert [o.key for o in judged.observed()] == ["\x1fvpg\x1fid-ERP", "\x1fvpg\x1fid-CRM"]
    ran = run(kb, _reads(), options)  # the composed call remembers
    assert db.exists() and ran.rows[0].timed is not None and ran.stateful


def test_the_caller_remembering_gives_what_run_gives(tmp_path: Path) -> None:
    kb = load_kb()
    policy = load_policy(kb, None)
    by_hand, composed = tmp_path / "a.db", tmp_path / "b.db"
    for seconds in (0, 3600):
        options = Options(state=str(by_hand), now=T0 + seconds)
        judged = judge(kb, _reads(), options, policy)
        memories = state.remember(str(by_hand), judged.observed(), judged.now, policy.flap_window)
        mine = report(judged, memories)
        theirs = run(kb, _reads(), options._replace(state=str(composed)))
        assert [(r.severity, r.reasons) for r in mine.rows] == [(r.severity, r.reasons) for r in theirs.rows]


def test_each_row_carries_the_limits_it_was_judged_by() -> None:
    thresholds = parse_thresholds("2", "15m")
    result = run(load_kb(), _reads(), Options(thresholds=thresholds))
    assert all(r.thresholds == thresholds for r in result.rows)
    assert [r.rpo_limits for r in result.rows] == [(600, 900), (600, 900)]  # 2 x 300 s, and 15 minutes
    assert not hasattr(result, "options")
    text, code = nagios(result)
    assert code == 2 and "'ERP rpo'=5s;600;900;0;" in text and "'CRM rpo'=901s;600;900;0;" in text
