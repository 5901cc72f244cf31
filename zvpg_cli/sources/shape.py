"""Which part of a site a payload is: /v1/vpgs, /v1/vms, /v1/alerts, /v1/vras or
/v1/peersites, told apart by the members its objects carry a value in (the names of the
reference's example payloads, zerto-site-health.md §8 and zerto-rest-api.md;
PascalCase as live ZVMs answer, and camelCase where the ZVM 10.x swagger
documents it: VPG and VM names only). A payload whose objects carry none of
them, or the members of two parts, or that mixes parts, is refused and said
so: never guessed.

The input gets the checks every input gets (`hygiene.check_json`), and a file
or stdin is read as every input is (`read.read_source`)."""

from __future__ import annotations

from functools import cache
from typing import Any, NamedTuple

from .hygiene import PayloadError, check_json, json_kind, to_utf8

#: Each part of a site, by the name `zvpg fetch` gives it, and the API path it is read from.
PARTS = {"vpgs": "/v1/vpgs", "vms": "/v1/vms", "alerts": "/v1/alerts", "vras": "/v1/vras", "peers": "/v1/peersites"}

#: What one object of each part is called in a sentence.
_OBJECT = {"vpgs": "VPG", "vms": "VM", "alerts": "alert", "vras": "VRA", "peers": "peer site"}


class Empty(PayloadError):
    """An empty array (an empty answer): its part cannot be told."""


#: The members that mark an object of the parts of a site other than its VPGs and
#: VMs (whose markers are their names' spellings, `payload.SPELLINGS`).
SITE_MARKERS = {"alerts": ("HelpIdentifier",), "vras": ("VraIdentifierStr", "VraIdentifier", "VraName"),
                "peers": ("PeerSiteName", "PairingStatus")}


@cache
def markers() -> dict[str, frozenset[str]]:
    """The members that mark an object of each part. A VM names its VPG too
    (`VpgName`, `VpgIdentifier`): an object with a VM's members is a VM."""
    from .payload import SPELLINGS

    return {
        "vms": frozenset(SPELLINGS["vm_name"] + SPELLINGS["vm_identifier"]),
        "vpgs": frozenset(SPELLINGS["vpg_name"] + SPELLINGS["vpg_identifier"]),
        **{part: frozenset(names) for part, names in SITE_MARKERS.items()},
    }


@cache
def _marks() -> tuple[tuple[str, ...], Any]:
    """Every member that marks a part, and a struct that decodes those alone (each
    raw, unset where the object does not carry it)."""
    from typing import Union

    import msgspec

    names = tuple(sorted(set().union(*markers().values())))
    field = Union[msgspec.Raw, msgspec.UnsetType]  # noqa: UP007 - msgspec reads it at run time
    return names, msgspec.defstruct("_Marks", [(n, field, msgspec.UNSET) for n in names], gc=False)


def part_of_file(path: str | None, max_bytes: int) -> str:
    """The part of a site FILE (stdin for None or "-") holds; `PayloadError` (one
    line) when it cannot be read or its shape is not known."""
    from .read import read_source

    return part_of(read_source(path, max_bytes))


def part_of(data: bytes, checked: bool = False) -> str:
    """The part of a site (a key of PARTS) a payload is: a JSON array of its
    objects, one object, or an array wrapped as Windows PowerShell writes it
    (`{"value": [...], "Count": N}`). Raises `PayloadError` (one line) for
    anything else. `checked`: the bytes passed `hygiene.check_json` already."""
    import msgspec

    from .payload import _unwrap

    if not checked:
        check_json(data)
    data = to_utf8(data, checked=True)
    start = data.lstrip()[:1]
    if start == b"{":
        wrapper = _unwrap(data)
        if wrapper is not None and wrapper[3] == "value":
            data, start = wrapper[1], b"["
    if start not in (b"[", b"{"):
        raise PayloadError(f"input is a JSON {json_kind(start)}: expected a JSON array of API objects, or one object")
    marks: Any
    names, marks = _marks()
    try:  # (only the members that mark a part are decoded: the rest of each object is skipped)
        objects = msgspec.json.decode(b"[" + data + b"]" if start == b"{" else data, type=list[marks])
    except msgspec.ValidationError as exc:  # an item that is not an object
        raise PayloadError(f"input is not an array of objects ({exc})") from None
    if not objects:
        raise Empty("input is an empty array: which part of a site it is cannot be told from no objects")
    parts = {_part(_carried(o, names), i, len(objects)) for i, o in enumerate(objects)}
    if len(parts) > 1:
        raise PayloadError(f"input mixes the objects of {_and(sorted(PARTS[p] for p in parts))}: "
                           "expected the answer of one endpoint")
    return parts.pop()


def _carried(marks: Any, names: tuple[str, ...]) -> frozenset[str]:
    """The marking members an object carries a value in (null marks nothing):
    `marks` is the object decoded by `_marks` (a member missing is unset) or a
    payload head (`payload.parse`: missing is None, null None or raw null)."""
    import msgspec

    unset = msgspec.UNSET
    return frozenset(n for n in names if (v := getattr(marks, n)) is not unset and v is not None
                     and not (isinstance(v, msgspec.Raw) and bytes(v) == b"null"))


def _part(members: frozenset[str], index: int, count: int) -> str:
    found = [part for part, names in markers().items() if not names.isdisjoint(members)]
    if "vms" in found and "vpgs" in found:
        found.remove("vpgs")
    where = f"object {index + 1} of {count}" if count > 1 else "its object"
    if not found:
        raise PayloadError(f"input is not the answer of {_or(list(PARTS.values()))}: {where} carries none of the "
                           "members that mark one (such as VpgName, VmName, HelpIdentifier, VraName or PeerSiteName)")
    if len(found) > 1:
        raise PayloadError(f"input is not one kind of object: {where} carries the members of "
                           f"{_and([_OBJECT[p] for p in found])}")
    return found[0]


def _or(words: list[str]) -> str:
    return ", ".join(words[:-1]) + " or " + words[-1]


def _and(words: list[str]) -> str:
    return ", ".join(words[:-1]) + " and " + words[-1]


class Part(NamedTuple):
    """The answer of /v1/alerts, /v1/vras or /v1/peersites: its objects, decoded
    as plain Python values (JSON integers stay exact: a 64-bit VraIdentifier is
    never read as a float). `zvpg_cli.triage.site` judges them."""

    name: str  # "alerts", "vras" or "peers"
    objects: list[dict[str, Any]]


def parse_any(data: bytes, part: str | None = None, checked: bool = False) -> tuple[str, Any]:
    """The part of a site a payload is, and its content: a `payload.Payload`
    for vpgs and vms, a `Part` for the others. `part`: what the payload must
    be (a ZVM's answer to that part's path: an empty array is then fine);
    None: told by its shape (`part_of`). Raises `PayloadError` (one line)."""
    import msgspec

    from .payload import parse

    if part is None and not checked:
        told = _vpg_data(data)
        if told is not None:
            return told
    if not checked:
        check_json(data)
    found = part if part is not None else part_of(data, checked=True)
    if found in ("vpgs", "vms"):
        return found, parse(data, checked=True)
    text = to_utf8(data, checked=True)
    try:
        value = msgspec.json.decode(text)
    except msgspec.DecodeError as exc:  # (checked as JSON already; a number no Python value holds)
        raise PayloadError(f"cannot read the answer: {exc}") from None
    if isinstance(value, dict) and set(value) <= {"value", "Count"} and isinstance(value.get("value"), list):
        value = value["value"]  # Windows PowerShell's wrapper
    objects = value if isinstance(value, list) else [value]
    if not all(isinstance(o, dict) for o in objects):
        raise PayloadError(f"the answer of {PARTS[found]} is not an array of objects")
    return found, Part(found, objects)


def _vpg_data(data: bytes) -> tuple[str, Any] | None:
    """VPG or VM data told from the heads of the one decode that reads it
    (`payload.parse`), by the rules `part_of` tells every payload by (`_part`).
    None for anything else, then told the long way (with its one-line error)."""
    from .payload import parse

    try:
        payload = parse(data)
    except PayloadError:
        return None
    names = _marks()[0]
    told: dict[frozenset[str], str] = {}  # (the heads of a payload carry a few sets of members: each told once)
    for i, head in enumerate(payload.heads):
        carried = _carried(head, names)
        if carried not in told:
            try:
                told[carried] = _part(carried, i, len(payload.heads))
            except PayloadError:
                return None
    kinds = set(told.values())
    return (kinds.pop(), payload) if len(kinds) == 1 and kinds <= {"vpgs", "vms"} else None
