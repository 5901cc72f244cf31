"""Each command as a user sees it: output, JSON contract, errors, exit codes."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

ENTRY_KEYS = {"kind", "name", "aliases", "api_code", "api_name", "comment", "description", "documented"}
SUBSTATUS_KEYS = ENTRY_KEYS | {"statuses", "conditions", "recovery", "new_checkpoints", "needs_powered_on_vms",
                               "protection_halted", "action", "severity", "evidence"}
STATUS_KEYS = ENTRY_KEYS | {"substatuses", "substatuses_from", "meaning", "severity"}


def test_explain_human(cli: Any) -> None:
    r = cli("explain", "bitmap sync")
    assert r.exit_code == 0 and r.stderr == ""
    assert "Bitmap Syncing" in r.stdout
    assert "23 BitmapSync" in r.stdout
    assert "Meeting SLA" in r.stdout
    assert "In Azure, standard replication" in r.stdout
    assert "\x1b[" not in r.stdout  # not a terminal: no escape codes


def test_explain_shows_at_a_glance_before_the_description(cli: Any) -> None:
    out = cli("explain", "Delta Syncing").stdout
    assert out.index("At a glance") < out.index("Description")
    assert "yes, to the last checkpoint written to the journal" in out


def test_explain_status_has_meaning_and_substatuses(cli: Any) -> None:
    out = cli("explain", "Initializing").stdout
    assert "being initialised" in out and "ZVM REST API documentation" in out
    for sub in ("Creating VPG", "Initial Sync", "Syncing", "Disk Initial Sync"):
        assert sub in out


def test_explain_json_contract(cli: Any) -> None:
    r = cli("explain", "Delta Syncing", "--json")
    assert r.exit_code == 0
    data = json.loads(r.stdout)
    assert set(data) >= SUBSTATUS_KEYS
    assert data["kind"] == "substatus" and data["api_code"] == 6 and data["documented"] is True
    assert data["statuses"] == ["Meeting SLA", "Not Meeting SLA"]
    listing = {"status": "Meeting SLA", "condition": "When Force Sync is applied", "listed_as": "Delta Syncing"}
    assert listing in data["conditions"]
    assert data["recovery"] == "last-checkpoint"


def test_explain_status_json(cli: Any) -> None:
    data = json.loads(cli("explain", "RPO Not Meeting SLA", "--json").stdout)
    assert set(data) >= STATUS_KEYS
    assert data["substatuses_from"] == "Not Meeting SLA"
    assert "Error" in data["substatuses"]
    assert data["api_code"] == 3 and data["api_name"] == "RpoNotMeetingSLA"
    assert data["numbering_warning"] and "give it code 4" in data["numbering_warning"]


def test_explain_backup_is_undocumented(cli: Any) -> None:
    data = json.loads(cli("explain", "Backup", "--json").stdout)
    assert data["documented"] is False and data["description"] is None and data["api_code"] == 28


def test_explain_deleting_prefers_the_status_and_mentions_the_substatus(cli: Any) -> None:
    out = cli("explain", "Deleting").stdout
    assert "7 Deleting" in out and "Deleting the VPG" in out and "Also matches" in out


def test_explain_pair(cli: Any) -> None:
    r = cli("explain", "Not Meeting SLA / Delta Syncing a disk", "--json")
    data = json.loads(r.stdout)
    assert data["status"]["name"] == "Not Meeting SLA"
    assert data["substatus"]["name"] == "Delta syncing a disk"
    assert data["listed"] is True


def test_explain_unknown(cli: Any) -> None:
    r = cli("explain", "Bitmpa Syncing")
    assert r.exit_code == 1 and r.stdout == ""
    assert "Did you mean: Bitmap Syncing?" in r.stderr


def test_explain_ambiguous(cli: Any) -> None:
    r = cli("explain", "rec")
    assert r.exit_code == 1 and r.stdout == "" and "ambiguous" in r.stderr


def test_list_all_json(cli: Any, kb: Any) -> None:
    data = json.loads(cli("list", "--json").stdout)
    assert len(data) == len(kb.entries) == 44
    for item in data:
        assert (SUBSTATUS_KEYS if item["kind"] == "substatus" else STATUS_KEYS) <= set(item)


def test_list_status_via_substatuses_from(cli: Any) -> None:
    r = cli("list", "--status", "History Not Meeting SLA", "--json")
    names = [e["name"] for e in json.loads(r.stdout)]
    assert names == ["Delta Syncing", "Delta syncing a disk", "Error", "Needs Configuration", "Site disconnection",
                     "Site disconnection. No checkpoints", "VM not protected", "VPG has no VMs"]
    assert "refers to Not Meeting SLA" in r.stderr
    human = cli("list", "--status", "History Not Meeting SLA").stdout
    assert "refers to Not Meeting SLA" in human


def test_list_filters(cli: Any) -> None:
    statuses = json.loads(cli("list", "--kind", "status", "--json").stdout)
    assert {e["kind"] for e in statuses} == {"status"} and len(statuses) == 9
    found = [e["name"] for e in json.loads(cli("list", "--search", "force sync", "--json").stdout)]
    assert "Delta Syncing" in found
    none = cli("list", "--search", "xyzzy", "--json")
    assert none.exit_code == 1 and json.loads(none.stdout) == [] and "no entries match" in none.stderr


def test_list_recovered_has_none(cli: Any) -> None:
    r = cli("list", "--status", "Recovered", "--json")
    assert json.loads(r.stdout) == []


@pytest.mark.parametrize("args", [("2", "23"), ("NotMeetingSLA", "BitmapSync"), ("notmeetingsla", "bitmapsync")])
def test_decode(cli: Any, args: tuple[str, str]) -> None:
    r = cli("decode", *args, "--json")
    assert r.exit_code == 0
    data = json.loads(r.stdout)
    assert data["status"]["name"] == "Not Meeting SLA" and data["substatus"]["name"] == "Bitmap Syncing"
    assert data["listed"] is False  # the documentation lists Bitmap Syncing under Meeting SLA only
    human = cli("decode", *args).stdout
    assert "Not Meeting SLA" in human and "Bitmap Syncing" in human and "does not list" in human


def test_decode_listed_with_condition(cli: Any) -> None:
    data = json.loads(cli("decode", "1", "6", "--json").stdout)
    assert data["listed"] is True and data["condition"] == "When Force Sync is applied"


def test_decode_no_substatus(cli: Any) -> None:
    data = json.loads(cli("decode", "1", "0", "--json").stdout)
    assert data["substatus"]["no_substatus"] is True and data["substatus"]["known"] is True
    assert data["substatus"]["api_name"] == "None" and data["substatus"]["name"] is None


@pytest.mark.parametrize("code", ["3", "4"])
def test_decode_warns_about_other_numberings(cli: Any, code: str) -> None:
    r = cli("decode", code)
    assert r.exit_code == 0 and "hand-written client enums" in r.stderr
    assert r.stderr.count("zvpg: caution:") == 1
    assert "Caution" not in r.stdout and "give it code" not in r.stdout  # said once per view: on stderr
    as_json = cli("decode", code, "--json")
    assert as_json.stderr == "" and "give it code" in json.loads(as_json.stdout)["warnings"][0]
    by_name = cli("decode", "HistoryNotMeetingSLA")
    assert "caution" not in by_name.stderr


@pytest.mark.parametrize("args", [("9",), ("2", "36"), ("Bogus",), ("1", "BitmapSinc"), ("--", "-1"), ("1.5",)])
def test_decode_unknown(cli: Any, args: tuple[str, ...]) -> None:
    r = cli("decode", *args)
    assert r.exit_code == 1 and "unknown" in r.stderr
    # what was decoded is shown (as --json shows it); nothing when nothing was
    assert (r.stdout == "") is (len(args) == 1 or args[0] == "--")


def test_decode_suggests_api_names(cli: Any) -> None:
    assert "BitmapSync" in cli("decode", "1", "BitmapSinc").stderr


def test_version(cli: Any) -> None:
    from zvpg_cli import __version__

    assert cli("--version").stdout.strip() == f"zvpg {__version__}"


def test_usage_errors_exit_2(cli: Any) -> None:
    assert cli("explain").exit_code == 2
    assert cli("list", "--kind", "nope").exit_code == 2
    assert cli("explain", "Error", "--json", "--format", "yaml").exit_code == 2


def test_subprocess_python_m(run: Any) -> None:
    p = run("explain", "Delta Syncing", "--json")
    assert p.returncode == 0 and json.loads(p.stdout)["name"] == "Delta Syncing"
    p = run("explain", "nope-nope")
    assert p.returncode == 1 and p.stdout == b"" and b"Traceback" not in p.stderr


def test_yaml_round_trips_through_the_schema(cli: Any, kb: Any, tmp_path: Any) -> None:
    from zvpg_cli.knowledge.kb import load_kb

    path = tmp_path / "copy.yaml"
    path.write_text(cli("list", "--format", "yaml").stdout, encoding="utf-8")
    assert cli("validate", str(path)).exit_code == 0
    copy = load_kb(str(path), use_cache=False)
    strip = lambda e: e._replace(line=0)  # noqa: E731 - only the source lines differ
    assert [strip(e) for e in copy.entries] == [strip(e) for e in kb.entries]
    assert copy.no_substatus == kb.no_substatus and copy.numbering_caution == kb.numbering_caution


@pytest.mark.parametrize("fmt", ["yaml", "markdown", "table"])
def test_every_format_of_decode_and_explain(cli: Any, fmt: str) -> None:
    for args in (["decode", "2", "6"], ["explain", "Error"], ["list", "--status", "Moving"]):
        r = cli(*args, "--format", fmt)
        assert r.exit_code == 0 and r.stdout.strip(), (args, fmt)


def test_explain_pair_names_the_ambiguous_part_as_typed(cli: Any) -> None:
    r = cli("explain", "Not Meeting SLA / Delta")
    assert r.exit_code == 1
    assert r.stderr.startswith("zvpg: 'Delta' is ambiguous: it could be Delta Syncing, Delta syncing a disk.")


def test_explain_a_short_prefix_lists_the_names_it_starts(cli: Any) -> None:
    r = cli("explain", "de")
    assert r.exit_code == 1 and "no matches" not in r.stderr
    assert r.stderr.startswith("zvpg: 'de' is ambiguous: it could be Deleting, ")
    for name in ("Deleting the VPG", "Delta Syncing", "Delta syncing a disk"):
        assert name in r.stderr


@pytest.mark.parametrize("fmt", ["table", "markdown"])
def test_explain_evidence_of_a_pair_shows_both_entries(cli: Any, fmt: str) -> None:
    def explain(*args: str) -> str:
        out = cli("explain", "Not Meeting SLA / Delta Syncing", *args, "--format", fmt, env={"COLUMNS": "200"}).stdout
        return str(re.sub(r"\\(.)", r"\1", out))  # Markdown's escapes

    plain, out = explain(), explain("-e")
    assert "Evidence" not in plain
    assert out.count("Evidence (documentation, word for word)") == 2  # the status's and the substatus's
    assert "you can recover to the last checkpoint written to the journal" in out


@pytest.mark.parametrize("text", ["!!!", "-", "\U0001F600"])
def test_list_search_that_matches_nothing_fails(cli: Any, text: str) -> None:
    r = cli("list", "--search", text)
    assert r.exit_code == 1 and r.stdout == "" and r.stderr.startswith("zvpg: no entries match")
    r = cli("list", "--search", text, "--json")
    assert r.exit_code == 1 and json.loads(r.stdout) == []
