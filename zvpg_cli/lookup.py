"""Resolve what people type to a knowledge-base entry.

A term resolves only by an exact match after normalisation (case, white space,
punctuation and dash variants ignored; "ZVM" read as "Zerto Virtual Manager"),
through a name, an alias, the status table's label or an API name, or as an
unambiguous prefix of one of those. A misspelling never resolves: it gets
suggestions instead.
"""

from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple

from .model import Entry, KnowledgeBase, Status

_ZVM = re.compile(r"\bzvm\b")
_NON_ALNUM = re.compile(r"[\W_]+")
#: A prefix shorter than this never resolves (too many entries share it).
MIN_PREFIX = 3


def words(text: str) -> list[str]:
    """The words of `text`, folded: NFKC, case-folded, every run of punctuation,
    dashes (- – —) and white space a single separator, ZVM expanded."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    folded = _NON_ALNUM.sub(" ", folded)
    folded = _ZVM.sub("zerto virtual manager", folded)
    return folded.split()


def normalize(text: str) -> str:
    """The key a term is matched by: its folded words run together, so that
    "Bitmap  Syncing", "bitmap-syncing" and "BitmapSyncing" are one key."""
    return "".join(words(text))


class Resolution(NamedTuple):
    entry: Entry
    #: how it matched: "name", "alias", "table label", "API name" or "prefix"
    via: str
    #: the spelling that matched
    matched: str
    #: other entries the term matches equally (e.g. API name "Deleting": status 7
    #: wins, substatus 21 is named here)
    others: tuple[Entry, ...] = ()


class LookupError_(Exception):
    """Base of lookup failures; `suggestions` are names worth trying."""

    def __init__(self, term: str, suggestions: list[str]) -> None:
        super().__init__(term)
        self.term = term
        self.suggestions = suggestions


class NotFound(LookupError_):
    pass


class Ambiguous(LookupError_):
    pass


def _terms(kb: KnowledgeBase, kind: str | None) -> list[tuple[str, str, str, Entry]]:
    """(key, via, spelling, entry) for every way an entry can be named."""
    out = []
    for e in kb.entries:
        if kind is not None and e.kind != kind:
            continue
        spellings = [("name", e.name)] + [("alias", a) for a in e.aliases]
        if isinstance(e, Status) and e.table_label != e.name:
            spellings.append(("table label", e.table_label))
        if e.api_name:
            spellings.append(("API name", e.api_name))
        for via, spelling in spellings:
            out.append((normalize(spelling), via, spelling, e))
    return out


def _pick(term: str, hits: list[tuple[str, str, str, Entry]], via: str | None = None) -> Resolution:
    entries: list[Entry] = []
    for _, _, _, e in hits:
        if e not in entries:
            entries.append(e)
    if len(entries) == 1:
        _, how, spelling, e = hits[0]
        return Resolution(entries[0], via or how, spelling)
    statuses = [e for e in entries if e.kind == "status"]
    if via is None and len(statuses) == 1:
        # A status and a substatus match equally: the status wins.
        winner = statuses[0]
        _, how, spelling, _ = next(h for h in hits if h[3] is winner)
        return Resolution(winner, how, spelling, tuple(e for e in entries if e is not winner))
    raise Ambiguous(term, [e.name for e in entries])


def resolve(kb: KnowledgeBase, term: str, kind: str | None = None) -> Resolution:
    """Resolve `term` to one entry (of `kind`, "status" or "substatus", if given).

    Raises `NotFound` (with suggestions) or `Ambiguous` (with the candidates).
    """
    key = normalize(term)
    if not key:
        raise NotFound(term, [])
    terms = _terms(kb, kind)
    exact = [t for t in terms if t[0] == key]
    if exact:
        return _pick(term, exact)
    if len(key) >= MIN_PREFIX:
        prefixed = [t for t in terms if t[0].startswith(key)]
        if prefixed:
            return _pick(term, prefixed, via="prefix")
    raise NotFound(term, suggest(kb, term, kind))


def suggest(kb: KnowledgeBase, term: str, kind: str | None = None, limit: int = 5) -> list[str]:
    """Names close to `term`: close misspellings; else looser ones; else names containing it."""
    import difflib

    key = normalize(term)[:200]
    if not key:
        return []
    terms = _terms(kb, kind)
    by_key: dict[str, str] = {}
    for k, _, _, e in terms:
        by_key.setdefault(k, e.name)
    out: list[str] = []
    for k in difflib.get_close_matches(key, list(by_key), n=limit * 2, cutoff=0.75):
        if by_key[k] not in out:
            out.append(by_key[k])
    if not out:
        for k in difflib.get_close_matches(key, list(by_key), n=limit, cutoff=0.6):
            if by_key[k] not in out:
                out.append(by_key[k])
    if not out and len(key) >= MIN_PREFIX:
        for k, name in by_key.items():
            if key in k and name not in out:
                out.append(name)
    return out[:limit]


def search(kb: KnowledgeBase, text: str) -> list[Entry]:
    """Entries whose name, aliases, API name, comment, description, meaning or
    conditions contain every word of `text` (folded as in `words`)."""
    wanted = words(text)
    if not wanted:
        return list(kb.entries)
    out = []
    for e in kb.entries:
        parts = [e.name, *e.aliases, e.api_name or "", e.comment or "", e.description or ""]
        if isinstance(e, Status):
            parts += [e.meaning or "", e.table_label]
        else:
            parts += [li.condition or "" for li in e.statuses]
            parts += [li.listed_as for li in e.statuses]
        hay = " ".join(words(" ".join(parts)))
        compact = hay.replace(" ", "")
        if all(w in hay or w in compact for w in wanted):
            out.append(e)
    return out
