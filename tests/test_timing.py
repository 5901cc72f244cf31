"""Judging with time: grace, escalation, stuck syncs and flapping, from what the
state file remembers at injected times."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from zvpg_cli.knowledge.model import KnowledgeBase, Severity
from zvpg_cli.triage.policy import Policy, Timing, load_policy
from zvpg_cli.triage.state import Memory, Observed, remember
from zvpg_cli.triage.timing import judge

T0 = 1_800_000_000.0
DS = "Not Meeting SLA / Delta Syncing"
IS = "Initializing / Initial Sync"
NO_TIMING = Timing(None, None, None, None)


def _policy(kb: KnowledgeBase, tmp_path: Path | None = None, text: str | None = None) -> Policy:
    if text is None or tmp_path is None:
        return load_policy(kb, None)
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    return load_policy(kb, str(path))


def _run(path: str, state: str, progress: float | None, now: float) -> Memory:
    return remember(path, [Observed("a|vpg|1", "a", "vpg", "web-01", "web-01", state, progress)], now, 3600)["a|vpg|1"]


def test_a_delta_sync_does_not_page_in_its_first_15_minutes(kb: KnowledgeBase, tmp_path: Path) -> None:
    policy = _policy(kb)
    timing = policy.timing("Not Meeting SLA", "Delta Syncing", "web-01", "a")
    path = str(tmp_path / "s.db")
    _run(path, DS, 10, T0)
    early = judge(Severity.CRITICAL, DS, timing, _run(path, DS, 20, T0 + 240), T0 + 240, policy)
    assert early.severity is Severity.WARNING
    assert early.reasons == ("Not Meeting SLA / Delta Syncing for 4m (critical after 15m)",)
    assert (early.since, early.age_seconds, early.grace_until) == (T0, 240, T0 + 900)
    late = judge(Severity.CRITICAL, DS, timing, _run(path, DS, 30, T0 + 900), T0 + 900, policy)
    assert (late.severity, late.reasons, late.stuck) == (Severity.CRITICAL, (), False)


def test_a_stuck_initial_sync_pages(kb: KnowledgeBase, tmp_path: Path) -> None:
    policy = _policy(kb)
    timing = policy.timing("Initializing", "Initial Sync", "web-01", "a")
    path = str(tmp_path / "s.db")
    _run(path, IS, 10, T0)
    _run(path, IS, 42, T0 + 600)
    moving = judge(Severity.WARNING, IS, timing, _run(path, IS, 42, T0 + 600 + 3000), T0 + 3600, policy)
    assert (moving.severity, moving.stuck) == (Severity.WARNING, False)
    now = T0 + 600 + 6 * 3600 + 120  # zvpg's default: no progress for 6h
    stuck = judge(Severity.WARNING, IS, timing, _run(path, IS, 42, now), now, policy)
    assert (stuck.severity, stuck.stuck) == (Severity.CRITICAL, True)
    assert stuck.reasons == ("Initial Sync stuck at 42% for 6h 2m",)


def test_a_sync_that_progresses_is_not_stuck(kb: KnowledgeBase, tmp_path: Path) -> None:
    policy = _policy(kb)
    timing = policy.timing("Initializing", "Initial Sync", "web-01", "a")
    path = str(tmp_path / "s.db")
    for minute in range(0, 300, 10):  # five hours, a little further every ten minutes
        memory = _run(path, IS, minute / 10, T0 + minute * 60)
    judged = judge(Severity.WARNING, IS, timing, memory, T0 + 290 * 60, policy)
    assert (judged.severity, judged.stuck, judged.age_seconds) == (Severity.WARNING, False, 290 * 60)


def test_without_a_progress_a_sync_is_never_called_stuck(kb: KnowledgeBase) -> None:
    policy = _policy(kb)
    memory = Memory(T0, None, T0, 0)
    judged = judge(Severity.WARNING, IS, Timing(None, None, None, 3600), memory, T0 + 86400, policy)
    assert (judged.severity, judged.stuck) == (Severity.WARNING, False)


def test_a_warning_held_long_enough_escalates(kb: KnowledgeBase, tmp_path: Path) -> None:
    policy = _policy(kb, tmp_path, '[[rule]]\nmatch = "History Not Meeting SLA"\nescalate_after = "24h"\n')
    timing = policy.timing("History Not Meeting SLA", None, "web-01", "a")
    state = "History Not Meeting SLA"
    assert judge(Severity.WARNING, state, timing, Memory(T0, None, T0, 0), T0 + 3600, policy).severity \
        is Severity.WARNING
    held = judge(Severity.WARNING, state, timing, Memory(T0, None, T0, 0), T0 + 26 * 3600, policy)
    assert held.severity is Severity.CRITICAL
    assert held.reasons == ("History Not Meeting SLA for 26h (critical after 24h)",)


def test_flapping_makes_an_ok_object_a_warning(kb: KnowledgeBase, tmp_path: Path) -> None:
    policy = _policy(kb)
    path = str(tmp_path / "s.db")
    for i in range(7):
        memory = _run(path, "Meeting SLA" if i % 2 == 0 else DS, None, T0 + i * 300)
    assert memory.changes == 6
    judged = judge(Severity.OK, "Meeting SLA", NO_TIMING, memory, T0 + 1800, policy)
    assert (judged.severity, judged.flapping) == (Severity.WARNING, True)
    assert judged.reasons == ("flapping: 6 changes of severity in 1h",)
    calm = judge(Severity.OK, "Meeting SLA", NO_TIMING, memory._replace(changes=5), T0 + 1800, policy)
    assert (calm.severity, calm.flapping) == (Severity.OK, False)


def test_flapping_settings_come_from_the_policy(kb: KnowledgeBase, tmp_path: Path) -> None:
    policy = _policy(kb, tmp_path, 'flap_changes = 3\nflap_window = "2h"\n')
    judged = judge(Severity.OK, "Meeting SLA", NO_TIMING, Memory(T0, None, T0, 3), T0 + 60, policy)
    assert judged.reasons == ("flapping: 3 changes of severity in 2h",)


def test_without_state_nothing_changes(kb: KnowledgeBase) -> None:
    policy = _policy(kb)
    for severity in Severity:
        judged = judge(severity, DS, Timing(None, 900, 60, 60), None, T0, policy)
        assert judged == (severity, (), None, None, None, False, False, None, None)


def test_grace_never_hides_an_unknown(kb: KnowledgeBase) -> None:
    judged = judge(Severity.UNKNOWN, "Not Meeting SLA / code 99", Timing(None, 900, None, None),
                   Memory(T0, None, T0, 0), T0 + 60, _policy(kb))
    assert judged.severity is Severity.UNKNOWN


_SEVERITIES = st.sampled_from(list(Severity))
_SECONDS = st.one_of(st.none(), st.integers(0, 10 * 86400))


@given(_SEVERITIES, _SECONDS, _SECONDS, _SECONDS, st.floats(0, 20 * 86400), st.floats(0, 20 * 86400),
       st.one_of(st.none(), st.floats(0, 100)), st.integers(0, 20))
def test_time_lowers_by_one_level_at_most_and_only_within_grace(
        severity: Severity, grace: int | None, escalate: int | None, stuck: int | None, age: float,
        still: float, progress: float | None, changes: int) -> None:
    policy = Policy((), 6, 3600)
    now = T0 + 30 * 86400
    memory = Memory(now - age, progress, now - min(age, still), changes, now - age)  # out of ok since then
    judged = judge(severity, "S / X", Timing(None, grace, escalate, stuck), memory, now, policy)
    if judged.severity < severity:
        assert grace and age < grace and judged.reasons[0].startswith("S / X for ")
        assert severity.rank - judged.severity.rank <= 1 or severity is Severity.CRITICAL
        assert judged.severity in (Severity.OK, Severity.WARNING)
    if changes >= 6:
        assert judged.severity >= Severity.WARNING and judged.flapping
    assert judged.age_seconds == now - memory.since


@given(_SEVERITIES, st.integers(1, 3600), st.floats(0, 7200), st.sampled_from(list(Severity)))
def test_grace_never_goes_below_the_floor_nor_lowers_what_may_not_be_lowered(
        severity: Severity, grace: int, age: float, floor: Severity) -> None:
    policy = Policy((), 6, 3600)
    now = T0 + 86400
    memory = Memory(now - age, None, None, 0, now - age)
    timing = Timing(None, grace, None, None)
    floored = judge(severity, "S / X", timing, memory, now, policy, floor=floor).severity
    assert floored is severity if floor >= severity else floored >= floor
    assert judge(severity, "S / X", timing, memory, now, policy, demotable=False).severity is severity
    untrusted = judge(severity, "S / X", timing, memory._replace(trusted=False), now, policy)
    assert (untrusted.severity, untrusted.reasons, untrusted.grace_until) == (severity, (), None)
