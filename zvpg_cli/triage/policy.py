"""The policy: which states get a grace period, escalate, count as stuck, or
take another severity, as a TOML file merged over zvpg's packaged defaults.

    policy = load_policy(kb, "policy.toml")      # or None: the defaults alone
    policy.timing("Not Meeting SLA", "Delta Syncing", "web-01", "site-a")
    # Timing(severity=None, grace=900, escalate_after=None, stuck_after=3600)

The packaged defaults (`default_policy.toml`) are zvpg's own choice: the
Zerto documentation gives no durations. A policy file is untrusted input: it
is read with a size limit, and anything wrong in it is a `PolicyError` naming
the file, the rule and the key. TOML is imported only here, so triage without
--state or --policy never loads it.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, NamedTuple

from ..base.globs import glob_match
from ..base.units import parse_duration
from ..knowledge.model import Severity
from .site import TEST_MAX_AGE

if TYPE_CHECKING:
    from ..knowledge.model import KnowledgeBase

DEFAULT_POLICY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "default_policy.toml")
#: How `policy show` names the packaged defaults.
DEFAULTS_SOURCE = "zvpg's defaults"
DEFAULTS_NOTE = ("The defaults are zvpg's own choice: the Zerto documentation gives no durations "
                 "for any status or substatus.")
RULE_KEYS = ("match", "kind", "code", "vpg", "site", "severity", "grace", "escalate_after", "stuck_after", "why")
TOP_KEYS = ("rule", "flap_changes", "flap_window", "escalate_unrecoverable", "test_max_age")
_DURATION_KEYS = ("grace", "escalate_after", "stuck_after")
_TEXT_KEYS = ("match", "kind", "code", "vpg", "site", "why")
#: What a rule's `kind` may name: the findings of site health (`triage.site.Finding.kind`).
FINDING_KINDS = ("alert", "vra", "peer", "test")
_MAX_RULES = 10_000


class PolicyError(Exception):
    """A policy that cannot be used; str() is one line naming the file, the
    rule and the key: "policy.toml: rule 2: unknown key 'gracee'"."""


class Timing(NamedTuple):
    """What the policy says for one object (durations in seconds; 0 or None: none)."""

    severity: Severity | None
    grace: int | None
    escalate_after: int | None
    stuck_after: int | None
    #: where `severity` comes from: "policy.toml rule 3" (None without one)
    severity_from: str | None = None
    #: why `escalate_after` applies, when it is zvpg's default for states in
    #: which the documentation says recovery is not possible (None: a rule set it)
    escalate_why: str | None = None


class Rule(NamedTuple):
    match: str
    #: the knowledge-base names `match` resolved to (None: any)
    status: str | None
    substatus: str | None
    vpg: str | None
    site: str | None
    severity: Severity | None
    grace: int | None
    escalate_after: int | None
    stuck_after: int | None
    why: str | None
    #: where the rule comes from: the file's path, or DEFAULTS_SOURCE
    source: str
    number: int
    default: bool
    #: a rule for findings (FINDING_KINDS; None: a rule for VPG and VM states, by `match`)
    kind: str | None = None
    #: a glob on the finding's code: an alert's HelpIdentifier, a VRA's Status or a peer's
    #: PairingStatus as its number or its name (None: any)
    code: str | None = None

    def matches(self, status: str | None, substatus: str | None, name: str, site: str | None) -> bool:
        if self.kind is not None:
            return False
        if self.status is not None and self.status != status:
            return False
        if self.substatus is not None and self.substatus != substatus:
            return False
        if self.vpg is not None and not glob_match(name, self.vpg):
            return False
        return self.site is None or (site is not None and glob_match(site, self.site))

    @property
    def origin(self) -> str:
        return DEFAULTS_SOURCE if self.default else f"{self.source} rule {self.number}"


_SETTINGS = ("severity", "grace", "escalate_after", "stuck_after")
#: zvpg's default for `escalate_unrecoverable` when the packaged file does not set it.
ESCALATE_UNRECOVERABLE = 12 * 3600


class Policy(NamedTuple):
    #: the user's rules first (file order), then the packaged defaults
    rules: tuple[Rule, ...]
    flap_changes: int
    flap_window: int
    #: the file given (None: the defaults alone)
    path: str | None = None
    #: whether flap_changes / flap_window are the defaults' values
    flap_default: tuple[bool, bool] = (True, True)
    #: a warning in a state in which the documentation says recovery is not
    #: possible becomes critical after this long out of ok (0: never), unless
    #: a rule sets escalate_after for it
    escalate_unrecoverable: int = ESCALATE_UNRECOVERABLE
    escalate_default: bool = True
    #: the rules by state, compiled on first use (`_Index`)
    index: Any = None
    #: a VPG whose last failover test is older than this (seconds) is a warning
    #: (None: the test's age is not judged)
    test_max_age: int | None = TEST_MAX_AGE
    test_max_age_default: bool = True

    def timing(self, status: str | None, substatus: str | None, name: str, site: str | None, *,
               status_wide_grace: bool = True, unrecoverable: bool = False) -> Timing:
        """For each key, the first matching rule that sets it.

        `status_wide_grace`: whether a rule that names a status alone may give
        this object a grace (zvpg applies one only where the substatus is none
        or itself a sync); `unrecoverable`: the documentation says recovery is
        not possible in this state (escalate_unrecoverable applies)."""
        index = self.index if self.index is not None else _Index(self.rules)
        found: dict[str, Any] = {}
        for rule in index.matching(status, substatus, name, site):
            if len(found) == 4:
                break
            for key in _SETTINGS:
                value = getattr(rule, key)
                if value is None or key in found:
                    continue
                if key == "grace" and not status_wide_grace and rule.substatus is None:
                    continue
                found[key] = value
                if key == "severity":
                    found["severity_from"] = rule.origin
        why = None
        if "escalate_after" not in found and unrecoverable and self.escalate_unrecoverable:
            found["escalate_after"] = self.escalate_unrecoverable
            why = ("the documentation says recovery is not possible in this state; "
                   + ("zvpg's choice" if self.escalate_default else f"{self.path}: escalate_unrecoverable"))
        return Timing(found.get("severity"), found.get("grace"), found.get("escalate_after"),
                      found.get("stuck_after"), found.get("severity_from"), why)


    def finding_timing(self, kind: str, codes: tuple[str, ...], name: str, site: str | None) -> Timing:
        """What the rules for findings (`kind = ...`) say of one finding: for
        each key the first matching rule that sets it. `codes`: what a rule's
        `code` glob is tried against (an alert's HelpIdentifier; a VRA's or a
        peer's status number and name); `name`: the VPG's name of a test."""
        rules = (self.index if self.index is not None else _Index(self.rules)).for_findings
        if not rules:
            return _NO_TIMING
        found: dict[str, Any] = {}
        for rule in rules:
            if rule.kind != kind or (rule.code is not None and not any(glob_match(c, rule.code) for c in codes)):
                continue
            if (rule.vpg is not None and not glob_match(name, rule.vpg)) or (
                    rule.site is not None and (site is None or not glob_match(site, rule.site))):
                continue
            for key in ("severity", "grace", "escalate_after"):
                value = getattr(rule, key)
                if value is not None and key not in found:
                    found[key] = value
                    if key == "severity":
                        found["severity_from"] = rule.origin
        return Timing(found.get("severity"), found.get("grace"), found.get("escalate_after"), None,
                      found.get("severity_from"))


_NO_TIMING = Timing(None, None, None, None)


class _Index:
    """The rules that can match a state, found once per state, with their name
    and site patterns compiled once: a name without a wildcard is a dict
    lookup, a glob one compiled expression tried only on names that start with
    its text before the wildcard. Rules keep their order."""

    def __init__(self, rules: tuple[Rule, ...]) -> None:
        self.rules = rules
        self.by_state: dict[tuple[str | None, str | None], Any] = {}
        self.for_findings = tuple(r for r in rules if r.kind is not None)

    def _for_state(self, status: str | None, substatus: str | None) -> Any:
        import re

        from ..base.globs import compile_glob

        any_scope: list[tuple[int, Rule]] = []
        by_name: dict[str, list[tuple[int, Rule, Any]]] = {}
        #: glob rules by the text before their first wildcard: a name is tried
        #: only against the globs whose prefix it starts with
        globbed: dict[str, list[tuple[int, Rule, Any]]] = {}
        for n, rule in enumerate(self.rules):
            if rule.kind is not None or (rule.status is not None and rule.status != status) or (
                    rule.substatus is not None and rule.substatus != substatus):
                continue
            site = None if rule.site is None else compile_glob(rule.site)
            if rule.vpg is None and site is None:
                any_scope.append((n, rule))
            elif rule.vpg is not None and not any(c in rule.vpg for c in "*?["):
                by_name.setdefault(rule.vpg.casefold(), []).append((n, rule, site))
            else:
                folded = None if rule.vpg is None else rule.vpg.casefold()
                prefix = "" if folded is None else re.split(r"[*?\[]", folded, maxsplit=1)[0]
                # "web-*": the bucket of its prefix is the whole match, no expression needed
                whole = folded is None or (folded == prefix + "*")
                vpg = None if whole else compile_glob(folded)  # type: ignore[arg-type]
                globbed.setdefault(prefix, []).append((n, rule, (vpg, site)))
        return any_scope, by_name, globbed

    def matching(self, status: str | None, substatus: str | None, name: str, site: str | None) -> list[Rule]:
        key = (status, substatus)
        found = self.by_state.get(key)
        if found is None:
            found = self.by_state[key] = self._for_state(status, substatus)
        any_scope, by_name, globbed = found
        folded, folded_site = name.casefold(), None if site is None else site.casefold()

        def site_ok(pattern: Any) -> bool:
            return pattern is None or (folded_site is not None and pattern.match(folded_site) is not None)

        out = list(any_scope)
        out += [(n, rule) for n, rule, s in by_name.get(folded, ()) if site_ok(s)]
        for end in range(len(folded) + 1) if globbed else ():
            for n, rule, (v, s) in globbed.get(folded[:end], ()):
                if (v is None or v.match(folded) is not None) and site_ok(s):
                    out.append((n, rule))
        if len(out) > len(any_scope):
            out.sort(key=lambda pair: pair[0])
        return [rule for _, rule in out]


def load_policy(kb: KnowledgeBase, path: str | None) -> Policy:
    """The policy in force: the rules of `path` (if given) over the packaged defaults."""
    defaults, flap = _parse(kb, DEFAULT_POLICY, DEFAULTS_SOURCE, default=True)
    escalate = flap.get("escalate_unrecoverable", ESCALATE_UNRECOVERABLE)
    max_age = flap.get("test_max_age", TEST_MAX_AGE)
    if path is None:
        return Policy(defaults, flap.get("flap_changes", 6), flap.get("flap_window", 3600),
                      escalate_unrecoverable=escalate, index=_Index(defaults), test_max_age=max_age or None)
    rules, user_flap = _parse_cached(kb, path)
    return Policy(
        rules + defaults,
        user_flap.get("flap_changes", flap.get("flap_changes", 6)),
        user_flap.get("flap_window", flap.get("flap_window", 3600)),
        path,
        ("flap_changes" not in user_flap, "flap_window" not in user_flap),
        user_flap.get("escalate_unrecoverable", escalate),
        "escalate_unrecoverable" not in user_flap,
        _Index(rules + defaults),
        user_flap.get("test_max_age", max_age) or None,
        "test_max_age" not in user_flap,
    )


#: A policy file larger than this is refused.
MAX_POLICY_BYTES = 1 << 20
#: A policy with at least this many rules is kept compiled in the cache folder
#: (parsing and resolving 10,000 rules takes longer than a whole run).
CACHE_FROM_RULES = 500


def _parse_cached(kb: KnowledgeBase, path: str) -> tuple[tuple[Rule, ...], dict[str, int]]:
    """`_parse` of a user's file, through zvpg's private cache for large
    policies: keyed by the file's bytes, the knowledge base's names and zvpg's
    version, so an edited file or another knowledge base is parsed again."""
    from .. import __version__
    from ..base import cachefs
    from ..base.sanitize import printable
    from ..knowledge.kb import _blake2b, decode_cache, encode_cache

    text = _read(path, printable(path))
    names = "\n".join(f"{e.name}\t{' '.join(e.aliases)}" for e in kb.entries)
    digest = _blake2b(f"{text}\0{names}\0{path}".encode("utf-8", "surrogatepass")).hex()
    key = ("policy", 2, __version__, digest)
    folder = cachefs.cache_dir()
    target = os.path.join(folder, f"policy-{digest}.marshal") if folder else None
    if target and text.count("[[rule]]") >= CACHE_FROM_RULES and cachefs.private_dir(folder):  # type: ignore[arg-type]
        blob = cachefs.read_private(target, 64 << 20)
        stored = decode_cache(blob, key, _well_formed) if blob else None
        if stored is not None:
            severities = {s.value: s for s in Severity}
            make = tuple.__new__
            return tuple(make(Rule, (*r[:5], severities.get(r[5]), *r[6:])) for r in stored[0]), stored[1]
        rules, flap = _parse(kb, path, path, default=False, text=text)
        plain = [(*r[:5], r.severity.value if r.severity else None, *r[6:]) for r in rules]
        cachefs.write_private(target, encode_cache(key, (plain, flap)))
        return rules, flap
    return _parse(kb, path, path, default=False, text=text)


def _well_formed(stored: Any) -> bool:
    """The shape of a cached policy (the entry itself is checked by its digest,
    in a private folder): rules of the right length, the flapping settings."""
    return (type(stored) is tuple and len(stored) == 2 and type(stored[0]) is list and type(stored[1]) is dict
            and all(type(r) is tuple and len(r) == len(Rule._fields) for r in stored[0]))


def _read(path: str, shown: str) -> str:
    from ..base.files import FileError, read_file

    try:
        raw = read_file(path, "the policy", MAX_POLICY_BYTES)[0]
    except FileError as exc:
        raise PolicyError(f"{shown}: {exc.reason}") from None
    try:
        return raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        raise PolicyError(f"{shown}: not UTF-8 text") from None


def _parse(kb: KnowledgeBase, path: str, source: str, *, default: bool,
           text: str | None = None) -> tuple[tuple[Rule, ...], dict[str, int]]:
    from ..base.sanitize import printable

    shown = printable(source)
    if text is None:
        text = _read(path, shown)
    from ..base.tomltext import parse_toml

    try:
        doc = parse_toml(text)
    except (ValueError, RecursionError) as exc:  # tomllib.TOMLDecodeError is a ValueError
        raise PolicyError(f"{shown}: not valid TOML: {printable(str(exc))[:200]}") from None
    for key in doc:
        if key not in TOP_KEYS:
            raise PolicyError(f"{shown}: unknown key {printable(key)[:60]!r} (known: {', '.join(TOP_KEYS)})")
    flap: dict[str, int] = {}
    if "flap_changes" in doc:
        value = doc["flap_changes"]
        if type(value) is not int or not 1 <= value <= 10_000:
            raise PolicyError(f"{shown}: flap_changes must be a whole number from 1 to 10000")
        flap["flap_changes"] = value
    if "flap_window" in doc:
        flap["flap_window"] = _duration(doc["flap_window"], f"{shown}: flap_window")
        if not flap["flap_window"]:
            raise PolicyError(f"{shown}: flap_window must be longer than 0s")
    if "escalate_unrecoverable" in doc:
        flap["escalate_unrecoverable"] = _duration(doc["escalate_unrecoverable"], f"{shown}: escalate_unrecoverable")
    if "test_max_age" in doc:  # "off" (or "0s"): the tests' age is not judged
        value = doc["test_max_age"]
        off = isinstance(value, str) and value.strip().lower() == "off"
        flap["test_max_age"] = 0 if off else _duration(value, f"{shown}: test_max_age (or \"off\")")
    raw_rules = doc.get("rule", [])
    if not isinstance(raw_rules, list) or not all(isinstance(r, dict) for r in raw_rules):
        raise PolicyError(f"{shown}: 'rule' must be a list of tables ([[rule]])")
    if len(raw_rules) > _MAX_RULES:
        raise PolicyError(f"{shown}: more than {_MAX_RULES} rules")
    resolved: dict[str, tuple[str | None, str | None]] = {}  # each distinct match resolved once
    rules = tuple(_rule(kb, shown, source, n, raw, default, resolved)
                  for n, raw in enumerate(raw_rules, 1))
    return rules, flap


def _rule(kb: KnowledgeBase, shown: str, source: str, number: int, raw: dict[str, Any], default: bool,
          resolved: dict[str, tuple[str | None, str | None]]) -> Rule:
    from ..base.sanitize import printable

    where = f"{shown}: rule {number}"
    for key in raw:
        if key not in RULE_KEYS:
            raise PolicyError(f"{where}: unknown key {printable(key)[:60]!r} (known: {', '.join(RULE_KEYS)})")
    for key in _TEXT_KEYS:
        if key in raw and not (isinstance(raw[key], str) and raw[key].strip()):
            raise PolicyError(f"{where}: {key} must be a non-empty string")
    kind = raw.get("kind")
    if kind is not None:
        kind = kind.strip().lower()
        _finding_rule(raw, kind, where)
        match, status, substatus = "", None, None
    else:
        if "code" in raw:
            raise PolicyError(f"{where}: code needs a kind ({', '.join(FINDING_KINDS)})")
        if "match" not in raw:
            raise PolicyError(f"{where}: match is missing (a status, a substatus or 'STATUS / SUBSTATUS'; "
                              f"or a kind: {', '.join(FINDING_KINDS)})")
        match = raw["match"]
        if match not in resolved:
            resolved[match] = _resolve(kb, match, where)
        status, substatus = resolved[match]
    severity = None
    if "severity" in raw:
        value = raw["severity"]
        names = ", ".join(s.value for s in Severity)
        if not isinstance(value, str) or value.strip().lower() not in {s.value for s in Severity}:
            raise PolicyError(f"{where}: severity must be one of {names}, not {printable(repr(value))[:60]}")
        severity = Severity(value.strip().lower())
    durations = {key: _duration(raw[key], f"{where}: {key}") if key in raw else None for key in _DURATION_KEYS}
    if severity is None and all(v is None for v in durations.values()):
        keys = "grace or escalate_after" if kind else "grace, escalate_after or stuck_after"
        raise PolicyError(f"{where}: sets nothing (give severity, {keys})")
    return Rule(match, status, substatus, raw.get("vpg"), raw.get("site"), severity,
                durations["grace"], durations["escalate_after"], durations["stuck_after"],
                raw.get("why"), source, number, default, kind, raw["code"].strip() if "code" in raw else None)


def _finding_rule(raw: dict[str, Any], kind: str, where: str) -> None:
    """The keys a rule for findings (`kind = ...`) may not have, and its `code`:
    for VRAs and peer sites a number or a name zvpg knows (or a glob)."""
    from ..base.sanitize import printable

    if kind not in FINDING_KINDS:
        raise PolicyError(f"{where}: kind must be one of {', '.join(FINDING_KINDS)}, not {printable(kind)[:40]!r}")
    if "match" in raw:
        raise PolicyError(f"{where}: match is for VPG states; a rule with a kind names its findings by code")
    if "stuck_after" in raw:
        raise PolicyError(f"{where}: stuck_after is for syncs with a progress, not for findings (kind)")
    if "vpg" in raw and kind != "test":
        raise PolicyError(f"{where}: vpg is for kind = \"test\" (the VPG whose test it is), not {kind}")
    if "code" in raw and kind == "test":
        raise PolicyError(f"{where}: code is not for kind = \"test\" (a test has no code; use vpg)")
    code = raw.get("code")
    if code is None or kind == "alert" or any(c in code for c in "*?[") or code.strip().isdigit():
        return
    from ..knowledge.alerts import load

    table = load().vra_statuses if kind == "vra" else load().pairing_statuses
    names = [c.name for c in table]
    if not any(n.casefold() == code.strip().casefold() for n in names):
        what = "VRA Status" if kind == "vra" else "PairingStatus"
        raise PolicyError(f"{where}: code: no {what} {printable(code)[:60]!r} (a number, a glob, or one of: "
                          f"{', '.join(names)})")


def _duration(value: Any, where: str) -> int:
    from ..base.sanitize import printable

    if not isinstance(value, str):
        raise PolicyError(f"{where} must be a duration in quotes, such as \"15m\", not {printable(repr(value))[:60]}")
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise PolicyError(f"{where}: {printable(str(exc))[:200]}") from None


def _resolve(kb: KnowledgeBase, term: str, where: str) -> tuple[str | None, str | None]:
    """(status, substatus) knowledge-base names for what `zvpg explain` accepts."""
    from ..base.sanitize import printable
    from ..knowledge.lookup import LookupError_, resolve

    def one(text: str, kind: str | None) -> Any:
        try:
            return resolve(kb, text, kind).entry
        except LookupError_ as exc:
            hint = f" (did you mean: {', '.join(exc.suggestions)}?)" if exc.suggestions else ""
            what = f"{kind} " if kind else "status or substatus "
            raise PolicyError(f"{where}: match: no {what}{printable(repr(text.strip()))[:80]}{hint}") from None

    if "/" in term:
        try:
            entry = resolve(kb, term).entry
        except LookupError_:
            left, _, right = term.partition("/")
            return one(left, "status").name, one(right, "substatus").name
    else:
        entry = one(term, None)
    return (entry.name, None) if entry.kind == "status" else (None, entry.name)


#: What a stuck rule assumes, for `policy show`.
STUCK_NOTE = ("Stuck: a sync whose ProgressPercentage has not risen for the stuck time is critical. {d} assumes "
              "a sync gains at least 1 percentage point every {d} (a whole sync within {w}).")


def silenced(kb: KnowledgeBase, policy: Policy) -> bool:
    """Whether the policy makes every documented state ok (whatever the name or site)."""
    for status in kb.statuses:
        for sub in (None, *(s.name for s in kb.substatuses)):
            rules = (policy.index or _Index(policy.rules)).matching(status.name, sub, "", None)
            first = next((r.severity for r in rules if r.severity is not None and r.vpg in (None, "*")
                          and r.site is None), None)
            if first is not Severity.OK:
                return False
    return True
