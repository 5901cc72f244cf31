"""Adversarial and property-based tests: no input crashes zvpg, hangs it, or
reaches a terminal or a line-based format raw."""

from __future__ import annotations

import csv
import io
import json
import os
import re
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zvpg_cli.base.sanitize import printable
from zvpg_cli.output.markdown import md

any_text = st.text(alphabet=st.characters(codec="utf-8"), max_size=80)
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FAST
@given(any_text)
def test_explain_any_text(cli: Any, term: str) -> None:
    for args in (["explain", "--", term], ["explain", "--json", "--", term]):
        r = cli(*args)
        assert r.exit_code in (0, 1), (term, r.exit_code, r.stderr)
        assert "Traceback" not in r.stderr
        if r.exit_code == 1:
            assert r.stdout == "" and r.stderr.startswith("zvpg: ")
        elif "--json" in args:
            json.loads(r.stdout)


@FAST
@given(any_text)
def test_list_search_any_text(cli: Any, text: str) -> None:
    r = cli("list", "--search", text, "--json")
    found = json.loads(r.stdout)
    assert isinstance(found, list) and r.exit_code == (0 if found else 1)


@FAST
@given(st.text(max_size=12), st.text(max_size=12))
def test_decode_any_values(cli: Any, status: str, substatus: str) -> None:
    r = cli("decode", "--", status, substatus)
    assert r.exit_code in (0, 1, 2) and "Traceback" not in r.stderr


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | any_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(any_text, inner, max_size=4), max_leaves=15)


@FAST
@given(json_values)
def test_annotate_any_json_value(cli: Any, value: Any) -> None:
    r = cli("annotate", input=json.dumps(value))
    assert "Traceback" not in r.stderr
    if r.exit_code == 0:
        out = json.loads(r.stdout)
        assert isinstance(out, (list, dict))
    else:
        assert r.exit_code == 2 and r.stdout == "" and r.stderr.count("\n") == 1


@FAST
@given(st.binary(max_size=200))
def test_annotate_any_bytes(cli: Any, data: bytes) -> None:
    r = cli("annotate", input=data)
    assert r.exit_code in (0, 2) and "Traceback" not in r.stderr
    if r.exit_code == 2:
        assert r.stdout == ""


def test_a_100000_character_term(cli: Any) -> None:
    for term in ("x" * 100_000, "bitmap " * 15_000, "é" * 100_000):
        r = cli("explain", term)
        assert r.exit_code == 1 and len(r.stderr) < 1000


def test_deep_nesting_is_refused_cleanly(run: Any) -> None:
    deep = '[{"Status": 1, "x": ' + "[" * 10_000 + "]" * 10_000 + "}]"
    p = run("annotate", input=deep)
    assert p.returncode == 2 and b"nested too deeply" in p.stderr and p.stdout == b""
    p = run("triage", "--nagios", input=deep)
    assert p.returncode == 3 and p.stdout.startswith(b"ZVPG UNKNOWN")


def test_a_1_gb_payload_is_refused_before_reading(run: Any, tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    with open(big, "wb") as fh:  # sparse: costs no disk
        fh.truncate(1024 ** 3)
    p = run("annotate", str(big), timeout=30)
    assert p.returncode == 2 and b"larger than the limit" in p.stderr and p.stdout == b""
    p = run("annotate", "--max-bytes", "1000", input=b"[" + b'{"Status":1},' * 200 + b'{"Status":1}]')
    assert p.returncode == 2 and b"larger than the limit of 1000 bytes" in p.stderr


UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


@settings(max_examples=300, deadline=None)
@given(any_text)
def test_printable_leaves_nothing_that_moves_the_cursor(text: str) -> None:
    out = printable(text)
    assert not UNSAFE.search(out) and "\n" not in out and "\t" not in out
    if text.isprintable():
        assert out == text


@settings(max_examples=300, deadline=None)
@given(any_text)
def test_markdown_cells_cannot_break_a_table(text: str) -> None:
    cell = md(text)
    assert "\n" not in cell and "\r" not in cell
    assert not re.search(r"(?<!\\)\|", cell)  # every | is escaped
    assert "<" not in cell.replace("\\<", "")


@FAST
@given(st.lists(any_text, min_size=1, max_size=5))
def test_csv_and_table_survive_hostile_names(cli: Any, names: list[str]) -> None:
    objs = [{"VpgName": n, "Status": 2, "SubStatus": 6} for n in names]
    r = cli("annotate", "--format", "csv", "--fields", "name,status", input=json.dumps(objs))
    rows = list(csv.reader(io.StringIO(r.stdout, newline="")))
    assert rows[0] == ["name", "status"] and len(rows) == len(names) + 1
    for name, row in zip(names, rows[1:], strict=True):
        shown = printable(name)  # control characters escaped, as everywhere
        expected = "'" + shown if shown[:1] in ("=", "+", "-", "@") and not _number(shown) else shown
        assert row == [expected, "Not Meeting SLA"]
        assert not UNSAFE.search(row[0])
    table = cli("annotate", "--format", "table", input=json.dumps(objs), env={"COLUMNS": "200"})
    assert not UNSAFE.search(table.stdout) and "\x1b" not in table.stdout


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_hostile_knowledge_base_text_is_escaped(tmp_path: Path, cli: Any) -> None:
    from conftest import KB_FILE

    evil = KB_FILE.read_text(encoding="utf-8").replace(
        'comment: "The VPG has been recovered."', 'comment: "\\e[31mred\\e[0m | \\u202eevil\\nline [bold]x[/bold]"', 1)
    path = tmp_path / "evil.yaml"
    path.write_text(evil, encoding="utf-8")
    out = cli("--data", str(path), "explain", "Recovered").stdout
    assert "\x1b" not in out and "\u202e" not in out and "\\x1b[31mred" in out and "[bold]x[/bold]" in out
    md_out = cli("--data", str(path), "explain", "Recovered", "--format", "markdown").stdout
    assert "\\|" in md_out


def test_read_only(tmp_path: Path, run: Any) -> None:
    """zvpg writes nothing but its cache entry."""
    cache = tmp_path / "cache"
    work = tmp_path / "work"
    work.mkdir()
    src = Path(__file__).resolve().parent.parent / "examples" / "vpgs.json"
    for args in (["explain", "Error"], ["list"], ["annotate", str(src)], ["triage", str(src), "--nagios"],
                 ["validate"]):
        run(*args, env={"ZVPG_CACHE_DIR": str(cache)}, cwd=str(work))
    assert os.listdir(work) == []
    assert all(name.startswith("kb-") and name.endswith(".marshal") for name in os.listdir(cache))
