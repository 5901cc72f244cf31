"""Site knowledge: the ZVM alert codes (HelpIdentifier), VRA `Status`,
`VraAlerts.VraAlertsStatus` and peer-site `PairingStatus`, from
data/alerts.yaml (validated when it is loaded; every entry names its sources).

Loaded only by the commands that need it (`zvpg explain CODE`, `zvpg list
--alerts`, a triage that reads alerts, VRAs or peer sites): nothing on the
start-up path of the other commands imports this module (tests/test_structure.py
checks it). Its validated content is kept compiled in zvpg's private cache
folder, as the statuses' is (`knowledge.kb`): a triage run every minute does
not parse YAML; an edited file is seen by its bytes."""

from __future__ import annotations

import functools
import os
from typing import TYPE_CHECKING, Any, NamedTuple

from .kbsource import KBError

if TYPE_CHECKING:  # (the YAML parser is imported where a file is parsed, off the cached path)
    from .kbyaml import Problem

#: The alarm-row severities the reference's table gives (E, W, E/W).
LEVELS = ("Error", "Warning", "Error / Warning")
#: What a remark is: what a peer tool does, a related fact, the reference's own
#: inference, or an unattributed source's disagreement.
REMARK_KINDS = ("peer", "related", "inference", "uncertain")


class Source(NamedTuple):
    key: str
    name: str
    zerto: bool


class Remark(NamedTuple):
    source: str
    kind: str
    text: str


class Alert(NamedTuple):
    code: str
    title: str | None
    level: str | None
    alarm: str | None
    sources: tuple[str, ...]
    note: str | None
    remarks: tuple[Remark, ...] = ()

    @property
    def single_source(self) -> bool:
        return len(self.sources) == 1


class Code(NamedTuple):
    """One value of a numeric API field (VRA Status, PairingStatus, ...)."""

    code: int
    name: str
    sources: tuple[str, ...]
    uncertain: bool


class SiteKnowledge(NamedTuple):
    # (NamedTuples rather than dataclasses: a triage that reads alerts creates these
    # classes on every run, and a frozen dataclass costs some 1 ms to create)
    path: str
    sources: dict[str, Source]
    alerts: tuple[Alert, ...]
    vra_statuses: tuple[Code, ...]
    vra_alerts_statuses: tuple[Code, ...]
    pairing_statuses: tuple[Code, ...]
    #: the alerts by code
    by_code: dict[str, Alert]

    def alert(self, code: str) -> Alert | None:
        """The alert `code` names, in any case and with spaces around it."""
        return self.by_code.get(code.strip().upper())


#: The tables of numeric codes: YAML key -> what it decodes.
CODE_TABLES = {"vra_statuses": "VRA Status", "vra_alerts_statuses": "VraAlerts.VraAlertsStatus",
               "pairing_statuses": "peer-site PairingStatus"}


def default_path() -> str:
    """The packaged file: ``zvpg_cli/data/alerts.yaml`` in the wheel, ``data/alerts.yaml`` in a checkout."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    packaged = os.path.join(here, "data", "alerts.yaml")
    return packaged if os.path.exists(packaged) else os.path.join(os.path.dirname(here), "data", "alerts.yaml")


def is_code(code: str) -> bool:
    """Three capital letters and four digits, as the API sends HelpIdentifier."""
    return (len(code) == 7 and code.isascii() and code[:3].isalpha() and code[:3].isupper()
            and code[3:].isdigit())


def _line(node: Any, key: str | None = None) -> int | None:
    from .kbyaml import Map

    if isinstance(node, Map):
        return node.key_lines.get(key, node.line) if key else node.line
    return None


def _text(node: Any, key: str, problems: list[Problem], *, nullable: bool) -> Any:
    from .kbyaml import Problem, quote

    value = node.get(key)
    if key not in node:
        problems.append(Problem(_line(node), f"missing key {key!r}"))
    elif value is None and not nullable:
        problems.append(Problem(_line(node, key), f"{key} may not be null"))
    elif value is not None and (not isinstance(value, str) or not value.strip()):
        problems.append(Problem(_line(node, key), f"{key} {quote(value)} is not a non-empty string"))
    return value


def _sources(node: Any, known: dict[str, Source], problems: list[Problem]) -> tuple[str, ...]:
    from .kbyaml import Problem, quote

    value = node.get("sources")
    if not isinstance(value, list) or not value:
        problems.append(Problem(_line(node, "sources"), "sources must be a non-empty list of source keys"))
        return ()
    for key in value:
        if key not in known:
            problems.append(Problem(_line(node, "sources"), f"unknown source {quote(key)}"))
    return tuple(str(k) for k in value)


def check(doc: Any) -> tuple[dict[str, Any], list[Problem]]:
    """The validated content of a parsed alerts file, and every problem found."""
    from .kbyaml import Map, Problem, quote

    problems: list[Problem] = []
    if not isinstance(doc, Map):
        return {}, [Problem(None, "the file must be a mapping")]
    if doc.get("schema_version") != 1:
        problems.append(Problem(_line(doc, "schema_version"), "schema_version must be 1"))
    known: dict[str, Source] = {}
    raw_sources = doc.get("sources")
    if not isinstance(raw_sources, Map) or not raw_sources:
        problems.append(Problem(_line(doc, "sources"), "sources must be a mapping of keys to sources"))
    else:
        for key, src in raw_sources.items():
            if not isinstance(src, Map) or not isinstance(src.get("name"), str) or \
                    not isinstance(src.get("zerto"), bool):
                problems.append(Problem(_line(raw_sources, key), f"source {key!r} needs a name and zerto: true|false"))
                continue
            known[key] = Source(key, src["name"], src["zerto"])
    out: dict[str, Any] = {"sources": known}
    alerts: list[Alert] = []
    seen: dict[str, int | None] = {}
    raw_alerts = doc.get("alerts")
    if not isinstance(raw_alerts, list) or not raw_alerts:
        problems.append(Problem(_line(doc, "alerts"), "alerts must be a non-empty list"))
        raw_alerts = []
    for node in raw_alerts:
        if not isinstance(node, Map):
            problems.append(Problem(None, "every alert must be a mapping"))
            continue
        before = len(problems)
        code = node.get("code")
        if not isinstance(code, str) or not is_code(code):
            problems.append(Problem(_line(node, "code"), f"code {quote(code)} is not 3 capital letters and 4 digits"))
        elif code in seen:
            problems.append(Problem(_line(node, "code"), f"duplicate code {code} (first on line {seen[code]})"))
        else:
            seen[code] = _line(node, "code")
        title = _text(node, "title", problems, nullable=True)
        level = node.get("level")
        if level is not None and level not in LEVELS:
            problems.append(Problem(_line(node, "level"), f"level {quote(level)} is not one of {', '.join(LEVELS)}"))
        alarm = _text(node, "alarm", problems, nullable=True)
        note = _text(node, "note", problems, nullable=True)
        sources = _sources(node, known, problems)
        if len(sources) == 1 and not (isinstance(note, str) and f"only {sources[0]}" in note):
            problems.append(Problem(_line(node, "note"),
                                    f"{code}: one source, so its note must say 'only {sources[0]}'"))
        remarks = []
        for r in node.get("remarks") or []:
            if not isinstance(r, Map) or r.get("source") not in known or r.get("kind") not in REMARK_KINDS \
                    or not isinstance(r.get("text"), str):
                problems.append(Problem(_line(r) or _line(node, "remarks"),
                                        f"a remark needs a known source, a kind ({', '.join(REMARK_KINDS)}) and text"))
                continue
            remarks.append(Remark(r["source"], r["kind"], r["text"]))
        if len(problems) == before and isinstance(code, str):
            alerts.append(Alert(code, title, level, alarm, sources, note, tuple(remarks)))
    out["alerts"] = tuple(alerts)
    for table in CODE_TABLES:
        codes: list[Code] = []
        rows = doc.get(table)
        if not isinstance(rows, list) or not rows:
            problems.append(Problem(_line(doc, table), f"{table} must be a non-empty list"))
            rows = []
        for node in rows:
            ok = (isinstance(node, Map) and type(node.get("code")) is int and isinstance(node.get("name"), str)
                  and isinstance(node.get("uncertain"), bool))
            if not ok:
                problems.append(Problem(_line(node), f"{table}: every value needs code (int), name and uncertain"))
                continue
            sources = _sources(node, known, problems)
            if node["code"] in {c.code for c in codes}:
                problems.append(Problem(_line(node), f"{table}: duplicate code {node['code']}"))
            elif sources:
                codes.append(Code(node["code"], node["name"], sources, node["uncertain"]))
        out[table] = tuple(codes)
    return out, problems


def check_file(path: str) -> list[Problem]:
    from .kbyaml import parse_file

    doc, problems = parse_file(path)
    return problems or check(doc)[1]


def check_if_alerts_file(path: str) -> list[Problem] | None:
    """`check_file` for a file with a top-level `alerts` key (`zvpg validate
    data/alerts.yaml`); None for any other file (a statuses knowledge base)."""
    from .kbyaml import Map, parse_file

    doc, problems = parse_file(path)
    if problems or not isinstance(doc, Map) or "alerts" not in doc:
        return None
    return check(doc)[1]


@functools.cache
def load(path: str | None = None) -> SiteKnowledge:
    """The site knowledge in `path` (default: the packaged file), from the
    cache folder when it holds this file's bytes compiled. Raises `KBError`
    (one line: the file, the line, the first problem)."""
    from .kbsource import read_source

    path = path or default_path()
    raw = read_source(path)
    target, key = _cache_file(path), _cache_key(raw)
    if target:
        from ..base import cachefs
        from .kb import MAX_CACHE_BYTES, decode_cache

        blob = cachefs.read_private(target, MAX_CACHE_BYTES)
        stored = decode_cache(blob, key, _well_formed) if blob is not None else None
        if stored is not None:
            return _build(path, stored)
    content = _parse(path, raw)
    plain = {"sources": [(s.key, s.name, s.zerto) for s in content["sources"].values()],
             "alerts": [(a.code, a.title, a.level, a.alarm, list(a.sources), a.note,
                         [(r.source, r.kind, r.text) for r in a.remarks]) for a in content["alerts"]],
             **{t: [(c.code, c.name, list(c.sources), c.uncertain) for c in content[t]] for t in CODE_TABLES}}
    if target:
        from ..base import cachefs
        from .kb import encode_cache

        cachefs.write_private(target, encode_cache(key, plain))
    return SiteKnowledge(path=path, **content, by_code={a.code: a for a in content["alerts"]})


def _parse(path: str, raw: bytes) -> dict[str, Any]:
    from .kbyaml import parse_source

    doc, problems = parse_source(raw)
    content: dict[str, Any] = {}
    if not problems:
        content, problems = check(doc)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise KBError(path, problems[0].line, problems[0].message + more)
    return content


def _cache_key(raw: bytes) -> tuple[Any, ...]:
    from .. import __version__
    from .kb import _blake2b

    return ("alerts", 1, __version__, _blake2b(raw).hex())


def _cache_file(path: str) -> str | None:
    """One entry per alerts file (its key names zvpg's version: an upgrade rewrites it)."""
    from ..base import cachefs
    from .kb import _fnv1a

    folder = cachefs.cache_dir()
    if not folder or not cachefs.private_dir(folder):
        return None
    return os.path.join(folder, f"alerts-{_fnv1a(os.path.abspath(path))}.marshal")


def _strs(value: Any) -> bool:
    return type(value) is list and all(type(v) is str for v in value)


def _opt(value: Any) -> bool:
    return value is None or type(value) is str


def _well_formed(stored: Any) -> bool:
    """The shape `_build` needs of a cache entry (the entry's digest is checked
    already, in a private folder)."""
    if type(stored) is not dict or set(stored) != {"sources", "alerts", *CODE_TABLES}:
        return False
    ok = all(type(s) is tuple and len(s) == 3 and type(s[0]) is str and type(s[1]) is str and type(s[2]) is bool
             for s in stored["sources"])
    ok = ok and all(type(a) is tuple and len(a) == 7 and type(a[0]) is str and all(_opt(v) for v in a[1:4])
                    and _strs(a[4]) and _opt(a[5]) and type(a[6]) is list
                    and all(type(r) is tuple and len(r) == 3 and all(type(v) is str for v in r) for r in a[6])
                    for a in stored["alerts"])
    return ok and all(type(c) is tuple and len(c) == 4 and type(c[0]) is int and type(c[1]) is str and _strs(c[2])
                      and type(c[3]) is bool for t in CODE_TABLES for c in stored[t])


def _build(path: str, stored: dict[str, Any]) -> SiteKnowledge:
    alerts = tuple(Alert(c, t, lv, al, tuple(src), n, tuple(Remark(*r) for r in rem))
                   for c, t, lv, al, src, n, rem in stored["alerts"])
    return SiteKnowledge(
        path=path, sources={k: Source(k, name, zerto) for k, name, zerto in stored["sources"]}, alerts=alerts,
        **{t: tuple(Code(c, n, tuple(src), u) for c, n, src, u in stored[t]) for t in CODE_TABLES},
        by_code={a.code: a for a in alerts})


def decode(table: str, code: Any, path: str | None = None) -> Code | None:
    """The value `code` of a numeric field (`table` is a key of CODE_TABLES);
    None when the sources do not know it (keep such a value with its number)."""
    if type(code) is not int:
        return None
    return next((c for c in getattr(load(path), table) if c.code == code), None)


def source_text(sk: SiteKnowledge, keys: tuple[str, ...]) -> str:
    """`D, A, K (Zerto-authored)`; a single source said so."""
    names = ", ".join(keys)
    zerto = all(sk.sources[k].zerto for k in keys)
    whose = "Zerto-authored" if zerto else "not all Zerto-authored"
    return f"{names} ({'one source only, ' if len(keys) == 1 else ''}{whose})"


def alert_dict(sk: SiteKnowledge, alert: Alert) -> dict[str, Any]:
    """An alert code as `zvpg explain CODE --json` and `zvpg list --alerts --json` print it
    (schemas/alert.schema.json)."""
    return {
        "kind": "alert",
        "code": alert.code,
        "title": alert.title,
        "level": alert.level,
        "alarm": alert.alarm,
        "sources": [{"key": k, "name": sk.sources[k].name, "zerto": sk.sources[k].zerto} for k in alert.sources],
        "single_source": alert.single_source,
        "note": alert.note,
        "remarks": [{"source": r.source, "kind": r.kind, "text": r.text} for r in alert.remarks],
    }


def search(sk: SiteKnowledge, text: str) -> list[Alert]:
    """The alerts whose code, title, alarm or note contains `text` (case ignored)."""
    wanted = text.casefold().strip()
    return [a for a in sk.alerts
            if any(wanted in (v or "").casefold() for v in (a.code, a.title, a.alarm, a.note))]
