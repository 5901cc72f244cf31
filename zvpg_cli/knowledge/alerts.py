"""Site knowledge: the ZVM alert codes (HelpIdentifier), VRA `Status`,
`VraAlerts.VraAlertsStatus` and peer-site `PairingStatus`, from
data/alerts.yaml (validated when it is loaded; every entry names its sources).

Loaded only by the commands that need it (`zvpg explain CODE`, `zvpg list
--alerts`): nothing on the start-up path of the other commands imports this
module (tests/test_structure.py checks it)."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from typing import Any

from .kbsource import KBError
from .kbyaml import Map, Problem, parse_file, quote

#: The alarm-row severities the reference's table gives (E, W, E/W).
LEVELS = ("Error", "Warning", "Error / Warning")
#: What a remark is: what a peer tool does, a related fact, the reference's own
#: inference, or an unattributed source's disagreement.
REMARK_KINDS = ("peer", "related", "inference", "uncertain")


@dataclass(frozen=True)
class Source:
    key: str
    name: str
    zerto: bool


@dataclass(frozen=True)
class Remark:
    source: str
    kind: str
    text: str


@dataclass(frozen=True)
class Alert:
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


@dataclass(frozen=True)
class Code:
    """One value of a numeric API field (VRA Status, PairingStatus, ...)."""

    code: int
    name: str
    sources: tuple[str, ...]
    uncertain: bool


@dataclass(frozen=True)
class SiteKnowledge:
    path: str
    sources: dict[str, Source]
    alerts: tuple[Alert, ...]
    vra_statuses: tuple[Code, ...]
    vra_alerts_statuses: tuple[Code, ...]
    pairing_statuses: tuple[Code, ...]

    def alert(self, code: str) -> Alert | None:
        """The alert `code` names, in any case and with spaces around it."""
        wanted = code.strip().upper()
        return next((a for a in self.alerts if a.code == wanted), None)


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
    if isinstance(node, Map):
        return node.key_lines.get(key, node.line) if key else node.line
    return None


def _text(node: Map, key: str, problems: list[Problem], *, nullable: bool) -> Any:
    value = node.get(key)
    if key not in node:
        problems.append(Problem(_line(node), f"missing key {key!r}"))
    elif value is None and not nullable:
        problems.append(Problem(_line(node, key), f"{key} may not be null"))
    elif value is not None and (not isinstance(value, str) or not value.strip()):
        problems.append(Problem(_line(node, key), f"{key} {quote(value)} is not a non-empty string"))
    return value


def _sources(node: Map, known: dict[str, Source], problems: list[Problem]) -> tuple[str, ...]:
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
    doc, problems = parse_file(path)
    return problems or check(doc)[1]


def check_if_alerts_file(path: str) -> list[Problem] | None:
    """`check_file` for a file with a top-level `alerts` key (`zvpg validate
    data/alerts.yaml`); None for any other file (a statuses knowledge base)."""
    doc, problems = parse_file(path)
    if problems or not isinstance(doc, Map) or "alerts" not in doc:
        return None
    return check(doc)[1]


@functools.cache
def load(path: str | None = None) -> SiteKnowledge:
    """The site knowledge in `path` (default: the packaged file). Raises
    `KBError` (one line: the file, the line, the first problem)."""
    path = path or default_path()
    doc, problems = parse_file(path)
    if not problems:
        content, problems = check(doc)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise KBError(path, problems[0].line, problems[0].message + more)
    return SiteKnowledge(path=path, **content)


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
