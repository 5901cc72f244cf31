"""`explain` works for every entry, every spelling of it and every status/substatus pair the documentation
lists, in every format, with and without --evidence: and with it, shows each quote of the entry's evidence."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import yaml
from conftest import KB_FILE

from zvpg_cli.knowledge.kb import load_kb
from zvpg_cli.knowledge.model import KnowledgeBase, Substatus

FORMATS = ["table", "json", "yaml", "markdown"]
WIDE = {"COLUMNS": "200"}
KB = load_kb(str(KB_FILE), use_cache=False)


def flat(text: str) -> str:
    """Output as one line of single spaces, Markdown escapes removed: what a reader reads."""
    return " ".join(re.sub(r"\\(.)", r"\1", text).split())


def check_explained(r: Any, fmt: str, names: list[str], evidence: bool, kb: KnowledgeBase) -> None:
    assert r.exit_code == 0 and r.stderr == "", r.stderr
    if fmt == "json":
        data = json.loads(r.stdout)
        shown = [data["name"]] if "name" in data else [data["status"]["name"], data["substatus"]["name"]]
        assert shown == names
        return
    if fmt == "yaml":
        doc = yaml.safe_load(r.stdout)
        assert [e["name"] for e in doc["statuses"] + doc["substatuses"]] == names
        return
    if fmt == "markdown":
        assert "****" not in r.stdout  # an empty label is an empty cell, not an empty bold run
    text = flat(r.stdout)
    for name in names:
        assert name in text
    assert ("Evidence (documentation, word for word)" in text) is evidence
    if evidence:
        for entry in kb.entries:
            if entry.name in names and isinstance(entry, Substatus):
                for quotes in entry.evidence.values():
                    for quote in quotes:
                        assert flat(quote) in text, (names, quote)


@pytest.mark.parametrize("evidence", [False, True], ids=["plain", "evidence"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_every_entry_in_every_format(cli: Any, kb: KnowledgeBase, fmt: str, evidence: bool) -> None:
    for entry in kb.entries:
        r = cli("explain", entry.name, "--format", fmt, *(["--evidence"] if evidence else []), env=WIDE)
        check_explained(r, fmt, [entry.name], evidence, kb)


@pytest.mark.parametrize("evidence", [False, True], ids=["plain", "evidence"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_every_listed_pair_in_every_format(cli: Any, kb: KnowledgeBase, fmt: str, evidence: bool) -> None:
    pairs = [(st, sub) for st in kb.statuses for sub in kb.substatuses_of(st)]
    assert len(pairs) >= 30
    for st, sub in pairs:
        r = cli("explain", f"{st.name} / {sub.name}", "--format", fmt, *(["-e"] if evidence else []), env=WIDE)
        check_explained(r, fmt, [st.name, sub.name], evidence, kb)


@pytest.mark.parametrize("fmt", ["table", "markdown"])
def test_every_spelling_of_every_entry_with_evidence(cli: Any, kb: KnowledgeBase, fmt: str) -> None:
    """Every way of naming an entry (name, alias, table label, API name): the crash of `explain -e "Delta
    Syncing"` was in the view, whichever spelling led there."""
    for key, _via, spelling, position, _kind, name in kb.terms:
        others = [t for t in kb.terms if t[0] == key and t[3] != position]
        if others:  # "Deleting" names a status and a substatus: the status wins
            continue
        r = cli("explain", "-e", spelling, "--format", fmt, env=WIDE)
        check_explained(r, fmt, [name], True, kb)


@pytest.mark.parametrize("term", ["Delta Syncing", "DeltaSync", "Delta syncing a disk", "Delta Syncing a disk"])
@pytest.mark.parametrize("fmt", ["table", "markdown"])
def test_delta_syncing_evidence_through_the_installed_command(run: Any, term: str, fmt: str) -> None:
    p = run("explain", "-e", term, "--format", fmt, env={"COLUMNS": "200"})
    out = p.stdout.decode()
    assert p.returncode == 0 and p.stderr == b"", p.stderr
    assert "you can recover to the last checkpoint written to the journal" in flat(out)
    assert "assuming there are valid checkpoints in the journal" in flat(out)


def test_every_fact_has_a_label(kb: KnowledgeBase) -> None:
    from zvpg_cli.knowledge.model import FACT_FIELDS
    from zvpg_cli.output.views import FACT_LABELS

    assert set(FACT_FIELDS) <= set(FACT_LABELS)
    assert len(set(FACT_LABELS.values())) == len(FACT_LABELS)
