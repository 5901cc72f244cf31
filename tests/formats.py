"""Checkers of the monitoring formats, written from each format's own
specification (not from zvpg's writers):

- monitoring-plugins development guidelines: `TEXT | PERFDATA` on the first
  line, long text below, more performance data after the first `|` of the long
  text; a datum is `'label'=value[UOM];[warn];[crit];[min];[max]`, a label
  holds neither `=` nor `'`, a value is `[-0-9.]+`.
- Checkmk local checks: `<state> "<service>" <metrics|-> <text>`, metrics
  `name=value;warn;crit;min;max` joined by `|`.
- Prometheus text format: parsed by prometheus_client's own parser.
"""

from __future__ import annotations

import re
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

_VALUE = r"-?[0-9]+(?:\.[0-9]+)?"
_UOM = r"(?:s|ms|us|%|B|KB|MB|GB|TB|c)?"
_THRESH = r"[-0-9.:~@]*"
_LABEL = r"(?:'[^'=]+'|[^'=\s]+)"
PERF_DATUM = re.compile(rf"{_LABEL}={_VALUE}{_UOM}(?:;{_THRESH}(?:;{_THRESH}(?:;(?:{_VALUE})?(?:;(?:{_VALUE})?)?)?)?)?")
NAGIOS_FIRST = re.compile(r"^ZVPG (OK|WARNING|CRITICAL|UNKNOWN) - ([^|\n]+)(?: \| (.*))?$")


def perf_items(text: str) -> list[str]:
    """The performance data of `text`, split into datums (quoted labels may hold spaces)."""
    return re.findall(rf"{_LABEL}=\S+", text)


def check_nagios(text: str) -> tuple[str, dict[str, str]]:
    """The state and every performance datum (label -> value text) of plugin output."""
    lines = text.rstrip("\n").split("\n")
    m = NAGIOS_FIRST.match(lines[0])
    assert m, lines[0]
    perf_text = [m.group(3) or ""]
    in_perf = False
    for line in lines[1:]:
        assert "\x1b" not in line and "\r" not in line
        if not in_perf and "|" in line:
            _before, _, after = line.partition("|")
            assert "|" not in after, line
            in_perf = True
            perf_text.append(after)
        elif in_perf:
            assert "|" not in line, line
            perf_text.append(line)
    perf = {}
    for chunk in perf_text:
        rest = chunk
        for datum in perf_items(chunk):
            assert PERF_DATUM.fullmatch(datum), datum
            rest = rest.replace(datum, "", 1)
            label, _, value = datum[1:].partition("'=") if datum.startswith("'") else datum.partition("=")
            perf[label] = value
        assert not rest.strip(), f"not performance data: {rest!r}"
    return m.group(1), perf


def counts(perf: dict[str, str]) -> dict[str, int]:
    return {k: int(v) for k, v in perf.items() if k in ("critical", "warning", "ok", "unknown", "total")}


_METRIC = rf"[a-z_]+={_VALUE}(?:;(?:{_VALUE})?){{0,4}}"
CHECKMK_LINE = re.compile(rf'^([0-3]) "([^"\n]+)" (-|{_METRIC}(?:\|{_METRIC})*) (.+)$')


def check_checkmk(text: str, n: int) -> list[re.Match[str]]:
    lines = text.rstrip("\n").split("\n") if text else []
    assert len(lines) == n
    matches = []
    for line in lines:
        m = CHECKMK_LINE.match(line)
        assert m, line
        assert "\x1b" not in line and "\r" not in line
        matches.append(m)
    assert len({m.group(2) for m in matches}) == n, "service names must be unique"
    return matches


def check_prometheus(text: str, n: int) -> dict[str, Any]:
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert {"zvpg_vpg_severity", "zvpg_vpg_info", "zvpg_vpgs", "zvpg_run_timestamp_seconds"} <= set(families)
    sev = families["zvpg_vpg_severity"]
    assert sev.type == "gauge" and len(sev.samples) == n
    assert len({tuple(sorted(s.labels.items())) for s in sev.samples}) == n, "series must be unique"
    return families
