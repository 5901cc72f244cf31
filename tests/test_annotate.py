"""`zvpg annotate`: lossless, every accepted encoding, clean errors, formats."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from zvpg_cli.knowledge.kb import load_kb
from zvpg_cli.output.payloads import write_json
from zvpg_cli.sources.payload import PayloadError, parse
from zvpg_cli.triage.rows import rows

PAYLOAD = (
    '[\n  {"VpgName": "ERP \\"prod\\" | é", "VpgIdentifier": "a1", "Status": 2, "SubStatus": 23, '
    '"ActualRPO": 12, "ConfiguredRpoSeconds": 300, "Big": 12345678901234567890123456789, '
    '"Dec": 0.1234567890123456789012, "Exp": 1E+400, "Nested": {"a": [1, null, "日本"], "b": {}}, "Nul": null},\n'
    '  {"VpgName": "Web", "Status": "MeetingSLA", "SubStatus": "None", "ActualRPO": 5, "ConfiguredRpoSeconds": 300},\n'
    '  {"VpgName": "Odd", "Status": 99, "SubStatus": 6},\n'
    '  {},\n'
    '  {"VmName": "vm1", "Status": true, "Unknown": {"deep": [[[]]]}}\n]\n'
)


def exact(text: str | bytes) -> Any:
    """JSON parsed without losing anything: numbers as their text, key order and
    duplicate keys kept."""
    return json.loads(text, parse_int=lambda s: ("int", s), parse_float=lambda s: ("float", s),
                      parse_constant=lambda s: ("const", s), object_pairs_hook=list)


def check_lossless(source: str | bytes, output: bytes) -> list[Any]:
    before, after = exact(source), exact(output)
    single = not isinstance(before, list) or (before and isinstance(before[0], tuple))
    if single and isinstance(before, list) and before and isinstance(before[0], tuple):
        before, after = [before], [after]
    assert len(before) == len(after)
    annotations = []
    for b, a in zip(before, after, strict=True):
        assert a[:-1] == b
        assert a[-1][0] == "zvpg"
        annotations.append(json.loads(json.dumps(dict(a[-1:])["zvpg"])))
    return annotations


def test_lossless_and_decoded(run: Any) -> None:
    p = run("annotate", input=PAYLOAD)
    assert p.returncode == 0, p.stderr
    notes = check_lossless(PAYLOAD, p.stdout)
    assert b"12345678901234567890123456789" in p.stdout and b"0.1234567890123456789012" in p.stdout
    assert b"1E+400" in p.stdout and "日本".encode() in p.stdout
    first = exact(p.stdout)[0]
    z = dict(first)["zvpg"]
    z = {k: dict(v) if isinstance(v, list) and k != "reasons" else v for k, v in z}
    assert z["status"]["name"] == "Not Meeting SLA" and z["status"]["known"] is True
    assert z["substatus"]["api_name"] == "BitmapSync"
    assert len(notes) == 5


def _zvpg(output: bytes) -> list[dict[str, Any]]:
    data = json.loads(output)
    return [o["zvpg"] for o in (data if isinstance(data, list) else [data])]


def test_codes_names_none_unknown(run: Any) -> None:
    p = run("annotate", input=PAYLOAD)
    z = _zvpg(p.stdout)
    assert z[1]["status"] == {"value": "MeetingSLA", "code": 1, "name": "Meeting SLA", "api_name": "MeetingSLA",
                              "known": True, "summary": "The VPG meets its SLA settings."}
    assert z[1]["substatus"]["name"] is None and z[1]["substatus"]["api_name"] == "None"
    assert z[1]["substatus"]["known"] is True
    assert z[2]["status"]["known"] is False and z[2]["status"]["name"] is None and z[2]["status"]["value"] == 99
    assert z[3]["status"] is None and z[3]["substatus"] is None
    assert z[4]["status"]["known"] is False and z[4]["status"]["value"] is True
    err = p.stderr.decode()
    assert "object 2: unknown Status 99" in err and "object 3: no Status" in err and "object 4" in err


def test_single_object_in_single_object_out(run: Any) -> None:
    obj = '{"VpgName": "One", "Status": 1, "SubStatus": 0}'
    p = run("annotate", "-", input=obj)
    out = json.loads(p.stdout)
    assert isinstance(out, dict) and out["zvpg"]["status"]["name"] == "Meeting SLA"
    check_lossless(obj, p.stdout)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-le-bom", "utf-16-be-bom", "utf-32"])
def test_encodings(run: Any, tmp_path: Any, encoding: str) -> None:
    if encoding == "utf-16-le-bom":
        data = b"\xff\xfe" + PAYLOAD.encode("utf-16-le")  # Windows PowerShell 5.1 Out-File
    elif encoding == "utf-16-be-bom":
        data = b"\xfe\xff" + PAYLOAD.encode("utf-16-be")
    else:
        data = PAYLOAD.encode(encoding)
    f = tmp_path / "in.json"
    f.write_bytes(data)
    p = run("annotate", str(f))
    assert p.returncode == 0, p.stderr
    p.stdout.decode("utf-8")  # output is always UTF-8
    assert not p.stdout.startswith(b"\xef\xbb\xbf")
    check_lossless(PAYLOAD, p.stdout)


@pytest.mark.parametrize(("data", "message"), [
    (b"", "input is empty"),
    (b"   \n ", "input is empty"),
    (b"[1, 2", "invalid JSON at line 1"),
    (b'[\n  {"a": 1},\n  {"a": }\n]', "invalid JSON at line 3, column"),
    (b"42", "input is a JSON number"),
    (b'"text"', "input is a JSON string"),
    (b"null", "input is a JSON null"),
    (b'[{"Status": 1}, 7]', "item 1 of the array is a JSON number"),
    (b'[{"Status": 1}, [1]]', "item 1 of the array is a JSON array"),
    (b'[{"VpgName": "\xff\xfe\xfa"}]', "not UTF-8 text"),
    ('[{"a": 1}]'.encode("utf-16-le"), "UTF-16 without a byte-order mark"),
    (b"\xff\xfe\x00\xd8", "not UTF-16-LE text"),
    (b'{"a": ' * 5000 + b"1" + b"}" * 5000, "nested too deeply"),
])
def test_unreadable_input(run: Any, data: bytes, message: str) -> None:
    p = run("annotate", input=data)
    assert p.returncode == 2
    assert p.stdout == b""
    err = p.stderr.decode()
    assert message in err, err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_missing_file(run: Any, tmp_path: Any) -> None:
    p = run("annotate", str(tmp_path / "nope.json"))
    assert p.returncode == 2 and p.stdout == b"" and b"cannot read" in p.stderr


def test_ndjson(run: Any) -> None:
    p = run("annotate", "--format", "ndjson", input=PAYLOAD)
    lines = p.stdout.decode().splitlines()
    assert len(lines) == 5
    for src, line in zip(exact(PAYLOAD), lines, strict=True):
        assert exact(line)[:-1] == src


def test_csv(run: Any) -> None:
    p = run("annotate", "--format", "csv", "--fields", "name,status,substatus,severity,VpgIdentifier,Big",
            input=PAYLOAD)
    rows = list(csv.reader(io.StringIO(p.stdout.decode())))
    assert rows[0] == ["name", "status", "substatus", "severity", "VpgIdentifier", "Big"]
    assert rows[1] == ['ERP "prod" | é', "Not Meeting SLA", "Bitmap Syncing", "critical", "a1",
                       "12345678901234567890123456789"]
    assert rows[2][:3] == ["Web", "Meeting SLA", "none"]
    assert rows[3][1] == "99 (unknown)"  # as triage writes it


def test_csv_defuses_formulas(run: Any) -> None:
    p = run("annotate", "--format", "csv", input='[{"VpgName": "=HYPERLINK(1)", "Status": 1, "ActualRPO": -5}]')
    rows = list(csv.reader(io.StringIO(p.stdout.decode())))
    assert rows[1][0] == "'=HYPERLINK(1)" and rows[1][5] == "-5"


def test_table(run: Any) -> None:
    p = run("annotate", "--format", "table", input=PAYLOAD, env={"COLUMNS": "120"})
    out = p.stdout.decode()
    assert 'ERP "prod" | é' in out and "Not Meeting SLA" in out and "12s / 300s" in out and "5 objects" in out
    assert "\x1b" not in out


def test_default_format_is_json_when_piped(run: Any) -> None:
    p = run("annotate", input='[{"Status": 1}]')
    assert json.loads(p.stdout)[0]["zvpg"]["status"]["name"] == "Meeting SLA"


def test_many_unknown_codes_are_summarised(run: Any) -> None:
    data = json.dumps([{"Status": 1000 + i} for i in range(100)])
    p = run("annotate", input=data)
    assert p.returncode == 0
    err = p.stderr.decode().splitlines()
    assert len(err) == 21 and "80 more objects" in err[-1]


def test_empty_array(run: Any) -> None:
    p = run("annotate", input="[]")
    assert p.returncode == 0 and json.loads(p.stdout) == []


json_scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(10**40), max_value=10**40),
                         st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=20))
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)), max_leaves=20)
api_objects = st.dictionaries(
    st.one_of(st.sampled_from(["Status", "SubStatus", "VpgName", "ActualRPO"]), st.text(max_size=10)),
    json_values, max_size=6)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(api_objects, max_size=5), st.booleans())
def test_round_trip_property(objs: list[dict[str, Any]], indent: bool) -> None:
    kb = load_kb()
    text = json.dumps(objs, indent=2 if indent else None, ensure_ascii=False)
    out = io.BytesIO()
    import sys

    class _Stdout:
        buffer = out

        def write(self, s: str) -> None:
            out.write(s.encode())

        def flush(self) -> None:
            pass

    if objs and not any("Status" in o or any(o.get(n) is not None for n in ("VpgName", "vpgName", "VmName", "vmName"))
                        for o in objs):  # (every spelling of a name: payload.SPELLINGS)
        # neither a Status nor a name anywhere: data of another endpoint, refused
        with pytest.raises(PayloadError, match="does not look like VPG or VM data"):
            parse(text.encode())
        return
    real = sys.stdout
    sys.stdout = _Stdout()  # type: ignore[assignment]
    try:
        payload = parse(text.encode())
        write_json(kb, payload, rows(kb, payload), lambda row: None)
    finally:
        sys.stdout = real
    check_lossless(text, out.getvalue())


def _identity_keys(obj: dict[str, Any]) -> bool:
    return any(k in obj for k in ("Status", "status")) or any(
        obj.get(k) is not None for k in ("VpgName", "vpgName", "VmName", "vmName"))


@settings(max_examples=200, deadline=None)
@given(json_values)
@example({"vpgs": [None]})  # a wrapper around something other than objects
def test_any_json_value_parses_or_fails_cleanly(value: Any) -> None:
    text = json.dumps(value).encode()
    try:
        parse(text)
    except PayloadError as exc:
        assert "\n" not in str(exc)
        objects = [value] if isinstance(value, dict) else value if isinstance(value, list) else None
        if isinstance(value, dict) and not _identity_keys(value):  # a wrapper: {"vpgs": [...]}, {"value": [...]}
            inner = value.get("vpgs") if "vpgs" in value else value.get("value") if set(value) <= {"value", "Count"} \
                else None
            objects = inner if isinstance(inner, list) else objects
        if objects is not None and all(isinstance(v, dict) for v in objects):
            # objects are refused only when none carries a Status or a name (another endpoint's data)
            assert "does not look like VPG or VM data" in str(exc) or "Zerto Analytics" in str(exc), exc
            assert not any(_identity_keys(v) for v in objects)
        return
    assert isinstance(value, (dict, list))
