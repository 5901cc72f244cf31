"""Compare a ZVM's own lists of status and substatus names (`GET
/v1/vpgs/statuses`, `GET /v1/vpgs/substatuses`) with the knowledge base.

A ZVM's list is read by position: the name at position n (counting from 0)
is code n. That is how those lists are read (the reference's list of statuses
in code order is the same as the table of codes); the lists carry no codes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ...knowledge.model import KnowledgeBase

READING = "position = code: the name at position n (counting from 0) of the ZVM's list is code n"


class Difference(NamedTuple):
    #: "moved" (the name has another code), "zvm_only" (the knowledge base lacks
    #: the name), "kb_only" (the ZVM's list lacks the knowledge base's name)
    kind: str
    name: str
    zvm_code: int | None
    kb_code: int | None


class Comparison(NamedTuple):
    kind: str  # "status" | "substatus"
    zvm: tuple[str, ...]
    kb_count: int
    differences: tuple[Difference, ...]

    @property
    def agree(self) -> bool:
        return not self.differences


def parse_names(body: bytes) -> list[str] | None:
    """The names of a list answer, or None if it is not a JSON array of strings."""
    import msgspec

    try:
        names = msgspec.json.decode(body.removeprefix(b"\xef\xbb\xbf"), type=list[str])
    except msgspec.DecodeError:
        return None
    return names


def kb_codes(kb: KnowledgeBase, kind: str) -> list[tuple[str, int | None]]:
    """(API name, code) of every knowledge-base entry of `kind` that has an API
    name; for substatuses the "no substatus" code (0, "None") too."""
    entries = kb.statuses if kind == "status" else kb.substatuses
    out: list[tuple[str, int | None]] = [(e.api_name, e.api_code) for e in entries if e.api_name]
    if kind == "substatus" and kb.no_substatus is not None:
        out.append((kb.no_substatus.api_name, kb.no_substatus.api_code))
    return out


def compare(kb: KnowledgeBase, kind: str, names: list[str]) -> Comparison:
    """Every difference between the ZVM's list (position = code) and the
    knowledge base's codes, by name (compared without case), ordered by code."""
    known = {name.casefold(): (name, code) for name, code in kb_codes(kb, kind)}
    seen: set[str] = set()
    diffs: list[Difference] = []
    for position, name in enumerate(names):
        key = name.casefold()
        entry = known.get(key)
        if entry is None:
            diffs.append(Difference("zvm_only", name, position, None))
            continue
        seen.add(key)
        if entry[1] != position:
            diffs.append(Difference("moved", name, position, entry[1]))
    for key, (name, kb_code) in known.items():
        if key not in seen and kb_code is not None:  # names known without a code are no claim about a list
            diffs.append(Difference("kb_only", name, None, kb_code))

    def order(d: Difference) -> tuple[int, int]:
        first = d.zvm_code if d.zvm_code is not None else d.kb_code
        return (first if first is not None else 1 << 30, 0 if d.zvm_code is not None else 1)

    coded = sum(1 for _, code in known.values() if code is not None)
    return Comparison(kind, tuple(names), coded, tuple(sorted(diffs, key=order)))


#: The ZVM's two lists: (path, kind).
LISTS = (("/v1/vpgs/statuses", "status"), ("/v1/vpgs/substatuses", "substatus"))


class Codes(NamedTuple):
    """A ZVM's lists compared with the knowledge base: each list read, and why any was not."""

    comparisons: tuple[Comparison, ...]
    unread: dict[str, str]  # kind -> why that list could not be read

    @property
    def agree(self) -> bool:
        return not self.unread and all(c.agree for c in self.comparisons)


def compare_lists(kb: KnowledgeBase, bodies: Sequence[bytes | None], errors: Sequence[str | None]) -> Codes:
    """The answers to `LISTS` (a body, or why there is none) compared with the knowledge base."""
    comparisons: list[Comparison] = []
    unread: dict[str, str] = {}
    for (path, kind), body, error in zip(LISTS, bodies, errors, strict=True):
        names = parse_names(body) if error is None and body is not None else None
        if error is None and names is None:
            error = f"the answer to GET {path} is not a JSON array of names"
        if error is not None:
            unread[kind] = error
        else:
            comparisons.append(compare(kb, kind, names or []))
    return Codes(tuple(comparisons), unread)
