"""Reliability under attack (issue 11): closed and full streams, interrupts,
usage errors under monitoring, giant numbers, hostile input sizes, markup
and control characters from data, and the memory promise."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURES, run_zvpg

VMS = str(FIXTURES / "payloads" / "vms.json")
PY = sys.executable
full = pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")


def sh(command: str, input: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    """`command` in a POSIX shell, where `zvpg` is this Python's `-m zvpg_cli`."""
    return subprocess.run(["sh", "-c", command.replace("zvpg ", f"'{PY}' -m zvpg_cli ", 1)],
                          input=input, capture_output=True, timeout=60)


# ---- 6. closed and full streams, interrupts, usage errors under monitoring ------------

@pytest.mark.parametrize("command", ["zvpg list >&-", f"zvpg annotate {VMS} >&-",
                                     f"zvpg triage --format json {VMS} >&-"])
def test_closed_stdout_is_one_line_and_exit_74(command: str) -> None:
    p = sh(command)
    assert p.returncode == 74, p.stderr
    assert p.stderr == b"zvpg: cannot write output: stdout is closed\n"


@full
@pytest.mark.parametrize("args", ["list", "explain Initializing --json", f"annotate {VMS}", f"annotate {VMS} -f table",
                                  f"triage {VMS}", f"triage -f prometheus {VMS}", "--version", "--help"])
def test_full_disk_is_one_line_and_exit_74(args: str) -> None:
    p = sh(f"zvpg {args} >/dev/full")
    assert p.returncode == 74, p.stderr
    assert p.stderr == b"zvpg: cannot write output: No space left on device\n"


def test_closed_stdin_is_unreadable_input() -> None:
    p = sh("zvpg annotate <&-")
    assert p.returncode == 2 and p.stdout == b""
    assert p.stderr == b"zvpg: cannot read stdin: it is closed\n"  # named once


@pytest.mark.parametrize(("command", "stdout"), [
    ("zvpg triage --nagios <&-", b"ZVPG UNKNOWN - cannot read stdin: it is closed\n"),
    ("zvpg triage --nagios --bogus", b"ZVPG UNKNOWN - usage: No such option: --bogus"),
    ("zvpg triage --limit x --nagios", b"ZVPG UNKNOWN - usage: Invalid value for '--limit': "),
    ("zvpg triage -f nagios --rpo-warning-ratio -1", b"ZVPG UNKNOWN - usage: Invalid value for '--rpo-warning-ratio'"),
    ("zvpg triage --format=nagios a b", b"ZVPG UNKNOWN - cannot read a: No such file or directory"),
    ("zvpg triage --nagios --format json", b"ZVPG UNKNOWN - --nagios, --json and --format are exclusive"),
])
def test_nagios_usage_and_input_errors_are_unknown_with_a_status_line(command: str, stdout: bytes) -> None:
    p = sh(command)
    assert p.returncode == 3, (p.stdout, p.stderr)
    assert p.stdout.startswith(stdout) and p.stdout.count(b"\n") == 1, p.stdout
    assert b"Traceback" not in p.stderr and b"\xe2\x95\xad" not in p.stderr  # no rich error panel


@full
@pytest.mark.parametrize("redirect", [">/dev/full", ">&-"])
def test_nagios_that_cannot_print_is_unknown(redirect: str) -> None:
    p = sh(f"zvpg triage --nagios {VMS} {redirect}")
    assert p.returncode == 3 and p.stderr.startswith(b"zvpg: cannot write output: ")


def test_usage_errors_outside_nagios_keep_exit_2() -> None:
    p = sh("zvpg triage --bogus")
    assert p.returncode == 2 and p.stdout == b"" and b"No such option" in p.stderr


@pytest.mark.parametrize("delay", [0.0, 0.002, 0.005, 0.01, 0.02, 0.04])
def test_ctrl_c_at_any_point_is_a_quiet_exit_130(delay: float) -> None:
    """SIGINT from zvpg's first instruction on (Python's own start-up, before
    any of zvpg runs, is out of its reach): `-X importtime` tells when the
    handler is in place (the `gc` import right after it), then the signal
    comes `delay` seconds later, during the heavy imports or the command."""
    p = subprocess.Popen([PY, "-X", "importtime", "-m", "zvpg_cli", "annotate", VMS, "-f", "table"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert p.stderr is not None
    seen = []
    for line in iter(p.stderr.readline, b""):
        seen.append(line)
        if line.rstrip().endswith(b"|   gc"):
            break
    time.sleep(delay)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=60)
    err = b"".join(seen) + err
    assert p.returncode in (130, 0), err[-2000:]  # 0: it had finished before the signal came
    assert b"Traceback" not in err and b"KeyboardInterrupt" not in err and b"Exception ignored" not in err


# ---- 4. text from data never becomes markup or control sequences ---------------------

HOSTILE_NAME = r"Recovered [/x] [link=http://evil.example]L[/link] [blink]B[/blink] \e[31mRED\r\0 \u202eevil"
HOSTILE_SHOWN = "Recovered [/x] [link=http://evil.example]L[/link] [blink]B[/blink] \\x1b[31mRED\\x0d\\x00 \\u202eevil"


@pytest.fixture(scope="module")
def hostile_kb(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The shipped knowledge base with status 8 (Recovered) renamed to markup,
    ESC, CR, NUL and a bidi override (YAML escapes in a double-quoted string)."""
    from conftest import KB_FILE

    text = KB_FILE.read_text(encoding="utf-8")
    assert text.count('  - name: "Recovered"\n') == 1
    path = tmp_path_factory.mktemp("kb") / "hostile.yaml"
    path.write_text(text.replace('  - name: "Recovered"\n', f'  - name: "{HOSTILE_NAME}"\n'), encoding="utf-8")
    return str(path)


def _raw_controls(text: str) -> list[str]:
    """Control characters other than rich's own SGR colour codes and newlines."""
    import re

    return re.findall(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", re.sub(r"\x1b\[[0-9;]*m", "", text))


@pytest.mark.parametrize("args", [
    ["list"], ["list", "--status", "Recovered"], ["explain", "Recovered"], ["explain", "Recovered", "--evidence"],
    ["decode", "8", "0"],
])
def test_knowledge_base_names_are_plain_text_on_a_colour_terminal(hostile_kb: str, args: list[str]) -> None:
    p = subprocess.run([PY, "-m", "zvpg_cli", "--data", hostile_kb, *args], capture_output=True, timeout=60,
                       env={**os.environ, "FORCE_COLOR": "1", "COLUMNS": "400", "TERM": "xterm-256color"})
    out, err = p.stdout.decode(), p.stderr.decode()
    assert p.returncode == 0, err
    assert "[/x]" in out and "[blink]B[/blink]" in out  # shown, not interpreted
    assert "\x1b]8;" not in out and "\x1b[5m" not in out  # no hyperlink, no blink
    assert "\x1b[31mRED" not in out and "\\x1b[31mRED" in out.replace("\\\\", "\\")
    assert _raw_controls(out) == [] and _raw_controls(err) == []


@pytest.mark.parametrize("term", ["Recoverd", "Rec"])
def test_suggestions_on_stderr_are_printable(hostile_kb: str, term: str) -> None:
    p = subprocess.run([PY, "-m", "zvpg_cli", "--data", hostile_kb, "explain", term], capture_output=True, timeout=60)
    err = p.stderr.decode()
    assert p.returncode == 1 and HOSTILE_SHOWN in err and _raw_controls(err) == [] and err.count("\n") == 1


def test_markup_in_fields_is_a_plain_column_header() -> None:
    payload = json.dumps([{"VpgName": "v", "Status": 1, "SubStatus": 0, "[blink]x[/blink]": 1, "[/y]": 2,
                           "[link=http://e]z": 3}]).encode()
    p = sh("zvpg annotate -f table --fields 'name,[blink]x[/blink],[/y],[link=http://e]z'", input=payload)
    out = p.stdout.decode()
    assert p.returncode == 0, p.stderr
    assert "[blink]x[/blink]" in out and "[/y]" in out and "[link=http://e]z" in out


def test_knowledge_base_names_in_every_triage_format(hostile_kb: str) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    payload = json.dumps([{"VpgName": "v\x1b[2J\r\u202e", "VpgIdentifier": "i\x00\r\x1b", "Status": 8,
                           "SubStatus": 0}, {"VpgName": "w", "Status": 8, "SubStatus": 0}])
    for fmt in ("table", "json", "nagios", "checkmk", "prometheus"):
        p = run_zvpg("--data", hostile_kb, "triage", "--format", fmt, "--limit", "0", input=payload,
                     env={"COLUMNS": "300"})
        out = p.stdout.decode()
        assert p.returncode in (0, 1, 2) and p.stderr == b"", (fmt, p.stderr)
        if fmt == "json":
            data = json.loads(out)
            assert data["vpgs"][0]["status"]["name"] == HOSTILE_NAME.replace("\\e", "\x1b").replace(
                "\\r", "\r").replace("\\0", "\x00").replace("\\u202e", "\u202e")
            continue
        assert _raw_controls(out) == [], (fmt, out)
        if fmt == "prometheus":
            families = {f.name: f for f in text_string_to_metric_families(out)}
            info = families["zvpg_vpg_info"].samples
            assert {s.labels["status"] for s in info} == {HOSTILE_SHOWN}
            assert info[0].labels["vpg"] == "v\\x1b[2J\\x0d\\u202e" and info[0].labels["id"] == "i\\x00\\x0d\\x1b"


def test_decode_did_you_mean_is_printable(tmp_path: Path) -> None:
    from conftest import KB_FILE

    text = KB_FILE.read_text(encoding="utf-8").replace('    api_name: "Recovered"\n',
                                                       '    api_name: "Recovered\\e[5m\\u202e"\n')
    (tmp_path / "kb.yaml").write_text(text, encoding="utf-8")
    p = run_zvpg("--data", str(tmp_path / "kb.yaml"), "decode", "RecoveredX")
    err = p.stderr.decode()
    assert p.returncode == 1 and "did you mean: Recovered\\x1b[5m\\u202e?" in err and _raw_controls(err) == []


@pytest.mark.parametrize("names", [["X", "X", "X #2"], ["X #2", "X", "X"], ["X", "X #2", "X", "X #2 #2"]])
def test_checkmk_services_stay_unique_when_suffixes_collide(names: list[str]) -> None:
    payload = json.dumps([{"VpgName": n, "Status": 1, "SubStatus": 0} for n in names])
    out = run_zvpg("triage", "--format", "checkmk", input=payload).stdout.decode()
    services = [line.split('"')[1] for line in out.splitlines()]
    assert len(services) == len(names) == len(set(services))


@pytest.mark.parametrize("idents", [["a", "a", "a#1"], ["a#1", "a", "a"], ["a", "a", "a #2", "a#2"]])
def test_prometheus_series_stay_unique_when_identifiers_collide(idents: list[str]) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    payload = json.dumps([{"VpgName": "v", "VpgIdentifier": i, "Status": 1, "SubStatus": 0} for i in idents])
    out = run_zvpg("triage", "--format", "prometheus", input=payload).stdout.decode()
    samples = next(f for f in text_string_to_metric_families(out) if f.name == "zvpg_vpg_severity").samples
    assert len({tuple(sorted(s.labels.items())) for s in samples}) == len(idents)


# ---- 3. numbers no machine type holds, hostile sizes, nesting ---------------------------

from hypothesis import HealthCheck, example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

GIANT = ["9" * 4301, "-" + "9" * 4400, "1" + "0" * 309, "1E+400", "-1E+400", "1e-400", "-0", "-0.0", "1.5",
         "18446744073709551616", "9007199254740993", "0", "23", "2"]
numbers = st.sampled_from(GIANT) | st.integers().map(str) | st.floats(allow_nan=False, allow_infinity=False).map(repr)
#: every field zvpg reads, in both spellings
READ = ["Status", "SubStatus", "ActualRPO", "ConfiguredRpoSeconds", "VpgName", "VmName", "VpgIdentifier",
        "VmIdentifier", "status", "subStatus", "actualRPO", "configuredRpoSeconds", "vpgName", "vmName"]
ANNOTATE = [["annotate", "-f", f] for f in ("json", "ndjson", "table", "csv")]
ANNOTATE_CSV_ALL = [["annotate", "-f", "csv", "--fields", ",".join(["name", "status", "substatus", "rpo", "actual_rpo",
                                                                      "configured_rpo", *READ])]]
TRIAGE = [["triage", "-f", f, *extra] for f in ("table", "json", "nagios", "checkmk", "prometheus")
          for extra in ([], ["--rpo-warning-ratio", "0.5"])]


def _objects(rows: list[dict[str, str]]) -> bytes:
    return ("[" + ",".join("{" + ",".join(f'"{k}":{v}' for k, v in row.items()) + "}" for row in rows) + "]").encode()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.dictionaries(st.sampled_from(READ), numbers, min_size=1), min_size=1, max_size=3))
@example([{"Status": "9" * 4301, "SubStatus": "9" * 4301, "VpgName": '"a"'},
          {"Status": "1", "SubStatus": "0", "ActualRPO": "1" + "0" * 309, "ConfiguredRpoSeconds": "1E+400"},
          {"Status": "-0", "SubStatus": "1.5", "ActualRPO": "-0", "ConfiguredRpoSeconds": "1.5"}])
def test_numbers_no_machine_type_holds_in_every_field_and_format(cli: Any, rows: list[dict[str, str]]) -> None:
    data = _objects(rows)
    for args in ANNOTATE + ANNOTATE_CSV_ALL + TRIAGE:
        r = cli(*args, input=data)
        ok = (0, 1, 2, 3) if "nagios" in args else (0, 2)
        assert r.exit_code in ok, (args, r.exit_code, r.stderr[-300:])
        if r.exit_code == 2 and "nagios" not in args:  # input refused: nothing with a number in it, not crashed
            assert r.stdout == "" and "does not look like VPG or VM data" in r.stderr, r.stderr
            continue
        if args[:3] == ["annotate", "-f", "json"]:
            out = json.loads(r.stdout, parse_int=str, parse_float=str)
            assert len(out) == len(rows)
            for row in rows:  # every member kept exactly as written
                assert "{" + ",".join(f'"{k}":{v}' for k, v in row.items()) + ',"zvpg":' in r.stdout
        if args[:3] == ["annotate", "-f", "csv"] and len(args) > 3:
            for row in rows:
                for k, v in row.items():
                    if k in ("ActualRPO", "ConfiguredRpoSeconds") and not v.startswith('"'):
                        assert v in r.stdout  # copied exactly
        if args[:3] == ["triage", "-f", "json"]:
            out = json.loads(r.stdout)
            for v in out["vpgs"]:
                for k in ("actual_rpo", "configured_rpo"):
                    assert v[k] is None or (isinstance(v[k], (int, float)) and math.isfinite(v[k]))
        if args[:3] == ["triage", "-f", "prometheus"]:
            from prometheus_client.parser import text_string_to_metric_families

            list(text_string_to_metric_families(r.stdout))


def test_giant_numbers_through_the_installed_cli_in_every_format() -> None:
    data = _objects([{"VpgName": '"a"', "Status": "9" * 4301, "SubStatus": "9" * 4400, "VpgIdentifier": "9" * 5000},
                     {"VpgName": '"b"', "Status": "1", "SubStatus": "0", "ActualRPO": "1" + "0" * 309,
                      "ConfiguredRpoSeconds": "1E+400"}])
    for args in ANNOTATE + TRIAGE:
        p = run_zvpg(*args, input=data)
        assert p.returncode in ((1, 2, 3) if "nagios" in args else (0,)), (args, p.stderr[-300:])
        assert b"internal error" not in p.stderr
        if args[-1] in ("json", "ndjson") and args[0] == "annotate":
            assert b"9" * 4301 in p.stdout and b"1" + b"0" * 309 in p.stdout and b"1E+400" in p.stdout
        if "nagios" in args:
            assert p.stdout.startswith(b"ZVPG UNKNOWN - ")


@pytest.mark.parametrize("limit", ["68719476736", "9223372036854775807", str(10**30)])
def test_a_huge_max_bytes_is_never_preallocated(limit: str) -> None:
    for source in ([VMS], []):
        p = run_zvpg("annotate", "--max-bytes", limit, *source, input=Path(VMS).read_bytes())
        assert p.returncode == 0 and json.loads(p.stdout), p.stderr


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
@pytest.mark.parametrize("command", ["zvpg annotate /dev/zero", "zvpg annotate </dev/zero",
                                     "zvpg triage --nagios </dev/zero"])
def test_input_that_cannot_be_json_is_refused_at_once(command: str) -> None:
    p = sh(command)  # sh() gives up after 60 s: reading /dev/zero to the end would hang
    assert p.returncode == (3 if "nagios" in command else 2)
    assert b"input is not JSON: it starts with the byte 0x00" in p.stderr + p.stdout


@pytest.mark.parametrize(("data", "message"), [
    (b"<html><body>502 Bad Gateway", "input is not JSON: it starts with '<'"),
    (b"\xef\xbb\xbf \n\t\x7fELF", "input is not JSON: it starts with the byte 0x7f"),
    ("\ufeff  x".encode("utf-16-le"), "input is not JSON: it starts with 'x'"),
    (b"   " * 5000 + b"Z", "invalid JSON"),  # white space first: the parser says what is wrong
])
def test_what_cannot_start_json_is_named(data: bytes, message: str) -> None:
    p = run_zvpg("annotate", input=data)
    assert p.returncode == 2 and message in p.stderr.decode()


def test_the_nesting_limit_is_zvpgs_own() -> None:
    from zvpg_cli.sources.payload import MAX_DEPTH

    def nested(levels: int) -> bytes:  # `levels` deep in all, padded past the quick bound (n bytes: n/2 levels)
        return (b'[{"Status": 1, "pad": "' + b"x" * 2000 + b'", "a": ' + b"[" * (levels - 2) + b"]" * (levels - 2)
                + b"}]")

    assert run_zvpg("annotate", input=nested(MAX_DEPTH)).returncode == 0
    for levels in (MAX_DEPTH + 2, 1000, 5000, 20000):
        p = run_zvpg("annotate", input=nested(levels))
        assert p.returncode == 2 and b"nested too deeply" in p.stderr and str(MAX_DEPTH).encode() in p.stderr


json_trees = st.recursive(st.none() | st.integers() | st.text(alphabet='[]{}"\\ab\n', max_size=6),
                          lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
                              st.text(alphabet='[]{}"\\a', max_size=4), inner, max_size=3), max_leaves=30)


@settings(max_examples=300, deadline=None)
@given(json_trees)
def test_nesting_depth_is_exact(value: Any) -> None:
    from zvpg_cli.sources.payload import nesting_depth

    def depth(v: Any) -> int:
        if isinstance(v, list):
            return 1 + max(map(depth, v), default=0)
        if isinstance(v, dict):
            return 1 + max(map(depth, v.values()), default=0)
        return 0

    for indent in (None, 1):
        assert nesting_depth(json.dumps(value, indent=indent).encode()) == depth(value)
    deep = [value]
    for _ in range(20):
        deep = [deep, {"k": "]"}]
    assert nesting_depth(json.dumps(deep).encode()) == depth(deep)


# ---- 7. every VPG in every format, streamed ---------------------------------------------

@settings(max_examples=40, deadline=None)
@given(st.lists(st.fixed_dictionaries({"Status": st.sampled_from([0, 1, 2, 4, 99, "x"]),
                                       "SubStatus": st.sampled_from([0, 6, 23, 999]),
                                       "VpgName": st.sampled_from(["a", "a", "b\x1b", None]),
                                       "ActualRPO": st.sampled_from([1, 400, "12", None, 1.5, 2**60])},
                                      optional={"VmName": st.sampled_from(["vm", None]),
                                                "configuredRpoSeconds": st.sampled_from([300, 0])}),
                max_size=12), st.integers(1, 5), st.sampled_from([None, "0.5", "10m"]))
def test_triage_json_in_chunks_is_one_valid_document(objs: list[dict[str, Any]], chunk: int,
                                                      warning: str | None) -> None:
    from zvpg_cli.knowledge.kb import load_kb
    from zvpg_cli.output.report import json_chunks
    from zvpg_cli.sources.payload import PayloadError, parse
    from zvpg_cli.sources.read import Read
    from zvpg_cli.triage.report import Options
    from zvpg_cli.triage.report import run as run_triage
    from zvpg_cli.triage.rows import Thresholds, parse_threshold

    try:
        payload = parse(json.dumps(objs).encode())
    except PayloadError:
        return
    r = run_triage(load_kb(), [Read(payload)], Options(thresholds=Thresholds(warning and parse_threshold(warning))))
    whole = b"".join(json_chunks(r))
    assert b"".join(json_chunks(r, per_chunk=chunk)) == whole
    data = json.loads(whole)
    assert [v["index"] for v in data["vpgs"]] == list(range(len(objs)))
    assert data["summary"]["total"] == len(objs) == sum(data["summary"][k] for k in ("ok", "warning", "critical",
                                                                                        "unknown"))


@pytest.mark.parametrize("columns", ["80", "100", "60", "200"])
def test_annotate_table_never_breaks_a_word_or_a_header(columns: str) -> None:
    example = FIXTURES.parent.parent / "examples" / "vpgs.json"
    for path in (VMS, str(example)):
        p = run_zvpg("annotate", path, "-f", "table", env={"COLUMNS": columns})
        out = p.stdout.decode()
        assert p.returncode == 0
        words = set(out.split()) | {w.strip(",.;()") for w in out.split()}
        csv_rows = run_zvpg("annotate", path, "-f", "csv", "--fields", "name,status,substatus").stdout.decode()
        import csv
        import io

        for cells in list(csv.reader(io.StringIO(csv_rows)))[1:]:
            for word in " ".join(cells).split():
                assert word in words, (word, out)
        for word in ("Exchange-2019", "Initializing", "checkpoint"):
            assert word not in out or word in words
        lines = out.splitlines()
        head = " ".join(lines[1:next(i for i, line in enumerate(lines) if "─" in line)]).split()
        for word in ("Name", "Status", "Substatus", "Severity", "Failover?", "RPO", "act", "/", "cfg"):
            assert word in head  # wrapped at a space where it must be, never cut
        if int(columns) >= 80:
            assert max(map(len, lines)) <= int(columns)


def test_annotate_table_streams_a_large_payload() -> None:
    """20,000 rows are laid out as a stream (one rich Table took 215 s for
    200,000; run_zvpg gives up after 60 s). Speed itself is benchmarks/run.py's."""
    rows = [{"VpgName": f"vpg-{i}", "Status": 1 + i % 3, "SubStatus": i % 30, "ActualRPO": i % 900,
             "ConfiguredRpoSeconds": 300} for i in range(20_000)]
    p = run_zvpg("annotate", "-f", "table", input=json.dumps(rows), env={"COLUMNS": "80"})
    assert p.returncode == 0 and p.stdout.decode().rstrip().endswith("20000 objects")
