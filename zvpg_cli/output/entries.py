"""What explain, decode and list print, chosen from one table per answer: each
format's renderer takes the knowledge base's entries (or a decoded pair) and
returns the text to write, or None where the view for people (`table`) has
printed itself through rich (output/human.py: laid out for the terminal,
plain text through the writer off it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..base.writer import write

if TYPE_CHECKING:
    from ..knowledge.decoding import DecodedPair
    from ..knowledge.lookup import Resolution, Selection
    from ..knowledge.model import Entry, KnowledgeBase


def _write(text: str | None) -> None:
    if text is not None:
        write(text)


def _json(value: Any) -> str:
    from ..base.sanitize import json_text

    return json_text(value)


def _yaml(kb: KnowledgeBase, entries: list[Entry]) -> str:
    from .yamlfmt import entries_document

    return entries_document(kb, entries)


def _sections(title: str, subtitle: str, secs: Any, fmt: str) -> str | None:
    if fmt == "markdown":
        from .markdown import sections

        return sections(title, subtitle, secs)
    from .human import print_sections

    print_sections(title, subtitle, secs)
    return None


def _entry_view(kb: KnowledgeBase, entry: Entry, fmt: str, evidence: bool,
                resolution: Resolution | None) -> str | None:
    from .views import api_text, entry_sections

    return _sections(entry.name, f"{entry.kind} · API {api_text(entry)}",
              entry_sections(kb, entry, evidence=evidence, resolution=resolution), fmt)


def _entry_json(kb: KnowledgeBase, entry: Entry, fmt: str, evidence: bool, resolution: Resolution | None) -> str | None:
    from ..knowledge.serialize import entry_dict

    return _json(entry_dict(kb, entry))


def _entry_yaml(kb: KnowledgeBase, entry: Entry, fmt: str, evidence: bool, resolution: Resolution | None) -> str | None:
    return _yaml(kb, [entry])


ENTRY: dict[str, Callable[..., str | None]] = {"json": _entry_json, "yaml": _entry_yaml, "markdown": _entry_view,
                                         "table": _entry_view}


def render_entry(kb: KnowledgeBase, entry: Entry, fmt: str, *, evidence: bool = False,
                 resolution: Resolution | None = None) -> None:
    """`zvpg explain`'s answer for one entry, in `fmt`."""
    _write(ENTRY[fmt](kb, entry, fmt, evidence, resolution))


def _pair_view(kb: KnowledgeBase, pair: DecodedPair, fmt: str, evidence: bool) -> str | None:
    from .views import pair_sections, pair_subtitle, pair_title

    return _sections(pair_title(pair), pair_subtitle(pair), pair_sections(kb, pair, evidence=evidence), fmt)


def _pair_json(kb: KnowledgeBase, pair: DecodedPair, fmt: str, evidence: bool) -> str | None:
    from ..knowledge.serialize import pair_dict

    return _json(pair_dict(kb, pair))


def _pair_yaml(kb: KnowledgeBase, pair: DecodedPair, fmt: str, evidence: bool) -> str | None:
    return _yaml(kb, [d.entry for d in (pair.status, pair.substatus) if d is not None and d.entry])


PAIR: dict[str, Callable[..., str | None]] = {"json": _pair_json, "yaml": _pair_yaml, "markdown": _pair_view,
                                        "table": _pair_view}


def render_pair(kb: KnowledgeBase, pair: DecodedPair, fmt: str, *, evidence: bool = False) -> None:
    """A decoded Status / SubStatus pair (decode, and explain of a pair), in `fmt`."""
    _write(PAIR[fmt](kb, pair, fmt, evidence))


class Unknown(Exception):
    """explain's or decode's answer names what the knowledge base does not
    know: an alert code, a code or API name (the command line: exit 1)."""


def show_decoded(kb: KnowledgeBase, pair: DecodedPair, fmt: str, *, evidence: bool = False) -> None:
    """`zvpg decode STATUS SUBSTATUS`: the cautions (on stderr; JSON carries
    them in "warnings"), what is known in `fmt`; raises `Unknown` for what is not."""
    from ..knowledge.decoding import unknown_values

    if fmt in ("table", "markdown"):
        from ..base.writer import error

        for w in pair.warnings:
            error(f"zvpg: caution: {w}")
    unknown = unknown_values(kb, pair)
    if len(unknown) < (1 if pair.substatus is None else 2) or fmt == "json":
        # what was decoded, in every format (the JSON contract: an unknown value is {"known": false, ...})
        render_pair(kb, pair, fmt, evidence=evidence)
    if unknown:
        from ..base.sanitize import printable

        raise Unknown(printable("; ".join(unknown)) + ". Codes follow the ZVM REST API numbering (see zvpg list).")


def explain(term: str, fmt: str, *, evidence: bool = False, data: str | None = None) -> None:
    """`zvpg explain TERM` in `fmt`, with the knowledge base at `data` (None:
    the one shipped): an alert code (HelpIdentifier), or what
    `knowledge.decoding.explain_term` finds. Under json a plain term is
    answered from the compiled knowledge base (neither the model nor json is
    loaded: the fast path monitoring scripts use). Raises `KBError`, `LookupError_`, `Unknown`."""
    from ..knowledge.lookup import LookupError_, Resolution, find, looks_like_alert_code

    if looks_like_alert_code(term):  # a HelpIdentifier: "VPG0010"
        from ..knowledge.alerts import load
        from .alerts import show_alert

        sk = load()
        alert = sk.alert(term)
        if alert is None:
            raise Unknown(f"unknown alert code {term.strip().upper()}: see zvpg list --alerts")
        return show_alert(sk, alert, fmt)
    from ..knowledge.kb import load_compiled, load_kb

    if fmt == "json" and "/" not in term:
        compiled = load_compiled(data)
        try:
            return write(compiled["json"][find(compiled["index"], term).position])
        except LookupError_:
            pass  # reported, with suggestions, below
    kb = load_kb(data)
    from ..knowledge.decoding import explain_term

    answer, as_decode = explain_term(kb, term)
    if isinstance(answer, Resolution):
        render_entry(kb, answer.entry, fmt, evidence=evidence, resolution=answer)
    elif as_decode:  # codes, or a side zvpg does not know: as decode shows it
        show_decoded(kb, answer, fmt, evidence=evidence)
    else:
        render_pair(kb, answer, fmt, evidence=evidence)


def _list_json(kb: KnowledgeBase, chosen: Selection, show_listed: bool) -> str | None:
    from ..knowledge.serialize import entry_dict

    return _json([entry_dict(kb, e) for e in chosen.entries])


def _list_yaml(kb: KnowledgeBase, chosen: Selection, show_listed: bool) -> str | None:
    return _yaml(kb, chosen.entries)


def _list_markdown(kb: KnowledgeBase, chosen: Selection, show_listed: bool) -> str | None:
    from .markdown import entries_table, md

    return (f"*{md(chosen.note)}*\n\n" if chosen.note else "") + entries_table(kb, chosen.entries, chosen.title)


def _list_table(kb: KnowledgeBase, chosen: Selection, show_listed: bool) -> str | None:
    from .human import print_entries

    print_entries(kb, chosen.entries, chosen.title, chosen.note, show_listed=show_listed)
    return None


ENTRIES: dict[str, Callable[..., str | None]] = {"json": _list_json, "yaml": _list_yaml, "markdown": _list_markdown,
                                           "table": _list_table}


def render_entries(kb: KnowledgeBase, chosen: Selection, fmt: str, *, show_listed: bool = True) -> None:
    """`zvpg list`'s answer, in `fmt` (`show_listed`: a column of the statuses each is listed under)."""
    _write(ENTRIES[fmt](kb, chosen, show_listed))
