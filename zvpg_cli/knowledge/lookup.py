"""Resolve what people type to a knowledge-base entry.

A term resolves only by an exact match after normalisation (case, white space,
punctuation and dash variants ignored; "ZVM" read as "Zerto Virtual Manager"),
through a name, an alias, the status table's label or an API name, or as an
unambiguous prefix of one of those. A misspelling never resolves: it gets
suggestions instead.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:  # the fast path resolves terms without building the model
    from .model import Entry, KnowledgeBase

_ZVM = re.compile(r"\bzvm\b")
_NON_ALNUM = re.compile(r"[\W_]+")
#: A prefix shorter than this never resolves (too many entries share it):
#: the names it starts are listed instead.
MIN_PREFIX = 3


def words(text: str) -> list[str]:
    """The words of `text`, folded: NFKC, case-folded, every run of punctuation,
    dashes (- – —) and white space a single separator, ZVM expanded."""
    if not text.isascii():
        import unicodedata

        text = unicodedata.normalize("NFKC", text)
    folded = text.casefold()
    folded = _NON_ALNUM.sub(" ", folded)
    folded = _ZVM.sub("zerto virtual manager", folded)
    return folded.split()


def normalize(text: str) -> str:
    """The key a term is matched by: its folded words run together, so that
    "Bitmap  Syncing", "bitmap-syncing" and "BitmapSyncing" are one key."""
    return "".join(words(text))


#: One way of naming an entry: (key, via, spelling, position in kb.entries,
#: kind, entry name). Plain data, so the compiled cache can hold the index.
Term = tuple[str, str, str, int, str, str]


def build_index(kb: KnowledgeBase) -> tuple[Term, ...]:
    """Every spelling of every entry: name, aliases, the status table's label
    and the API name, each with its normalised key."""
    from .model import Status

    out = []
    for pos, e in enumerate(kb.entries):
        spellings = [("name", e.name)] + [("alias", a) for a in e.aliases]
        if isinstance(e, Status) and e.table_label != e.name:
            spellings.append(("table label", e.table_label))
        if e.api_name:
            spellings.append(("API name", e.api_name))
        for via, spelling in spellings:
            out.append((normalize(spelling), via, spelling, pos, e.kind, e.name))
    return tuple(out)


class Hit(NamedTuple):
    """A resolved term, as positions in kb.entries."""

    position: int
    #: how it matched: "name", "alias", "table label", "API name" or "prefix"
    via: str
    #: the spelling that matched
    matched: str
    #: entries the term matches equally (API name "Deleting": status 7 wins,
    #: substatus 21 is named here)
    others: tuple[int, ...] = ()


class Resolution(NamedTuple):
    entry: Entry
    via: str
    matched: str
    others: tuple[Entry, ...] = ()


class LookupError_(Exception):
    """Base of lookup failures; `suggestions` are names worth trying."""

    def __init__(self, term: str, suggestions: list[str], kind: str | None = None) -> None:
        super().__init__(term)
        self.term = term
        self.suggestions = suggestions
        self.kind = kind  # what was looked for: "status", "substatus", or None (either)


class NotFound(LookupError_):
    pass


class Ambiguous(LookupError_):
    pass


class CodeNotName(NotFound):
    """`zvpg explain 23`: explain takes names; a code is `zvpg decode`'s."""


def _pick(term: str, hits: list[Term], prefix: bool) -> Hit:
    positions: list[int] = []
    for t in hits:
        if t[3] not in positions:
            positions.append(t[3])
    if len(positions) == 1:
        return Hit(positions[0], "prefix" if prefix else hits[0][1], hits[0][2])
    statuses = {t[3] for t in hits if t[4] == "status"}
    if not prefix and len(statuses) == 1:
        # A status and a substatus match equally: the status wins.
        winner = next(t for t in hits if t[3] in statuses)
        return Hit(winner[3], winner[1], winner[2], tuple(p for p in positions if p != winner[3]))
    names: list[str] = []
    for t in hits:
        if t[5] not in names:
            names.append(t[5])
    raise Ambiguous(term, names)


def find(index: tuple[Term, ...], term: str, kind: str | None = None) -> Hit:
    """Resolve `term` in `index`; see `resolve`."""
    key = normalize(term)
    if not key:
        raise NotFound(term, [])
    terms = [t for t in index if kind is None or t[4] == kind]
    exact = [t for t in terms if t[0] == key]
    if exact:
        return _pick(term, exact, prefix=False)
    prefixed = [t for t in terms if t[0].startswith(key)]
    if prefixed and len(key) >= MIN_PREFIX:
        return _pick(term, prefixed, prefix=True)
    starting = list(dict.fromkeys(t[5] for t in prefixed))
    if len(starting) > 1:  # too short to resolve, and a prefix of several names: ambiguous, as any is
        raise Ambiguous(term, starting)
    raise NotFound(term, starting or suggest(index, term, kind))


def resolve(kb: KnowledgeBase, term: str, kind: str | None = None) -> Resolution:
    """Resolve `term` to one entry (of `kind`, "status" or "substatus", if given).

    Raises `NotFound` (with suggestions) or `Ambiguous` (with the candidates).
    """
    try:
        hit = find(kb.terms, term, kind)
    except LookupError_ as exc:
        exc.kind = kind
        raise
    entries = kb.entries
    return Resolution(entries[hit.position], hit.via, hit.matched, tuple(entries[p] for p in hit.others))


def suggest(index: tuple[Term, ...], term: str, kind: str | None = None, limit: int = 5) -> list[str]:
    """Names close to `term`: close misspellings; else looser ones; else names containing it."""
    import difflib

    key = normalize(term)[:200]
    if not key:
        return []
    by_key: dict[str, str] = {}
    for t in index:
        if kind is None or t[4] == kind:
            by_key.setdefault(t[0], t[5])
    out: list[str] = []
    for cutoff in (0.75, 0.6):
        for k in difflib.get_close_matches(key, list(by_key), n=limit * 2, cutoff=cutoff):
            if by_key[k] not in out:
                out.append(by_key[k])
        if out:
            break
    if not out and len(key) >= MIN_PREFIX:
        for k, name in by_key.items():
            if key in k and name not in out:
                out.append(name)
    return out[:limit]


def search(kb: KnowledgeBase, text: str) -> list[Entry]:
    """Entries whose name, aliases, API name, comment, description, meaning or
    conditions contain every word of `text` (folded as in `words`). Text with
    no word in it (no letter or digit: "!!!", "-") matches nothing."""
    from .model import Status

    wanted = words(text)
    if not wanted:
        return []
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



#: What triage, its JSON and the alert annotations print for a value the
#: knowledge base does not know: `99 (unknown)`, `"Foo" (unknown)`.
_UNKNOWN = re.compile(r'"?([^"]*?)"?\s*\(unknown\)')
#: How they print "no substatus" (the API's SubStatus 0, `None`).
_NO_SUBSTATUS = frozenset({"none", "nosubstatus"})


class Side(NamedTuple):
    """One side of a state read back for `zvpg decode`."""

    text: str
    #: True: an API code or name to decode as it is; False: a name to resolve
    raw: bool


def api_values(term: str) -> tuple[Side, Side] | None:
    """A state as zvpg prints it, read back as what `zvpg decode` takes, when
    names alone cannot resolve it: a pair of codes (`2 23`, `2 / 23`), a side
    zvpg does not know (`12 (unknown) / none`), or no substatus (`RPO Not
    Meeting SLA / none`, `... / no substatus`: the API's SubStatus 0). None
    for anything else."""
    codes = term.split()
    if len(codes) == 2 and all(c.isascii() and c.isdigit() for c in codes):
        return Side(codes[0], True), Side(codes[1], True)
    if "/" not in term:
        return None
    sides = []
    for side in (s.strip() for s in term.split("/", 1)):
        unknown = _UNKNOWN.fullmatch(side)
        if unknown:
            sides.append(Side(unknown.group(1), True))
        else:
            sides.append(Side(side, side.isascii() and side.isdigit()))
    status, substatus = sides
    if normalize(substatus.text) in _NO_SUBSTATUS:
        substatus = Side("0", True)
    if not (status.raw or substatus.raw):
        return None
    return status, substatus


def looks_like_alert_code(term: str) -> bool:
    """Shaped like a ZVM alert's HelpIdentifier (three letters, four digits, any
    case: "VPG0010", "zvm0003"): `zvpg explain` looks it up among the alert codes
    (zvpg_cli.knowledge.alerts), not among the statuses. Cheap: no data loaded."""
    code = term.strip()
    return len(code) == 7 and code.isascii() and code[:3].isalpha() and code[3:].isdigit()


class Selection(NamedTuple):
    """What `zvpg list` shows: the entries, a title, a note on the documentation's
    own words (or None), and, when nothing matched a filter, why (None: no such
    failure; "" when there is no more to say)."""

    entries: list[Entry]
    title: str
    note: str | None
    none_match: str | None


def select(kb: KnowledgeBase, *, status: Entry | None = None, kind: str | None = None, text: str | None = None,
           severity: str | None = None, recovery: str | None = None) -> Selection:
    """The entries of `kb` the filters keep, in the knowledge base's order:
    the substatuses listed under `status`, of `kind`, whose words match the
    full-text search `text`, of `severity` and of `recovery` ("unknown": none
    of its own / the documentation does not say)."""
    from .model import Status, Substatus

    entries = list(kb.entries)
    note = None
    title = "Zerto VPG statuses and substatuses"
    if isinstance(status, Status):
        entries = list(kb.substatuses_of(status))
        title = f"Substatuses of {status.name}"
        if status.substatuses_from:
            note = (f"The documentation lists no substatuses of its own under {status.name}: it refers to "
                    f"{status.substatuses_from} ({status.substatus_note}). These are {status.substatuses_from}'s.")
        elif not entries:
            note = f"The documentation lists no substatus under {status.name}."
    elif kind is not None:
        title = "Zerto VPG statuses" if kind == "status" else "Zerto VPG substatuses"
    if kind is not None:
        entries = [e for e in entries if e.kind == kind]
    if text is not None:
        found = set(map(id, search(kb, text)))
        entries = [e for e in entries if id(e) in found]
    if severity is not None:
        want = None if severity == "unknown" else severity
        entries = [e for e in entries if e.severity == want]
    if recovery is not None:
        want = None if recovery == "unknown" else recovery
        entries = [e for e in entries if isinstance(e, Substatus) and e.recovery == want]
    none_match = None
    if not entries and (status is None or kind or text or severity or recovery):
        none_match = ""
        if recovery and kind == "status":
            none_match = " (only substatuses have a recovery)"
        elif text is not None and not words(text):
            from ..base.sanitize import printable

            none_match = f": {printable(repr(text[:200]))} has no letter or digit to search for"
    return Selection(entries, title, note, none_match)
