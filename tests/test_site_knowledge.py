"""The site knowledge (data/alerts.yaml) says what the site-health reference says:
every alert code of its table with the same title, level, alarm, sources and note;
the VRA Status and PairingStatus values it gives; every entry with its sources.
`zvpg explain CODE` and `zvpg list --alerts` show it, and no text breaks explain."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from zvpg_cli.base.tomltext import parse_toml
from zvpg_cli.knowledge import alerts
from zvpg_cli.knowledge.kbsource import KBError

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = (ROOT / "tests" / "fixtures" / "zerto-site-health.md").read_text(encoding="utf-8")
SCHEMA = Draft202012Validator(json.loads((ROOT / "schemas" / "alert.schema.json").read_text(encoding="utf-8")))
LEVELS = {"E": "Error", "W": "Warning", "E/W": "Error / Warning", "–": None, "": None}
SOURCE_KEYS = ("SM", "LM", "CL", "RK", "ZB", "E2", "ZN", "PZ", "ZM", "D", "A", "K", "Y", "W")


def reference_alert_rows() -> list[list[str]]:
    """The cells of the reference's table of HelpIdentifier codes from Zerto-authored sources."""
    lines = REFERENCE.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| code | title [D] |"))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in line.strip().strip("|").split("|")])
    return rows


def source_keys(cell: str) -> list[str]:
    """"DAK" -> D, A, K (the table writes the keys run together)."""
    keys = []
    while cell:
        key = next(k for k in SOURCE_KEYS if cell.startswith(k))
        keys.append(key)
        cell = cell[len(key):]
    return keys


def reference_codes(heading: str) -> dict[int, str]:
    """`0 Installed, 1 UnsupportedEsxVersion, ...` after a bold heading such as **`Status`**:."""
    line = re.split(r"\n(?:-|\n)", REFERENCE.split(f"**`{heading}`**:", 1)[1], maxsplit=1)[0]
    return {int(n): name for n, name in re.findall(r"(\d+) ([A-Za-z]+)", line)}


@pytest.fixture(scope="module")
def sk() -> alerts.SiteKnowledge:
    return alerts.load(str(ROOT / "data" / "alerts.yaml"))


def test_every_code_of_the_reference_table_is_encoded_as_the_table_gives_it(sk: alerts.SiteKnowledge) -> None:
    rows = reference_alert_rows()
    assert len(rows) == 140 and len(sk.alerts) == len(rows)
    for (code, title, level, alarm, src, note), alert in zip(rows, sk.alerts, strict=True):
        assert (alert.code, alert.title, alert.level, alert.alarm, list(alert.sources), alert.note) == \
            (code, title or None, LEVELS[level], alarm or None, source_keys(src), note or None), code


def test_codes_from_one_source_are_the_ones_the_reference_names(sk: alerts.SiteKnowledge) -> None:
    stated = int(re.search(r"(\d+) codes rest on one source", REFERENCE).group(1))  # type: ignore[union-attr]
    single = [a for a in sk.alerts if a.single_source]
    assert len(single) == stated == 18
    for a in single:
        assert f"only {a.sources[0]}" in (a.note or ""), a.code


def test_every_entry_names_known_sources_and_zerto_authorship_is_the_references(sk: alerts.SiteKnowledge) -> None:
    for a in sk.alerts:
        assert a.sources and all(k in sk.sources for k in a.sources), a.code
        assert all(r.source in sk.sources for r in a.remarks), a.code
        assert all(sk.sources[k].zerto for k in a.sources), f"{a.code}: the table lists Zerto-authored sources only"
    for table in alerts.CODE_TABLES:
        assert all(c.sources for c in getattr(sk, table)), table
    assert "D, A, K, Y, W are Zerto-authored" in REFERENCE
    assert {k for k, s in sk.sources.items() if s.zerto} == {"D", "A", "K", "Y", "W"}


def test_vra_status_and_pairing_status_are_the_references(sk: alerts.SiteKnowledge) -> None:
    sdk = reference_codes("Status")
    assert sdk == {0: "Installed", 1: "UnsupportedEsxVersion", 2: "NotInstalled", 3: "Installing", 4: "Removing",
                   5: "InstallationError", 6: "HostPasswordChanged", 7: "UpdatingIpSettings", 8: "DuringChangeHost"}
    community = {9: "HostInMaintenanceMode", 10: "HostEnteringMaintenanceMode"}
    for n, name in community.items():
        assert f"{n} {name}" in REFERENCE
    assert {c.code: c.name for c in sk.vra_statuses} == sdk | community
    assert {c.code for c in sk.vra_statuses if c.uncertain} == set(community)  # community sources only
    assert all("K" in c.sources for c in sk.vra_statuses if not c.uncertain)  # Zerto's SDK
    assert {c.code: c.name for c in sk.pairing_statuses} == reference_codes("PairingStatus") == \
        {0: "Paired", 1: "Pairing", 2: "Unpaired"}  # not claranet's "1=Unpairing"
    assert "CL" not in {k for c in sk.pairing_statuses for k in c.sources}
    assert {c.code: c.name for c in sk.vra_alerts_statuses} == reference_codes("VraAlerts.VraAlertsStatus")
    assert alerts.decode("vra_statuses", 5) == next(c for c in sk.vra_statuses if c.code == 5)
    assert alerts.decode("vra_statuses", 11) is None and alerts.decode("vra_statuses", "5") is None


def test_remarks_are_the_references_words_about_peers(sk: alerts.SiteKnowledge) -> None:
    """LogicMonitor drops VPG0004, VPG0010, VRA0039 (the reference, section 7)."""
    dropped = {a.code for a in sk.alerts for r in a.remarks if r.source == "LM"}
    assert dropped == {"VPG0004", "VPG0010", "VRA0039"}
    assert "drops VPG0004, VPG0010, VRA0039" in REFERENCE
    as_info = {a.code for a in sk.alerts for r in a.remarks if r.source == "Y"}
    assert as_info == {f"LIC000{i}" for i in range(1, 9)} | {"ZVM0006"}


BROKEN = [
    ('    sources: [D, A, K]\n    note: null\n  - code: "VPG0004"',
     '    sources: [D, A, Q]\n    note: null\n  - code: "VPG0004"', "unknown source 'Q'"),
    ('  - code: "VPG0004"', '  - code: "VPG0003"', "duplicate code VPG0003"),
    ('    level: "Error"\n', '    level: "Critical"\n', "level 'Critical' is not one of"),
    ('    note: "only K"\n', '    note: null\n', "one source, so its note must say 'only K'"),
    ('  - {code: 2, name: "Unpaired"', '  - {code: 1, name: "Unpaired"', "pairing_statuses: duplicate code 1"),
]


@pytest.mark.parametrize(("old", "new", "message"), BROKEN, ids=[m for _, _, m in BROKEN])
def test_a_broken_file_is_refused_with_its_line(tmp_path: Path, old: str, new: str, message: str) -> None:
    text = (ROOT / "data" / "alerts.yaml").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "alerts.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    problems = alerts.check_file(str(path))
    assert any(message in p.message and p.line for p in problems), problems
    with pytest.raises(KBError, match=re.escape(message)):
        alerts.load(str(path))


def test_validate_checks_the_alerts_file(cli: Any, tmp_path: Path) -> None:
    r = cli("validate", str(ROOT / "data" / "alerts.yaml"))
    assert r.exit_code == 0 and r.stdout.endswith("alerts.yaml: valid\n")
    bad = tmp_path / "alerts.yaml"
    bad.write_text((ROOT / "data" / "alerts.yaml").read_text(encoding="utf-8")
                   .replace('sources: [CL, LM], uncertain: true', 'sources: [], uncertain: true'), encoding="utf-8")
    r = cli("validate", str(bad))
    assert r.exit_code == 2 and re.search(r"alerts\.yaml:\d+: sources must be a non-empty list", r.stderr), r.stderr


def test_the_file_ships_in_the_wheel() -> None:
    config = parse_toml((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    included = config["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]
    assert included["data/alerts.yaml"] == "zvpg_cli/data/alerts.yaml"


# ---- through the CLI ------------------------------------------------------------------

@pytest.mark.parametrize("term", ["VPG0010", "vpg0010", " Vpg0010 "])
def test_explain_takes_an_alert_code_in_any_case(run: Any, term: str) -> None:
    p = run("explain", term)
    out = p.stdout.decode()
    assert p.returncode == 0, p.stderr
    assert out.startswith("VPG0010  alert code (HelpIdentifier)")
    assert "VPG target RPO exceeded (Zerto's Daily Email Report, D)" in out
    assert "LogicMonitor" in out and "zvpg's judgement" in out


def test_explain_json_of_an_alert_code_follows_its_schema(run: Any) -> None:
    p = run("explain", "zvm0003", "--json")
    answer = json.loads(p.stdout)
    SCHEMA.validate(answer)
    assert (answer["code"], answer["title"], answer["level"]) == ("ZVM0003", "No connection to site", "Error / Warning")
    assert {r["kind"] for r in answer["remarks"]} == {"peer", "inference", "uncertain"}


def test_explain_says_when_a_code_rests_on_one_source(cli: Any) -> None:
    r = cli("explain", "VRA0055")
    assert r.exit_code == 0 and "K (one source only, Zerto-authored)" in r.stdout
    assert "none given: no Zerto source titles this code" in r.stdout


@pytest.mark.parametrize("fmt", ["yaml", "markdown"])
def test_explain_an_alert_code_in_every_format(cli: Any, fmt: str) -> None:
    r = cli("explain", "VRA0028", "--format", fmt)
    assert r.exit_code == 0 and "VRA powered off" in r.stdout


def test_an_unknown_alert_code_is_one_line_naming_it(run: Any) -> None:
    p = run("explain", "zvm0099")
    assert p.returncode == 1 and p.stdout == b""
    assert p.stderr.decode() == "zvpg: unknown alert code ZVM0099: see zvpg list --alerts\n"


def test_list_alerts_lists_every_code_and_follows_the_schema(run: Any) -> None:
    answer = json.loads(run("list", "--alerts", "--json").stdout)
    SCHEMA.validate(answer)
    assert [a["code"] for a in answer] == [row[0] for row in reference_alert_rows()]
    table = run("list", "--alerts").stdout.decode()
    assert "VPG0010" in table and "ZVM0003" in table


def test_list_alerts_searches_and_refuses_the_status_filters(cli: Any) -> None:
    r = cli("list", "--alerts", "--search", "journal", "--json")
    assert r.exit_code == 0 and "VRA0039" in {a["code"] for a in json.loads(r.stdout)}
    r = cli("list", "--alerts", "--search", "no such words")
    assert r.exit_code == 1 and "no alert codes match" in r.stderr
    r = cli("list", "--alerts", "--kind", "status")
    assert r.exit_code == 2 and "--alerts takes only --search" in r.stderr
    r = cli("list", "--alerts", "--format", "markdown", "--search", "VRA0028")
    assert r.exit_code == 0 and "| VRA0028 | VRA powered off |" in r.stdout


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.from_regex(r"[A-Za-z]{3}[0-9]{4}", fullmatch=True),
                 st.from_regex(r"\s*[A-Za-z\u0660-\u0669ÄßİK]{3}[0-9\u0660-\u0669\u00b2]{3,5}\s*", fullmatch=True),
                 st.sampled_from([a for row in reference_alert_rows() for a in (row[0], row[0].lower())])))
def test_no_code_like_text_given_to_explain_crashes_it(cli: Any, term: str) -> None:
    """Text shaped like an alert code (any other text: tests/test_robustness.py) is
    explained or refused in one line; ZVPG_DEBUG is set, so an internal error would raise."""
    for args in (("explain", "--", term), ("explain", "--json", "--", term)):
        r = cli(*args)
        assert r.exit_code in (0, 1), (args, r.stderr)
        if r.exit_code:
            assert r.stdout == "" and r.stderr.count("\n") == 1 and r.stderr.startswith("zvpg: "), r.stderr
        elif "--json" in args:
            assert json.loads(r.stdout)
