"""Parse and validate a knowledge-base YAML file.

Only YAML's safe subset is accepted (PyYAML's SafeLoader, its C version when
available): a tag such as ``!!python/object/apply`` is an error, never a call.
Every mapping remembers the line of each key, so every problem names the file
and the line. `check_file` returns all problems; `compile_source` returns the
validated plain data (what `zvpg_cli.knowledge.kb.build` turns into domain objects) or
raises `KBError` naming the first problem.

A file that validates always loads, and validation stays near-linear in the
file's size whatever the file holds: numbers too long to be codes are not
converted, aliases (``*name``) may not blow the document up, and evidence is
matched sentence by sentence, with a bounded amount of plain searching.
"""

from __future__ import annotations

import re
from typing import Any

from .kbsource import KBError
from .kbyaml import MAX_CODE, UNREADABLE, Map, Problem, int_text, parse_file, parse_source, quote
from .lookup import normalize
from .model import FACT_FIELDS, RECOVERY_VALUES, SEVERITIES

SCHEMA_VERSION = 1
#: Fields that hold such a code (statuses, substatuses, no_substatus, other_numberings).
CODE_FIELDS = ("api_code", "code")
#: Characters of documentation text that validation may scan, over the whole
#: file, for evidence quotes that are not whole sentences of their entry's text
#: (each such quote is searched for in the entry's whole description and
#: comment). The shipped file needs a few thousand; the bound keeps a hostile
#: file from taking minutes.
SCAN_BUDGET = 200_000_000
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+")


# Field specifications: name -> (allowed types, required, default).
_STR = (str,)
_OPT_STR = (str, type(None))
_OPT_INT = (int, type(None))
_OPT_BOOL = (bool, type(None))

STATUS_FIELDS: dict[str, tuple[tuple[type, ...], bool, Any]] = {
    "name": (_STR, True, None),
    "table_label": (_OPT_STR, False, None),
    "aliases": ((list,), False, []),
    "api_code": (_OPT_INT, True, None),
    "api_name": (_OPT_STR, True, None),
    "comment": (_OPT_STR, False, None),
    "description": (_OPT_STR, False, None),
    "meaning": (_OPT_STR, False, None),
    "substatuses_from": (_OPT_STR, False, None),
    "substatus_note": (_OPT_STR, False, None),
    "other_numberings": ((list,), False, []),
    "rpo_sla_met": (_OPT_BOOL, False, None),
    "severity": (_OPT_STR, True, None),
    "severity_rationale": (_OPT_STR, False, None),
}
SUBSTATUS_FIELDS: dict[str, tuple[tuple[type, ...], bool, Any]] = {
    "name": (_STR, True, None),
    "aliases": ((list,), False, []),
    "api_code": (_OPT_INT, True, None),
    "api_name": (_OPT_STR, True, None),
    "code_source": (_OPT_STR, False, None),
    "documented": ((bool,), True, None),
    "statuses": ((list,), True, None),
    "comment": (_OPT_STR, False, None),
    "description": (_OPT_STR, True, None),
    "recovery": (_OPT_STR, False, None),
    "recovery_condition": (_OPT_STR, False, None),
    "new_checkpoints": (_OPT_BOOL, False, None),
    "needs_powered_on_vms": (_OPT_BOOL, False, None),
    "protection_halted": (_OPT_BOOL, False, None),
    "action": (_OPT_STR, False, None),
    "severity": (_OPT_STR, True, None),
    "severity_rationale": (_OPT_STR, False, None),
    "evidence": ((dict,), False, {}),
}
LISTING_FIELDS: dict[str, tuple[tuple[type, ...], bool, Any]] = {
    "status": (_STR, True, None),
    "listed_as": (_STR, True, None),
    "condition": (_OPT_STR, False, None),
}
NUMBERING_FIELDS: dict[str, tuple[tuple[type, ...], bool, Any]] = {
    "system": (_STR, True, None),
    "code": ((int,), True, None),
}
NO_SUBSTATUS_FIELDS: dict[str, tuple[tuple[type, ...], bool, Any]] = {
    "api_code": ((int,), True, None),
    "api_name": (_STR, True, None),
    "meaning": (_STR, True, None),
}
TOP_FIELDS: dict[str, tuple[tuple[type, ...], bool, Any]] = {
    "schema_version": ((int,), True, None),
    "numbering": ((dict, type(None)), False, None),
    "no_substatus": ((dict, type(None)), False, None),
    "statuses": ((list,), True, None),
    "substatuses": ((list,), True, None),
}
NUMBERING_TOP_FIELDS: dict[str, tuple[tuple[type, ...], bool, Any]] = {
    "decoded": (_OPT_STR, False, None),
    "caution": (_OPT_STR, False, None),
    "other_statuses": ((list,), False, []),
}
OTHER_STATUS_FIELDS: dict[str, tuple[tuple[type, ...], bool, Any]] = {
    "system": (_STR, True, None),
    "code": ((int,), True, None),
    "name": (_STR, True, None),
}

_TYPE_NAMES = {str: "a string", int: "an integer", bool: "true or false", list: "a list",
               dict: "a mapping", type(None): "null"}


def _line(node: Any, key: str | None = None, fallback: int | None = None) -> int | None:
    if isinstance(node, Map):
        if key is not None and key in node.key_lines:
            return node.key_lines[key]
        return node.line
    return fallback


class _Checker:
    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.scan_budget = SCAN_BUDGET

    def add(self, line: int | None, message: str) -> None:
        self.problems.append(Problem(line, message))

    def record(self, node: Any, spec: dict[str, tuple[tuple[type, ...], bool, Any]], what: str,
               line: int | None) -> dict[str, Any] | None:
        """Check one mapping against `spec`; return it with defaults filled in."""
        if not isinstance(node, dict):
            self.add(line, f"{what} must be a mapping, not {_describe(node)}")
            return None
        out: dict[str, Any] = {}
        for key in node:
            if key not in spec:
                self.add(_line(node, key, line), f"{what}: unknown key {quote(key)} "
                         f"(expected one of: {', '.join(spec)})")
        for key, (types, required, default) in spec.items():
            if key not in node:
                if required:
                    self.add(_line(node, None, line), f"{what}: missing key {key!r}")
                out[key] = default.copy() if isinstance(default, (list, dict)) else default
                continue
            value = node[key]
            # bool is a subclass of int: `api_code: true` is not a code.
            if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
                if value is not UNREADABLE:  # the loader has said why
                    expected = " or ".join(_TYPE_NAMES.get(t, t.__name__) for t in types)
                    self.add(_line(node, key, line), f"{what}: {key!r} must be {expected}, not {_describe(value)}")
                out[key] = default.copy() if isinstance(default, (list, dict)) else default
                continue
            if key in CODE_FIELDS and isinstance(value, int) and not 0 <= value <= MAX_CODE:
                self.add(_line(node, key, line), f"{what}: {key!r} must be an integer from 0 to {MAX_CODE} "
                         f"(the API's non-negative Int32), not {int_text(value)}")
                out[key] = default
                continue
            out[key] = value
        return out

    def strings(self, values: list[Any], what: str, line: int | None) -> list[str]:
        good = []
        for v in values:
            if isinstance(v, str):
                good.append(v)
            elif v is not UNREADABLE:
                self.add(line, f"{what} must hold strings, not {_describe(v)}")
        return good


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {value!r}".lower()
    if isinstance(value, (dict, list)):
        return _TYPE_NAMES[list if isinstance(value, list) else dict]
    return f"{type(value).__name__} {quote(value)}"


def check_document(doc: Any) -> tuple[dict[str, Any] | None, list[Problem]]:
    """Validate a parsed document; return (compiled data, problems)."""
    c = _Checker()
    if doc is None:
        c.add(1, "knowledge base is empty")
        return None, c.problems
    top = c.record(doc, TOP_FIELDS, "knowledge base", 1)
    if top is None:
        return None, c.problems
    if top["schema_version"] is not None and top["schema_version"] != SCHEMA_VERSION:
        c.add(_line(doc, "schema_version"), f"schema_version {int_text(top['schema_version'])} is not supported "
              f"(this zvpg reads {SCHEMA_VERSION})")
    numbering = None
    if top["numbering"] is not None:
        numbering = c.record(top["numbering"], NUMBERING_TOP_FIELDS, "numbering", _line(doc, "numbering"))
        if numbering is not None:
            numbering["other_statuses"] = [rec for _, rec in _records(
                c, numbering["other_statuses"], OTHER_STATUS_FIELDS, "numbering: other_statuses item",
                _line(top["numbering"], "other_statuses"))]
    no_sub = None
    if top["no_substatus"] is not None:
        no_sub = c.record(top["no_substatus"], NO_SUBSTATUS_FIELDS, "no_substatus", _line(doc, "no_substatus"))

    # null, a wrong type or a missing key has been reported: check the rest
    statuses = [_check_status(c, node, _line(doc, "statuses")) for node in top["statuses"] or []]
    substatuses = [_check_substatus(c, node, _line(doc, "substatuses")) for node in top["substatuses"] or []]
    good_statuses = [s for s in statuses if s is not None]
    good_subs = [s for s in substatuses if s is not None]
    _check_uniqueness(c, good_statuses, good_subs, no_sub)
    _check_references(c, good_statuses, good_subs)
    for e in good_statuses + good_subs:
        e.pop("key_lines", None)
    if c.problems:
        return None, c.problems
    return {"statuses": good_statuses, "substatuses": good_subs, "no_substatus": no_sub,
            "numbering": numbering}, []


def _check_common(c: _Checker, node: Any, entry: dict[str, Any], what: str, line: int | None) -> None:
    entry["key_lines"] = dict(node.key_lines) if isinstance(node, Map) else {}
    entry["aliases"] = c.strings(entry["aliases"], f"{what}: aliases", _line(node, "aliases", line))
    if entry["severity"] is not None and entry["severity"] not in SEVERITIES:
        c.add(_line(node, "severity", line),
              f"{what}: severity must be one of {', '.join(SEVERITIES)} or null, not {quote(entry['severity'])}")
    if not entry["name"].strip():
        c.add(_line(node, "name", line), f"{what}: name is empty")


def _start_entry(c: _Checker, node: Any, fallback: int | None, kind: str,
                 spec: dict[str, tuple[tuple[type, ...], bool, Any]]) -> tuple[dict[str, Any] | None, str, int | None]:
    """The checks every entry gets; (entry or None, its label, its line)."""
    line = _line(node, None, fallback)
    what = f"{kind} {quote(node.get('name'))}" if isinstance(node, dict) else kind
    entry = c.record(node, spec, what, line)
    if entry is None or entry["name"] is None:
        return None, what, line
    _check_common(c, node, entry, what, line)
    entry["line"] = line
    return entry, what, line


def _records(c: _Checker, items: list[Any], spec: dict[str, tuple[tuple[type, ...], bool, Any]], what: str,
             line: int | None) -> list[tuple[Any, dict[str, Any]]]:
    """Check each mapping of a list; (node, record) for the good ones."""
    out = []
    for item in items:
        rec = c.record(item, spec, what, _line(item, None, line))
        if rec is not None:
            out.append((item, rec))
    return out


def _check_status(c: _Checker, node: Any, fallback: int | None) -> dict[str, Any] | None:
    entry, what, line = _start_entry(c, node, fallback, "status", STATUS_FIELDS)
    if entry is None:
        return None
    if "severity" in node and node["severity"] is None:
        c.add(_line(node, "severity", line), f"{what}: a status needs a severity "
              "(only an undocumented substatus may have none)")
    entry["table_label"] = entry["table_label"] or entry["name"]
    entry["other_numberings"] = [rec for _, rec in _records(c, entry["other_numberings"], NUMBERING_FIELDS,
                                                            f"{what}: other_numberings item", line)]
    return entry


def _check_substatus(c: _Checker, node: Any, fallback: int | None) -> dict[str, Any] | None:
    entry, what, line = _start_entry(c, node, fallback, "substatus", SUBSTATUS_FIELDS)
    if entry is None:
        return None
    listings = []
    for item, rec in _records(c, entry["statuses"] or [], LISTING_FIELDS, f"{what}: statuses item", line):
        rec["_line"] = _line(item, "status", line)
        listings.append(rec)
    entry["statuses"] = listings
    if entry["recovery"] is not None and entry["recovery"] not in RECOVERY_VALUES:
        c.add(_line(node, "recovery", line),
              f"{what}: recovery must be one of {', '.join(RECOVERY_VALUES)} or null, "
              f"not {quote(entry['recovery'])}")
    if entry["code_source"] is not None and (entry["api_code"] is None or entry["documented"]):
        c.add(_line(node, "code_source", line), f"{what}: code_source is only for the code of an undocumented "
              "substatus (api_code set, documented: false)")
    if entry["documented"] and entry["severity"] is None:
        c.add(_line(node, "severity", line), f"{what}: a documented substatus needs a severity")
    _check_evidence(c, node, entry, what, line)
    return entry


def _check_evidence(c: _Checker, node: Any, entry: dict[str, Any], what: str, line: int | None) -> None:
    """Every non-null fact rests on sentences quoted word for word from the
    entry's own documentation text; evidence is given only for facts.

    A quote that is one whole sentence of the text is found by a set look-up;
    any other is searched for in the whole text, which `SCAN_BUDGET` bounds."""
    evidence = entry["evidence"]
    ev_node = node.get("evidence")
    ev_line = _line(node, "evidence", line)
    source = " ".join(t for t in (entry["description"], entry["comment"]) if t)
    sentences_of_source: set[str] | None = None
    clean: dict[str, list[str]] = {}
    for key, sentences in evidence.items():
        key_line = _line(ev_node, key, ev_line)
        if key not in FACT_FIELDS:
            c.add(key_line, f"{what}: evidence for unknown fact {quote(key)} (facts: {', '.join(FACT_FIELDS)})")
            continue
        if not isinstance(sentences, list) or not sentences:
            c.add(key_line, f"{what}: evidence {key!r} must be a non-empty list of sentences")
            continue
        good = c.strings(sentences, f"{what}: evidence {key!r}", key_line)
        for sentence in good:
            if not sentence.strip():
                c.add(key_line, f"{what}: evidence {key!r} holds an empty sentence")
                continue
            if sentences_of_source is None:
                sentences_of_source = set(_SENTENCE_BREAK.split(source))
            if sentence in sentences_of_source:
                continue
            if c.scan_budget < len(source):
                c.add(key_line, f"{what}: evidence {key!r} is too much to check: quote whole sentences of its "
                      "description or comment")
                break
            c.scan_budget -= len(source)
            if sentence not in source:
                c.add(key_line, f"{what}: evidence {key!r} is not quoted word for word from its description "
                      f"or comment: {quote(sentence)}")
        if entry[key] is None:
            c.add(key_line, f"{what}: evidence given for {key!r}, which is null")
        elif key == "recovery_condition" and not any(entry[key] in sentence for sentence in good):
            c.add(key_line, f"{what}: recovery_condition is not quoted word for word from its evidence")
        clean[key] = good
    for key in FACT_FIELDS:
        if entry[key] is not None and key not in evidence:
            c.add(_line(node, key, line), f"{what}: {key!r} is set but has no evidence")
    entry["evidence"] = clean


def _check_uniqueness(c: _Checker, statuses: list[dict[str, Any]], subs: list[dict[str, Any]],
                      no_sub: dict[str, Any] | None) -> None:
    """Names and aliases are unique across all entries (after normalisation);
    API codes and names are unique within a kind (status 7 and substatus 21
    may both be "Deleting": the API has it so)."""
    seen_terms: dict[str, tuple[int, str]] = {}
    everything = [("status", e) for e in statuses] + [("substatus", e) for e in subs]
    # names first, so that a clashing alias is reported at the alias
    for field in ("name", "aliases"):
        for index, (kind, e) in enumerate(everything):
            label = f"{kind} {quote(e['name'])}"
            line = e["key_lines"].get(field, e["line"])
            for term in ([e["name"]] if field == "name" else e["aliases"]):
                key = normalize(term)
                if not key:
                    c.add(line, f"{label}: {field.rstrip('es')} {quote(term)} has no letters or digits")
                    continue
                other = seen_terms.get(key)
                if other is not None and other[0] != index:
                    c.add(line, f"{label}: {'name' if field == 'name' else 'alias'} {quote(term)} is already "
                          f"used by {other[1]}")
                    continue
                seen_terms[key] = (index, label)
    for kind, entries in (("status", statuses), ("substatus", subs)):
        codes: dict[int, str] = {}
        api_names: dict[str, str] = {}
        if kind == "substatus" and no_sub is not None:  # its keys may be missing (reported)
            if isinstance(no_sub["api_code"], int):
                codes[no_sub["api_code"]] = "no_substatus"
            if isinstance(no_sub["api_name"], str):
                api_names[no_sub["api_name"].casefold()] = "no_substatus"
        for e in entries:
            label = f"{kind} {quote(e['name'])}"
            if e["api_code"] is not None:
                if e["api_code"] in codes:
                    c.add(e["key_lines"].get("api_code", e["line"]),
                          f"{label}: api_code {e['api_code']} is already used by {codes[e['api_code']]}")
                codes[e["api_code"]] = label
            if e["api_name"] is not None:
                folded = e["api_name"].casefold()
                if folded in api_names:
                    c.add(e["key_lines"].get("api_name", e["line"]),
                          f"{label}: api_name {quote(e['api_name'])} is already used by {api_names[folded]}")
                api_names[folded] = label


def _check_references(c: _Checker, statuses: list[dict[str, Any]], subs: list[dict[str, Any]]) -> None:
    names = {s["name"] for s in statuses}
    for s in statuses:
        ref = s["substatuses_from"]
        if ref is not None and (ref not in names or ref == s["name"]):
            c.add(s["line"], f"status {quote(s['name'])}: substatuses_from names no other status: {quote(ref)}")
    for sub in subs:
        seen: set[str] = set()
        for li in sub["statuses"]:
            line = li.pop("_line")
            if li["status"] not in names:
                c.add(line, f"substatus {quote(sub['name'])}: listed under unknown status {quote(li['status'])}")
            elif li["status"] in seen:
                c.add(line, f"substatus {quote(sub['name'])}: listed twice under {quote(li['status'])}")
            seen.add(li["status"])


def _compile(doc: Any, problems: list[Problem]) -> tuple[dict[str, Any] | None, list[Problem]]:
    if problems and doc is None:
        return None, problems
    data, more = check_document(doc)
    problems = sorted(problems + more, key=lambda p: p.line or 0)
    return (None if problems else data), problems


def check_file(path: str) -> list[Problem]:
    """Every problem of the file at `path`, by line (empty when it is valid)."""
    return _compile(*parse_file(path))[1]


def compile_source(path: str, raw: bytes) -> dict[str, Any]:
    """The validated plain data of the knowledge base whose bytes are `raw`
    (read from `path`); `KBError` names the first problem."""
    data, problems = _compile(*parse_source(raw))
    if data is None:
        first = problems[0]
        extra = f" (and {len(problems) - 1} more: run `zvpg validate {path}`)" if len(problems) > 1 else ""
        raise KBError(path, first.line, first.message + extra)
    return data
