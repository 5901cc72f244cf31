"""Lookup resolves what operators type, and never resolves a misspelling."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zvpg_cli.knowledge.lookup import Ambiguous, NotFound, normalize, resolve, search, suggest
from zvpg_cli.knowledge.model import KnowledgeBase


@pytest.mark.parametrize(("term", "name", "via"), [
    ("Bitmap Syncing", "Bitmap Syncing", "name"),
    ("  bitmap    SYNCING ", "Bitmap Syncing", "name"),
    ("bitmap sync", "Bitmap Syncing", "API name"),
    ("bitmap-syncing", "Bitmap Syncing", "name"),
    ("BitmapSync", "Bitmap Syncing", "API name"),
    ("DeltaSync", "Delta Syncing", "alias"),
    ("Delta Sync", "Delta Syncing", "alias"),
    ("MeetingSLA", "Meeting SLA", "name"),
    ("meeting sla or based on alerts", "Meeting SLA", "alias"),
    ("Failing over – Before commit", "Failing over - Before commit", "name"),
    ("Failing over — before commit", "Failing over - Before commit", "name"),
    ("ZVM paused protection", "Zerto Virtual Manager paused protection", "name"),
    ("zvm-paused protection", "Zerto Virtual Manager paused protection", "name"),
    ("Site disconnection. No checkpoints", "Site disconnection. No checkpoints", "name"),
    ("site disconnection no checkpoints", "Site disconnection. No checkpoints", "name"),
    ("Site disconnection", "Site disconnection", "name"),
    ("journal storage", "Journal storage error", "prefix"),
    ("initializ", "Initializing", "prefix"),
    ("PendingRemove", "VPG waiting to be removed", "API name"),
    ("Backup", "Backup", "name"),
])
def test_resolves(kb: KnowledgeBase, term: str, name: str, via: str) -> None:
    res = resolve(kb, term)
    assert (res.entry.name, res.via) == (name, via)


def test_status_wins_a_tie_and_names_the_other(kb: KnowledgeBase) -> None:
    res = resolve(kb, "Deleting")
    assert res.entry.kind == "status" and res.entry.api_code == 7
    assert [o.name for o in res.others] == ["Deleting the VPG"]
    assert resolve(kb, "Deleting", kind="substatus").entry.name == "Deleting the VPG"


@pytest.mark.parametrize("term", ["Bitmpa Syncing", "bitmap synching", "Deltaa Sync", "Recoverd", "Eror"])
def test_misspellings_never_resolve_but_get_suggestions(kb: KnowledgeBase, term: str) -> None:
    with pytest.raises(NotFound) as exc:
        resolve(kb, term)
    assert exc.value.suggestions, term


def test_suggestions_are_relevant(kb: KnowledgeBase) -> None:
    assert suggest(kb.terms, "Bitmpa Syncing")[0] == "Bitmap Syncing"
    assert "Recovered" in suggest(kb.terms, "Recoverd")


@pytest.mark.parametrize("term", ["rec", "full sync", "rolling back f", "moving"])
def test_ambiguous_or_exact(kb: KnowledgeBase, term: str) -> None:
    # "rec" is ambiguous; the others are exact names and must not be ambiguous
    if term == "rec":
        with pytest.raises(Ambiguous) as exc:
            resolve(kb, term)
        assert "Recovered" in exc.value.suggestions
    else:
        resolve(kb, term)


def test_short_prefixes_do_not_resolve(kb: KnowledgeBase) -> None:
    with pytest.raises(NotFound) as exc:
        resolve(kb, "bi")
    assert exc.value.suggestions == ["Bitmap Syncing"]


@pytest.mark.parametrize("term", ["de", "d", "Re", "s"])
def test_a_short_prefix_of_several_names_lists_them(kb: KnowledgeBase, term: str) -> None:
    """Too short to resolve, as any prefix of several names is ambiguous: every name it starts is listed."""
    with pytest.raises(Ambiguous) as exc:
        resolve(kb, term)
    key = normalize(term)
    starting = {t[5] for t in kb.terms if t[0].startswith(key)}
    assert len(starting) > 1 and set(exc.value.suggestions) == starting


def test_empty_and_punctuation_only(kb: KnowledgeBase) -> None:
    for term in ("", "   ", "---", "?!"):
        with pytest.raises(NotFound):
            resolve(kb, term)


def test_normalize() -> None:
    assert normalize("  Failing over – Before  commit ") == normalize("failing-over-before-commit")
    assert normalize("ZVM") == "zertovirtualmanager"
    assert normalize("zvmx") == "zvmx"


def test_search(kb: KnowledgeBase) -> None:
    names = {e.name for e in search(kb, "checkpoint")}
    assert {"Delta Syncing", "Site disconnection. No checkpoints", "Initial Sync"} <= names
    assert {e.name for e in search(kb, "force sync")} >= {"Delta Syncing"}
    assert search(kb, "no such words here xyzzy") == []


@pytest.mark.parametrize("text", ["!!!", "-", "\U0001F600", "", "   ", "?/"])
def test_a_search_with_nothing_to_match_matches_nothing(kb: KnowledgeBase, text: str) -> None:
    assert search(kb, text) == []


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_any_text_resolves_or_raises_cleanly(kb: KnowledgeBase, term: str) -> None:
    try:
        res = resolve(kb, term)
    except (NotFound, Ambiguous):
        return
    # whatever resolved is reachable by the normalised term: an exact key or a prefix
    key = normalize(term)
    spellings = [res.entry.name, *res.entry.aliases, res.entry.api_name or ""]
    if res.entry.kind == "status":
        spellings.append(res.entry.table_label)  # type: ignore[union-attr]
    assert any(normalize(s).startswith(key) for s in spellings)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_a_prefix_that_does_not_resolve_names_every_entry_it_starts(kb: KnowledgeBase, data: st.DataObject) -> None:
    """Any prefix of any spelling: it resolves, or it is ambiguous and lists every name it starts, or it
    starts at most one name (then suggested): never 'no matches' while several names start with it."""
    key = data.draw(st.sampled_from([t[0] for t in kb.terms]))
    prefix = key[: data.draw(st.integers(1, len(key)))]
    starting = list(dict.fromkeys(t[5] for t in kb.terms if t[0].startswith(prefix)))
    try:
        resolve(kb, prefix)
    except Ambiguous as exc:
        assert exc.suggestions == starting
    except NotFound as exc:
        assert len(starting) <= 1 and exc.suggestions == starting
