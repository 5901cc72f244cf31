"""Typed domain objects of the knowledge base.

NamedTuples rather than dataclasses: they are typed and immutable like frozen
dataclasses, but building them costs nothing at import time (`dataclasses`
alone adds milliseconds to every start-up of the command line).
"""

from __future__ import annotations

from enum import Enum
from typing import NamedTuple

SEVERITIES = ("ok", "warning", "critical")
RECOVERY_VALUES = ("possible", "last-checkpoint", "not-possible")
FACT_FIELDS = ("recovery", "recovery_condition", "new_checkpoints", "needs_powered_on_vms", "protection_halted",
               "action")


class Severity(Enum):
    """How bad a VPG (or VM, or a whole run) is: one ordering, used everywhere.

    Worst last: ok < warning < unknown < critical. Unknown (zvpg cannot tell)
    is worse than a warning, since nothing shows the VPG is fine, but not as
    bad as a documented critical state. `code` is the monitoring-plugins exit
    code and the Prometheus gauge value."""

    OK = "ok"
    WARNING = "warning"
    UNKNOWN = "unknown"
    CRITICAL = "critical"

    # members are singletons: hash them as objects (Enum's own hash runs Python code,
    # and rows are grouped by severity in every writer)
    __hash__ = object.__hash__

    @property
    def code(self) -> int:
        return _CODES[self]

    @property
    def rank(self) -> int:
        return _RANKS[self]

    @classmethod
    def of(cls, name: str | None) -> Severity:
        """A knowledge-base severity (`"ok"`, ..., or None: unknown)."""
        return cls.UNKNOWN if name is None else cls(name)

    def __lt__(self, other: Severity) -> bool:
        return _RANKS[self] < _RANKS[other]

    def __le__(self, other: Severity) -> bool:
        return _RANKS[self] <= _RANKS[other]

    def __gt__(self, other: Severity) -> bool:
        return _RANKS[self] > _RANKS[other]

    def __ge__(self, other: Severity) -> bool:
        return _RANKS[self] >= _RANKS[other]


#: The order counts of each severity are listed in (triage's JSON summary, the first line of
#: --nagios, the tables): worst first by what needs people, as the JSON contract has always had them.
COUNTS_ORDER = (Severity.CRITICAL, Severity.WARNING, Severity.UNKNOWN, Severity.OK)
#: The order of --nagios's count performance data (unchanged since the first release).
PERFDATA_ORDER = (Severity.CRITICAL, Severity.WARNING, Severity.OK, Severity.UNKNOWN)

_CODES = {Severity.OK: 0, Severity.WARNING: 1, Severity.CRITICAL: 2, Severity.UNKNOWN: 3}
_RANKS = {s: rank for rank, s in enumerate(Severity)}


def severity_rank(severity: str | None) -> int:
    """The rank of a knowledge-base severity (None: unknown), as `Severity.rank`."""
    return Severity.of(severity).rank


class Listing(NamedTuple):
    """A substatus as the documentation's status table lists it under a status."""

    status: str
    listed_as: str
    condition: str | None


class OtherNumbering(NamedTuple):
    """The code another system gives a status (`name`: one the ZVM REST API lacks)."""

    system: str
    code: int
    name: str | None = None


class Status(NamedTuple):
    name: str
    table_label: str
    aliases: tuple[str, ...]
    api_code: int | None
    api_name: str | None
    comment: str | None
    description: str | None
    meaning: str | None
    substatuses_from: str | None
    substatus_note: str | None
    other_numberings: tuple[OtherNumbering, ...]
    #: the status says the RPO SLA setting is met (Meeting SLA, History Not Meeting SLA)
    rpo_sla_met: bool | None
    severity: str | None
    severity_rationale: str | None
    line: int

    @property
    def kind(self) -> str:
        return "status"

    @property
    def documented(self) -> bool:
        return True


class Substatus(NamedTuple):
    name: str
    aliases: tuple[str, ...]
    api_code: int | None
    api_name: str | None
    documented: bool
    statuses: tuple[Listing, ...]
    comment: str | None
    description: str | None
    recovery: str | None
    #: the documentation's own words that condition `recovery` ("assuming there are valid checkpoints ...")
    recovery_condition: str | None
    new_checkpoints: bool | None
    needs_powered_on_vms: bool | None
    protection_halted: bool | None
    action: str | None
    severity: str | None
    severity_rationale: str | None
    evidence: dict[str, tuple[str, ...]]
    line: int
    #: where `api_code` comes from when no Zerto source gives it (codes 33-35:
    #: community sources); None: the ZVM REST API's own table
    code_source: str | None = None

    @property
    def kind(self) -> str:
        return "substatus"


Entry = Status | Substatus


class NoSubstatus(NamedTuple):
    """What the API sends when a VPG has no substatus (code 0, "None")."""

    api_code: int
    api_name: str
    meaning: str


class KnowledgeBase(NamedTuple):
    path: str
    statuses: tuple[Status, ...]
    substatuses: tuple[Substatus, ...]
    no_substatus: NoSubstatus | None
    numbering_decoded: str | None
    numbering_caution: str | None
    #: status codes other systems use that the ZVM REST API does not have (Zerto Analytics 9)
    other_statuses: tuple[OtherNumbering, ...] = ()
    #: the lookup index (zvpg_cli.knowledge.lookup.Term tuples), compiled with the data
    terms: tuple[tuple[str, str, str, int, str, str], ...] = ()

    @property
    def entries(self) -> tuple[Entry, ...]:
        return self.statuses + self.substatuses

    def status(self, name: str) -> Status | None:
        for s in self.statuses:
            if s.name == name:
                return s
        return None

    def substatuses_of(self, status: Status) -> tuple[Substatus, ...]:
        """The substatuses the status table lists under `status` (following
        `substatuses_from`, as for History/RPO Not Meeting SLA), in file order."""
        target = status.substatuses_from or status.name
        return tuple(s for s in self.substatuses if any(li.status == target for li in s.statuses))

    def listing(self, status: Status, substatus: Substatus) -> Listing | None:
        target = status.substatuses_from or status.name
        for li in substatus.statuses:
            if li.status == target:
                return li
        return None

    def by_code(self, kind: str, code: int) -> Entry | None:
        for e in self.statuses if kind == "status" else self.substatuses:
            if e.api_code == code:
                return e
        return None

    def by_api_name(self, kind: str, api_name: str) -> Entry | None:
        folded = api_name.casefold()
        for e in self.statuses if kind == "status" else self.substatuses:
            if e.api_name is not None and e.api_name.casefold() == folded:
                return e
        return None
