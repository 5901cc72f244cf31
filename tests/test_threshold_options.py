"""--rpo-warning / --rpo-critical: any value either gives thresholds whose
limits are finite numbers every output can write, or is a usage error in one
line naming the option (exit 2; under --nagios the UNKNOWN status line, exit 3)
— never an internal error. A warning above the critical one is refused."""

from __future__ import annotations

import json
import math

import pytest
from conftest import run_zvpg
from hypothesis import given
from hypothesis import strategies as st

from zvpg_cli.base.units import number
from zvpg_cli.triage.rows import MAX_RATIO, parse_thresholds

PAYLOAD = json.dumps([{"VpgName": "a", "VpgIdentifier": "1", "Status": 1, "SubStatus": 0, "ActualRPO": 7200,
                       "ConfiguredRpoSeconds": 300}])
HUGE = "1" + "0" * 306

specs = st.one_of(
    st.none(),
    st.text(max_size=30),
    st.integers(min_value=-10, max_value=10**400).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.decimals(allow_nan=False, allow_infinity=False, places=3).map(str),
    st.tuples(st.integers(min_value=0, max_value=10**12), st.sampled_from("smhdSMHDx")).map(lambda t: f"{t[0]}{t[1]}"),
)
configured = st.one_of(st.none(), st.integers(min_value=-1, max_value=2**60),
                       st.floats(min_value=0, max_value=1.7976931348623157e308))


@given(specs, specs, configured)
def test_any_value_gives_finite_limits_or_a_one_line_usage_error(warning: str | None, critical: str | None,
                                                                 conf: float | None) -> None:
    try:
        found = parse_thresholds(warning, critical)
    except ValueError as exc:
        text = str(exc)
        assert text.startswith(("--rpo-warning", "--rpo-critical")) and "\n" not in text, text
        return
    for threshold in found:
        if threshold is None:
            continue
        assert threshold.ratio is None or 0 < threshold.ratio <= MAX_RATIO
        limit = threshold.limit(conf)
        if limit is not None:
            assert math.isfinite(limit)
            number(round(limit, 3))  # what performance data writes: raises for what is not finite
    w, c = found
    if w is not None and c is not None and w.ratio is not None and c.ratio is not None:
        assert w.ratio <= c.ratio
    if w is not None and c is not None and w.seconds is not None and c.seconds is not None:
        assert w.seconds <= c.seconds


@pytest.mark.parametrize(("args", "message"), [
    (["--rpo-critical", HUGE], b"--rpo-critical: a ratio of 307 characters: a ratio must be above 0 and at most 1000"),
    (["--rpo-warning", "1001"], b"--rpo-warning: '1001': a ratio must be above 0 and at most 1000"),
    (["--rpo-warning", "inf"], b"--rpo-warning: 'inf' is not a finite number"),
    (["--rpo-warning-ratio", "1e306"], b"--rpo-warning: a ratio of"),
    (["--rpo-warning-ratio", "nan"], b"--rpo-warning: 'nan' is not a finite number"),
    (["--rpo-warning", "2h", "--rpo-critical", "15m"],
     b"--rpo-warning 2h is above --rpo-critical 15m: a warning must not need more than a critical"),
    (["--rpo-warning", "3", "--rpo-critical", "1.5"], b"--rpo-warning 3 is above --rpo-critical 1.5"),
])
def test_a_threshold_that_is_not_sane_is_a_usage_error(args: list[str], message: bytes) -> None:
    p = run_zvpg("triage", "--format", "checkmk", *args, input=PAYLOAD)
    assert p.returncode == 2 and p.stdout == b"", p.stderr
    assert p.stderr.startswith(b"zvpg: " + message) and p.stderr.count(b"\n") == 1, p.stderr
    p = run_zvpg("triage", "--nagios", *args, input=PAYLOAD)
    assert p.returncode == 3 and p.stdout.startswith(b"ZVPG UNKNOWN - " + message), p.stdout
    assert p.stdout.count(b"\n") == 1


@pytest.mark.parametrize("args", [["--rpo-warning", "1.5", "--rpo-critical", "15m"],
                                  ["--rpo-warning", "15m", "--rpo-critical", "1.5"],
                                  ["--rpo-warning", "15m", "--rpo-critical", "15m"]])
def test_a_ratio_and_a_duration_are_not_compared(args: list[str]) -> None:
    """Which is higher depends on each VPG's ConfiguredRpoSeconds."""
    p = run_zvpg("triage", "--nagios", *args, input=PAYLOAD)
    assert p.returncode == 2 and p.stdout.startswith(b"ZVPG CRITICAL - "), p.stdout


def test_a_ratio_of_a_configured_rpo_near_the_float_maximum_is_no_limit() -> None:
    payload = json.dumps([{"VpgName": "a", "VpgIdentifier": "1", "Status": 1, "SubStatus": 0, "ActualRPO": 5,
                           "ConfiguredRpoSeconds": 1e308}])
    p = run_zvpg("triage", "--nagios", "--rpo-warning", "2", input=payload)
    assert p.returncode == 0 and p.stdout.startswith(b"ZVPG OK - "), p.stdout
    assert b"'a rpo'=5s;;;0;" in p.stdout
