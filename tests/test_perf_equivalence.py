"""The fast paths of the csv, table, checkmk and prometheus outputs give
exactly what the straightforward per-object code gives, for any payload:
odd values (floats, -0, 1E+400, huge integers, true, objects), control and
bidi characters, unknown and camelCase codes, repeated names and identifiers."""

from __future__ import annotations

import contextlib
import csv
import io
import itertools
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zvpg_cli.model import KnowledgeBase
from zvpg_cli.output import monitoring as m
from zvpg_cli.output import payloads as out
from zvpg_cli.payload import PayloadError, annotate_all, fields, parse
from zvpg_cli.sanitize import printable
from zvpg_cli.triage import SiteOutcome, summarize, triage, triage_batches

FIELDS = ("VpgName", "VmName", "VpgIdentifier", "VmIdentifier", "Status", "SubStatus", "ActualRPO",
          "ConfiguredRpoSeconds", "status", "subStatus", "vpgName", "vmName", "vpgIdentifier", "Priority")

_CHARS = [*'aZ09 -=+@.#\\"|[]/é漢', "\x1b", "\r", "\n", "\t", "\u202e", "\x00", "\x85", "\u200b"]
_TEXT = st.text(alphabet=st.sampled_from(_CHARS), max_size=12)
# JSON texts of values, written the way the test wants them (numbers kept exactly as written)
_LITERALS = ["0", "-0", "1.5", "1.50", "1E+400", "-1e400", "1" + "0" * 4400, "300", "true", "false", "null",
             '{"a": [1, 2]}', "[]", '"=1+2"', '"-5"', '"\\u001b[31m"', '"a\\u0000b"', '"@x"', "1", "6", "23",
             '"Meeting SLA"', '"Bitmap Syncing"', '"NotAStatus"', "35", "99"]
_VALUE = st.one_of(st.sampled_from(_LITERALS), _TEXT.map(json.dumps), st.integers(-10**6, 10**6).map(str))
_OBJECT = st.dictionaries(st.sampled_from(FIELDS), _VALUE, max_size=8).map(
    lambda members: "{" + ", ".join(f"{json.dumps(k)}: {v}" for k, v in members.items()) + "}")
_PAYLOAD = st.lists(st.one_of(_OBJECT, st.sampled_from([
    '{"VpgName": "a", "VpgIdentifier": "x", "Status": 1, "SubStatus": 0, "ActualRPO": 5, "ConfiguredRpoSeconds": 300}',
    '{"VpgName": "a", "VpgIdentifier": "x", "Status": 1, "SubStatus": 23}',
    '{"VmName": "a", "VmIdentifier": "x", "VpgName": "p", "Status": 2, "SubStatus": 6}',
    '{"VpgName": "b", "VpgIdentifier": "y", "Status": 1, "SubStatus": 0, "ActualRPO": 200,'
    ' "ConfiguredRpoSeconds": 300}',
    '{"vpgName": "c", "vpgIdentifier": "z", "status": 1, "subStatus": 0, "actualRPO": 9, "configuredRpoSeconds": 10}',
])), min_size=1, max_size=30).map(lambda objects: ("[" + ",\n".join(objects) + "]").encode())

COLUMNS = [*out.DEFAULT_FIELDS, "rpo", "VpgIdentifier", "Priority"]


def _payload(data: bytes) -> Any:
    try:
        return parse(data)
    except PayloadError:
        return None


def reference_rows(kb: KnowledgeBase, payload: Any, columns: list[str], calls: list[int]) -> list[list[str]]:
    """One object at a time: its raw members, then `_cell` per column."""
    result = []
    for index, a in annotate_all(kb, payload):
        if a.problems:
            calls.append(index)
        members = fields(payload.items[index])
        result.append([out._cell(c, members, a) for c in columns])
    return result


def _printed(write: Any, *args: Any) -> str:
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        write(*args)
    return buffer.getvalue()


def reference_csv(rows: list[list[str]], columns: list[str]) -> str:
    buffer = io.StringIO()
    w = csv.writer(buffer, lineterminator="\r\n")
    w.writerow(columns)
    for row in rows:
        w.writerow([out._defuse(printable(c)) for c in row])
    return buffer.getvalue()


def reference_table(rows: list[list[str]], columns: list[str]) -> str:
    """The table the row-at-a-time layout gives (no colour: not a terminal)."""
    from rich.cells import cell_len

    from zvpg_cli.output.human import console

    width = console().width

    headers = [printable(out.HEADERS.get(c, c)) for c in columns]
    cells = [[printable(c) for c in row] for row in rows]
    widths = out._fit(columns, headers, cells[:out.TABLE_BATCH], width, cell_len)
    lines = out._lines(headers, widths, columns, cell_len, lambda c, text: text)
    lines.append(" " + "─" * (sum(widths) + 3 * (len(widths) - 1)))
    for row in cells:
        lines += out._lines(row, widths, columns, cell_len, lambda c, text: text)
    n = len(rows)
    return "\n" + "\n".join(lines) + "\n" + f"\n{n} object{'s' if n != 1 else ''}\n"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=_PAYLOAD, batch=st.sampled_from([1, 3, 4096]))
def test_csv_and_table_cells_match_the_per_object_code(kb: KnowledgeBase, data: bytes, batch: int) -> None:
    payload = _payload(data)
    if payload is None:
        return
    expected_calls: list[int] = []
    expected = reference_rows(kb, payload, COLUMNS, expected_calls)
    calls: list[int] = []
    assert list(out.rows(kb, payload, COLUMNS, lambda i, a: calls.append(i), batch)) == expected
    assert calls == expected_calls


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=_PAYLOAD, table=st.booleans(), fields=st.sampled_from([
    None, "failover,name,rpo", "name", "severity", "status,substatus", "VpgIdentifier,failover,VpgName"]))
def test_csv_and_table_output_match_the_row_at_a_time_writers(kb: KnowledgeBase, data: bytes, table: bool,
                                                               fields: str | None) -> None:
    payload = _payload(data)
    if payload is None:
        return
    columns = [*out.parse_fields(None, table=table), "VpgIdentifier"] if fields is None else out.parse_fields(fields)
    rows = reference_rows(kb, payload, columns, [])
    if table:
        got = _printed(out.write_table, kb, payload, columns, lambda i, a: None)
        assert got == reference_table(rows, columns)
    else:
        got = _printed(out.write_csv, kb, payload, columns, lambda i, a: None)
        assert got == reference_csv(rows, columns)


# ---- triage: Checkmk and Prometheus ----------------------------------------------------------------

def reference_checkmk(states: list[Any], summary: Any) -> str:
    """Service names made unique over the whole list, then `_checkmk_line` per VPG."""
    names = [m.service_name(s) for s in states]
    services = m.unique(names, [m._service_text(s.identifier) or f"#{s.position}" for s in states])
    lines = "".join(m._checkmk_line(s, service) + "\n" for s, service in zip(states, services, strict=True))
    sites = "".join(m.checkmk_chunks(lambda: iter([]), summary))
    return lines + sites


def reference_prometheus(states: list[Any], summary: Any) -> str:
    """Every series from `series_labels` and `_gauge_values`, one VPG at a time."""
    labels = m.series_labels(states)
    out = ["# HELP zvpg_vpg_info Decoded status and substatus names of the VPG (value always 1).\n"
           "# TYPE zvpg_vpg_info gauge\n"]
    for s, lab in zip(states, labels, strict=True):
        status = (s.pair.status.name if s.pair else None) or ""
        sub = (s.pair.substatus.name if s.pair and s.pair.substatus else None) or ""
        out.append(f'zvpg_vpg_info{{{lab},status="{m.label(status)}",substatus="{m.label(sub)}",'
                   f'severity="{s.severity}"}} 1\n')
    for g, (metric, help_text) in enumerate(m._GAUGES):
        out.append(f"# HELP {metric} {help_text}\n# TYPE {metric} gauge\n")
        for s, lab in zip(states, labels, strict=True):
            value = m._gauge_values(s)[g]
            if value is not None:
                out.append(f"{metric}{{{lab}}} {float(value):g}\n")
    rest = "".join(m.prometheus_chunks(summary, lambda: iter([])))
    return "".join(out) + rest[rest.index("# HELP zvpg_vpgs"):]


_SITES = st.sampled_from([(), (SiteOutcome("nyc", "https://a", None, 3), SiteOutcome("l\x1bon", "https://b", "down"))])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=_PAYLOAD, batch=st.sampled_from([1, 3, 2048]), ratio=st.sampled_from([None, 0.5]),
       site=st.sampled_from([None, "nyc", 'a"b\\c']), sites=_SITES)
def test_checkmk_and_prometheus_match_the_per_vpg_code(kb: KnowledgeBase, data: bytes, batch: int,
                                                      ratio: float | None, site: str | None, sites: Any) -> None:
    payload = _payload(data)
    if payload is None:
        return
    if site is None:  # one payload, streamed a batch at a time
        summary, batches = triage_batches(kb, payload, ratio, batch)
        states = [s for part in batches() for s in part]
    else:  # the states of a site, as one list (the several-sites path)
        states = triage(kb, payload, ratio, site=site)
        summary = summarize(states)

        def batches() -> Any:
            return iter([states])
    summary = summary._replace(sites=sites)
    assert "".join(m.checkmk_chunks(batches, summary)) == reference_checkmk(states, summary)
    assert "".join(m.prometheus_chunks(summary, batches)) == reference_prometheus(states, summary)


def test_distinct_tells_duplicates_from_hash_slot_collisions() -> None:
    texts = [f"vpg-{i}" for i in range(50_000)]  # enough for many shared bitmap slots
    d = m._Distinct()
    d.add(texts)
    assert d.all_distinct(lambda: iter(texts))
    d.add(["vpg-49999"])
    assert not d.all_distinct(lambda: iter([*texts, "vpg-49999"]))


def _unique_quadratic(keys: list[str], alternates: list[str]) -> list[str]:
    """`unique` as it was: each repeat scans ` #2`, ` #3`... from the start."""
    from collections import Counter

    count = Counter(keys)
    if len(count) == len(keys):
        return keys
    candidates = [k if count[k] == 1 else f"{k} [{alt}]" for k, alt in zip(keys, alternates, strict=True)]
    used, seen, out = set(candidates), set(), []
    for c in candidates:
        if c not in seen:
            seen.add(c)
            out.append(c)
            continue
        n = 2
        while f"{c} #{n}" in used:
            n += 1
        used.add(f"{c} #{n}")
        out.append(f"{c} #{n}")
    return out


_NAMES = st.sampled_from(["X", "X #2", "X #3", "X [a]", "X [a] #2", "a", "a#1", ""])


@settings(max_examples=300, deadline=None)
@given(pairs=st.lists(st.tuples(_NAMES, st.sampled_from(["a", "b", "a #2", ""])), max_size=40))
def test_unique_names_in_linear_time_as_before(pairs: list[tuple[str, str]]) -> None:
    keys, alternates = [k for k, _ in pairs], [a for _, a in pairs]
    got = m.unique(keys, alternates)
    assert got == _unique_quadratic(keys, alternates)
    assert len(set(got)) == len(got)


def test_many_equal_names_take_linear_time() -> None:
    import time

    start = time.perf_counter()
    names = m.unique(["same"] * 50_000, ["same"] * 50_000)
    assert len(set(names)) == 50_000 and names[-1] == "same [same] #50000"
    assert time.perf_counter() - start < 5  # (quadratic: minutes)


@settings(max_examples=300, deadline=None)
@given(pairs=st.lists(st.tuples(_NAMES, st.sampled_from(["a", "b", "a #2", ""])), max_size=40),
       cuts=st.lists(st.integers(min_value=0, max_value=40), max_size=5))
def test_unique_batches_is_unique_a_batch_at_a_time(pairs: list[tuple[str, str]], cuts: list[int]) -> None:
    keys, alternates = [k for k, _ in pairs], [a for _, a in pairs]
    bounds = [0, *sorted(c for c in cuts if c < len(keys)), len(keys)]

    def split(items: list[str]) -> Any:
        return lambda: (items[a:b] for a, b in itertools.pairwise(bounds))

    got = list(m.unique_batches(split(keys), split(alternates)))
    assert [len(part) for part in got] == [b - a for a, b in itertools.pairwise(bounds)]
    assert [name for part in got for name in part] == _unique_quadratic(keys, alternates)


def test_unique_batches_of_many_equal_names() -> None:
    keys = [["same"] * 1000 for _ in range(50)]
    got = [n for part in m.unique_batches(lambda: iter(keys), lambda: iter(keys)) for n in part]
    assert len(set(got)) == 50_000 and got[:2] == ["same [same]", "same [same] #2"] and got[-1] == "same [same] #50000"
