"""Every view of a fact says the same thing: `list` (wide table, narrow stack, Markdown) shows each entry's
severity as `explain` does, and `decode` shows in text what it shows in JSON, even when part is unknown."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from zvpg_cli.knowledge.model import KnowledgeBase

#: What `explain` says of an entry with no severity of its own.
NONE_OF_ITS_OWN = "none of its own; the status decides"


def explained_severity(cli: Any, name: str) -> str:
    """The first words of the Severity row of `explain NAME` (the severity, before its rationale)."""
    out = cli("explain", name, "--format", "markdown").stdout
    row = next(line for line in out.splitlines() if line.startswith("| **Severity** |"))
    value = re.sub(r"\\(.)", r"\1", row.split("|")[2].strip())
    return value.split(" — ", 1)[0]


def test_explain_says_an_undocumented_substatus_has_no_severity_of_its_own(cli: Any, kb: KnowledgeBase) -> None:
    for entry in kb.entries:
        if entry.severity is None:
            assert explained_severity(cli, entry.name) == NONE_OF_ITS_OWN


def test_list_markdown_shows_each_severity_as_explain_does(cli: Any, kb: KnowledgeBase) -> None:
    out = cli("list", "--format", "markdown").stdout
    rows = [line for line in out.splitlines() if line.startswith("| status |") or line.startswith("| substatus |")]
    assert len(rows) == len(kb.entries)
    for row, entry in zip(rows, kb.entries, strict=True):
        cells = [re.sub(r"\\(.)", r"\1", c.strip()) for c in row.strip("|").split(" | ")]
        assert cells[1] == entry.name
        assert cells[4] == explained_severity(cli, entry.name), entry.name
        assert cells[4] != "unknown"


def test_list_table_shows_backup_as_explain_does(cli: Any) -> None:
    lines = cli("list", "--kind", "substatus", env={"COLUMNS": "200"}).stdout.splitlines()
    col = next(line for line in lines if "Severity" in line).index("Severity")
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("28   Backup"))
    end = next(i for i in range(start + 1, len(lines)) if lines[i][:col].strip())  # the next row
    cell = " ".join(line[col:].split("  ")[0].strip() for line in lines[start:end])
    assert " ".join(cell.split()) == NONE_OF_ITS_OWN


def test_list_stacked_shows_backup_as_explain_does(cli: Any) -> None:
    out = cli("list", "--kind", "substatus", env={"COLUMNS": "80"}).stdout
    backup = out[out.index("28 Backup"):out.index("JournalOrRecoveryMissingError")]
    assert f"  {NONE_OF_ITS_OWN} · " in backup and "unknown" not in backup


def test_list_severity_filter_finds_what_has_none_of_its_own(cli: Any, kb: KnowledgeBase) -> None:
    found = [e["name"] for e in json.loads(cli("list", "--severity", "unknown", "--json").stdout)]
    assert found == [e.name for e in kb.entries if e.severity is None]


@pytest.mark.parametrize("fmt", ["table", "markdown"])
@pytest.mark.parametrize(("args", "known", "unknown"), [
    (("1", "36"), "Meeting SLA", "unknown substatus '36'"),
    (("NotMeetingSLA", "Bogus"), "Not Meeting SLA", "unknown substatus 'Bogus'"),
    (("9", "23"), "Bitmap Syncing", "unknown status '9'"),
])
def test_decode_shows_what_it_decoded_beside_what_it_did_not(cli: Any, fmt: str, args: tuple[str, str],
                                                              known: str, unknown: str) -> None:
    r = cli("decode", *args, "--format", fmt, env={"COLUMNS": "120"})
    assert r.exit_code == 1 and unknown in r.stderr
    assert known in r.stdout
    as_json = json.loads(cli("decode", *args, "--json").stdout)
    assert known in (as_json["status"]["name"], as_json["substatus"]["name"])


@pytest.mark.parametrize("fmt", ["table", "markdown", "json"])
def test_decode_of_nothing_known_prints_only_the_error_for_people(cli: Any, fmt: str) -> None:
    r = cli("decode", "99", "--format", fmt)
    assert r.exit_code == 1 and "unknown status '99'" in r.stderr
    if fmt == "json":  # the JSON contract: an unknown value is {"known": false, ...}
        assert json.loads(r.stdout)["status"]["known"] is False
    else:
        assert r.stdout == ""


@pytest.mark.parametrize(("status", "sub", "severity", "failover"), [
    (9, 8, "critical", False),  # an unknown status keeps a substatus critical on its own (Error: failover "no")
    (9, 6, "unknown", True),  # ... and the documented failover of any substatus
    (9, 0, "unknown", None),
    (1, 33, "warning", None),  # codes 33-35 (community sources): undocumented, at least warning
    (2, 34, "critical", None),
    (1, 35, "warning", None),
    (4, 23, "warning", None),  # not listed: no inferred failover
    (1, 0, "ok", None),  # no RPO numbers: no inferred failover
])
def test_decode_triage_and_annotate_agree(cli: Any, status: int, sub: int, severity: str,
                                          failover: bool | None) -> None:
    decoded = json.loads(cli("decode", str(status), str(sub), "--json").stdout)
    payload = json.dumps([{"VpgName": "x", "Status": status, "SubStatus": sub}])
    row = json.loads(cli("triage", "--format", "json", input=payload).stdout)["vpgs"][0]
    note = json.loads(cli("annotate", input=payload).stdout)[0]["zvpg"]
    assert (decoded["severity"] or "unknown", row["severity"], note["severity"] or "unknown") == (severity,) * 3
    assert (decoded["failover_possible"], row["failover_possible"], note["failover_possible"]) == (failover,) * 3
    assert decoded["failover_basis"] == row["failover_basis"] == note["failover_basis"]
    nagios = cli("triage", "--nagios", input=payload).stdout
    text = cli("decode", str(status), str(sub), env={"COLUMNS": "200"}).stdout
    if severity == "critical":
        assert nagios.startswith("ZVPG CRITICAL") and re.search(r"^Severity +critical", text, re.M)
    if failover is False:
        assert "failover possible: no;" in nagios and re.search(r"^Failover possible\? +no$", text, re.M)
