"""Every command's output for people fits the terminal's width (COLUMNS, or the
pseudo-terminal's) without breaking a word, a name or an RPO: tables narrow their
columns only down to their longest word, and stack their rows where even that
is too wide. Through the installed CLI, as a user runs it."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.cells import cell_len
from test_terminal import in_pty

ROOT = Path(__file__).resolve().parent.parent
ZVPG = [sys.executable, "-m", "zvpg_cli"]
WIDTHS = [60, 80, 120]
#: Words the stacked layouts add around the tables' own words (the tables have the others: "Failover now?").
LAYOUT_WORDS = {"·", "-", "failover", "now", "under", "api", "substatuses", "rpo"}


@functools.lru_cache(maxsize=64)
def zvpg(*args: str, width: int) -> str:
    clean = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "ZVPG_DATA", "COLUMNS", "LINES")}
    p = subprocess.run([*ZVPG, *args], capture_output=True, text=True, encoding="utf-8", timeout=60, cwd=ROOT,
                       env={**clean, "COLUMNS": str(width), "NO_COLOR": "1", "TERM": "dumb"})
    assert p.returncode in (0, 1), p.stderr
    return p.stdout


def words(text: str) -> set[str]:
    """The words of `text`, case and surrounding punctuation aside."""
    return {w.strip(".,:;?!()\"'").casefold() for w in text.split() if w.strip("─")} - {""}


def assert_fits(text: str, width: int, whole: str) -> None:
    """No line wider than `width` cells; every word is one of `whole`'s (the
    same output with room for everything): none was cut in two."""
    too_wide = [line for line in text.splitlines() if cell_len(line) > width]
    assert not too_wide, f"{len(too_wide)} lines over {width} columns, e.g. {too_wide[0]!r}"
    broken = words(text) - words(whole) - LAYOUT_WORDS
    assert not broken, f"words cut in two at {width} columns: {sorted(broken)[:10]}"


COMMANDS = [
    ["explain", "Not Meeting SLA / Delta Syncing"],
    ["explain", "zvm paused protection", "--evidence"],
    ["explain", "RPO Not Meeting SLA / none"],
    ["explain", "2 23"],
    ["decode", "1", "5"],
    ["decode", "12", "0"],
    ["list"],
    ["list", "--status", "Not Meeting SLA"],
    ["list", "--kind", "substatus", "--recovery", "not-possible"],
    ["triage", "examples/vpgs.json"],
    ["annotate", "examples/vpgs.json", "--format", "table"],
    ["annotate", "examples/vpgs.json", "--format", "table", "--fields", "name,VpgIdentifier,severity,rpo"],
]


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_every_command_fits_the_width_without_breaking_a_word(args: list[str], width: int) -> None:
    assert_fits(zvpg(*args, width=width), width, zvpg(*args, width=1000))


# ---- fleets with real-world names --------------------------------------------------------

NAME = st.lists(st.sampled_from(["Backup", "Proxy", "SQL", "Cluster", "Zürich", "東京", "Web", "ERP", "Prod",
                                 "Fileserver", "Exchange", "DB", "São", "Paulo", "HANA"]),
                min_size=1, max_size=3).map("-".join)
STATE = st.sampled_from([(1, 0), (1, 23), (2, 6), (2, 11), (2, 26), (3, 0), (4, 0), (0, 20), (6, 0), (2, 99),
                         (12, 0)])
VPG = st.tuples(NAME, st.integers(0, 999), STATE, st.integers(0, 99_999), st.sampled_from([120, 300, 600, 3600]))


def fleet(vpgs: list[tuple[str, int, tuple[int, int], int, int]]) -> list[dict[str, Any]]:
    return [{"VpgName": f"{name}-{n:03d}", "Status": status, "SubStatus": sub, "ActualRPO": actual,
             "ConfiguredRpoSeconds": configured} for name, n, (status, sub), actual, configured in vpgs]


def assert_whole(text: str, things: list[str]) -> None:
    lines = text.splitlines()
    for thing in things:
        assert any(thing in line for line in lines), f"{thing!r} is not on one line"


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(vpgs=st.lists(VPG, min_size=1, max_size=12), width=st.integers(50, 140))
def test_tables_of_any_fleet_fit_and_keep_names_and_rpos_whole(tmp_path: Path, vpgs: list[Any], width: int) -> None:
    objects = fleet(vpgs)
    text = json.dumps(objects, ensure_ascii=False)
    payload = tmp_path / f"vpgs-{hashlib.sha256(text.encode()).hexdigest()[:16]}.json"  # (outputs are cached by path)
    payload.write_text(text, encoding="utf-8")
    table = zvpg("annotate", str(payload), "--format", "table", width=width)
    assert_fits(table, width, zvpg("annotate", str(payload), "--format", "table", width=1000))
    assert_whole(table, [o["VpgName"] for o in objects])
    assert_whole(table, [f"{o['ActualRPO']}s / {o['ConfiguredRpoSeconds']}s" for o in objects])
    triage = zvpg("triage", str(payload), "--limit", "0", width=width)
    assert_fits(triage, width, zvpg("triage", str(payload), "--limit", "0", width=1000))
    shown = [o for o in objects if o["VpgName"] in triage]
    assert_whole(triage, [o["VpgName"] for o in shown])
    assert_whole(triage, [f"{o['ActualRPO']}s of {o['ConfiguredRpoSeconds']}s" for o in shown])


def test_a_long_rpo_is_never_split_over_lines(tmp_path: Path) -> None:
    """The case that was reported: at 80 columns `1807s / 600s` came out as
    `1807s`, `/`, `600s` on three lines, and `Backup-Proxy-012` as `Backup-Proxy-01`, `2`."""
    payload = tmp_path / "vpgs.json"
    payload.write_text(json.dumps([
        {"VpgName": "Zürich-Fileserver-002", "Status": 1, "SubStatus": 23, "ActualRPO": 8, "ConfiguredRpoSeconds": 300},
        {"VpgName": "東京-DB-006", "Status": 3, "SubStatus": 0, "ActualRPO": 1807, "ConfiguredRpoSeconds": 600},
        {"VpgName": "Backup-Proxy-012", "Status": 2, "SubStatus": 24, "ActualRPO": 2497,
         "ConfiguredRpoSeconds": 120}], ensure_ascii=False), encoding="utf-8")
    table = zvpg("annotate", str(payload), "--format", "table", width=80)
    assert_whole(table, ["1807s / 600s", "Backup-Proxy-012", "Zürich-Fileserver-002"])
    triage = zvpg("triage", str(payload), width=80)
    assert_whole(triage, ["1807s of 600s", "Backup-Proxy-012"])


def test_zvpg_list_keeps_its_headings_when_stacked() -> None:
    narrow, wide = zvpg("list", width=80), zvpg("list", width=1000)
    for text in (narrow, wide):
        assert re.search(r"^ ?Statuses$", text, re.M) and re.search(r"^ ?Substatuses$", text, re.M), text[:300]


# ---- on a terminal -------------------------------------------------------------------------

ESC = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def on_terminal(args: list[str], columns: int) -> str:
    """`zvpg ARGS` on a pseudo-terminal `columns` wide (its window size and COLUMNS), in colour."""
    shown = in_pty(args, columns, TERM="xterm-256color", COLUMNS=str(columns))
    return ESC.sub("", shown.decode("utf-8", "replace")).replace("\r\n", "\n")


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
@pytest.mark.parametrize("args", [["triage", str(ROOT / "examples/vpgs.json")],
                                  ["annotate", str(ROOT / "examples/vpgs.json")],
                                  ["list"], ["explain", "Delta Syncing"]], ids=lambda a: a[0])
def test_on_an_80_column_terminal_in_colour(args: list[str]) -> None:
    shown = on_terminal(args, 80)
    assert_fits(shown, 80, zvpg(*args, *(["--format", "table"] if args[0] == "annotate" else []), width=1000))
    assert "SQL-Cluster" in shown or args[0] not in ("triage", "annotate")
