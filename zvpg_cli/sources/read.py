"""Where payloads come from: a file, stdin, or ZVMs (`read_sites`). Each
source ends as a `Read`: a parsed payload, or one line saying why
there is none."""

from __future__ import annotations

import io
import os
import stat
import sys
from collections.abc import Sequence
from typing import Any, NamedTuple

from .hygiene import DEFAULT_MAX_BYTES, PayloadError, can_start_json
from .payload import parse


class Read(NamedTuple):
    """One source as it was read: a file or stdin (`site` None), or a ZVM."""

    payload: Any  # zvpg_cli.sources.payload.Payload, or None where it could not be read
    site: str | None = None
    url: str | None = None
    error: str | None = None  # one line, when it could not be read
    #: which part of a site it is (a key of `shape.PARTS`): "vpgs" and "vms" are a
    #: `payload.Payload`; "alerts", "vras" and "peers" a `parts.Part`
    part: str = "vpgs"


class SiteOutcome(NamedTuple):
    """How reading one site went: `error` is one line, None when it was read;
    `objects`: how many it answered."""

    name: str
    url: str
    error: str | None
    objects: int = 0

class PartOutcome(NamedTuple):
    """A part of a site (alerts, vras, peers) that could not be read: `site`
    None for a file; `error` one line."""

    site: str | None
    url: str | None
    part: str
    error: str


#: Input is read in pieces of this size: memory grows with what arrives, never
#: with the --max-bytes limit, and the first piece shows whether it can be JSON.
CHUNK = 1 << 20


def read_source(path: str | None, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """The bytes of FILE, or of stdin for None or "-", at most `max_bytes`.

    Input whose first meaningful byte (after an optional byte-order mark and
    white space) cannot start a JSON array or object is refused as soon as
    that byte arrives, without reading the rest (`/dev/zero`, a binary file,
    an HTML error page)."""
    where = "stdin" if path is None or path == "-" else path
    try:
        if path is None or path == "-":
            if sys.stdin is None:  # started with stdin closed (`zvpg annotate <&-`)
                raise PayloadError("cannot read stdin: it is closed")
            return _read(sys.stdin.buffer, max_bytes)
        with open(path, "rb") as fh:
            return _read(fh, max_bytes)
    except OSError as exc:
        raise PayloadError(f"cannot read {where}: {exc.strerror or exc}") from None


def _read(stream: Any, max_bytes: int) -> bytes:
    size = None
    try:
        info = os.fstat(stream.fileno())
        if stat.S_ISREG(info.st_mode):
            size = info.st_size
    except (OSError, AttributeError, ValueError):  # not a real file (a test runner's stdin)
        pass
    if size is not None and size > max_bytes:  # refuse before reading anything
        raise PayloadError(f"input is {size} bytes, larger than the limit of {max_bytes} "
                           "(raise it with --max-bytes)")
    too_large = PayloadError(f"input is larger than the limit of {max_bytes} bytes (raise it with --max-bytes)")
    if size is not None and stream.seekable():  # a regular file: its size is known
        can_start_json(memoryview(stream.read(4097)))
        stream.seek(0)
        data: bytes = stream.read(size + 1)  # one piece, as large as the file (not the limit)
        if len(data) > max_bytes:  # it grew meanwhile
            raise too_large
        return data
    buffer = io.BytesIO()  # grows with what arrives; getvalue() hands over its bytes without a copy
    head = b""  # the first bytes, until they show whether this can be JSON
    started = False
    while chunk := stream.read(min(CHUNK, max_bytes + 1 - buffer.tell())):
        buffer.write(chunk)
        if buffer.tell() > max_bytes:
            raise too_large
        if not started:
            head = (head + chunk[:4097])[:4097]
            started = can_start_json(memoryview(head)) or buffer.tell() > 4096
    return buffer.getvalue()


def read_file(path: str | None, max_bytes: int = DEFAULT_MAX_BYTES) -> Any:
    """A file's (or stdin's) payload as a `Read`; raises PayloadError."""

    return Read(parse(read_source(path, max_bytes)))


def named(path: str | None, exc: PayloadError) -> str:
    """A PayloadError of FILE (stdin for None or "-") as one line that names it."""
    where = "stdin" if path in (None, "-") else path
    text = str(exc)
    return text if text.startswith(f"cannot read {where}") else f"{where}: {text}"


def read_files(paths: Sequence[str | None], max_bytes: int = DEFAULT_MAX_BYTES) -> list[Read]:
    """Each FILE (stdin for None or "-"), a part of a site told by its shape
    (`shape.parse_any`): a `Read` each, with its `part`. One FILE whose
    shape is not known is read as VPG (or VM) data, as zvpg always read one;
    of several, it is refused, except an empty array (an empty answer, which
    adds nothing). Each part once (VPGs or VMs, not both). Raises
    PayloadError, one line that names the file."""
    from .shape import Empty, parse_any

    out: list[Read] = []
    seen: dict[str, str] = {}
    for path in paths:
        where = "stdin" if path in (None, "-") else str(path)
        try:
            data = read_source(path, max_bytes)
            try:
                part, payload = parse_any(data)
            except PayloadError as exc:
                if len(paths) == 1:
                    part, payload = "vpgs", parse(data)
                elif isinstance(exc, Empty):
                    continue
                else:
                    raise
        except PayloadError as exc:
            raise PayloadError(named(path, exc)) from None
        slot = "vpgs" if part == "vms" else part
        if slot in seen:
            from .shape import PARTS

            what = "VPG or VM data" if slot == "vpgs" else f"the answer of {PARTS[part]}"
            raise PayloadError(f"{seen[slot]} and {where} both hold {what}: give each part of a site once")
        seen[slot] = where
        out.append(Read(payload, part=part))
    return out


#: The parts of a site `zvpg triage` reads besides its VPGs (or VMs), in this
#: order, and the filter each is read with: alerts nobody dismissed.
SITE_PARTS: dict[str, dict[str, str]] = {"alerts": {"isDismissed": "false"}, "vras": {}, "peers": {}}


def read_sites(found: list[Any], vms: bool, names: tuple[str, ...], max_bytes: int, parallel: int,
               observer: Any = None, parts: Sequence[str] = ()) -> list[Read]:
    """GET /v1/vpgs (or /v1/vms) from every site (`zvm.sites.Site`),
    concurrently, each answer parsed like a file; a site that cannot be read,
    or whose answer is not VPG data, gets a one-line error instead. `names`:
    the --vpg patterns; one plain name is also sent as `GET /v1/vpgs`' own
    `name=` filter, which ZVMs match without regard to case. (Not for /v1/vms:
    there a pattern may match the VM's name, which `vpgName=` would not.)

    `parts` (keys of SITE_PARTS): read too, in the same exchange (one login,
    one connection, the same --timeout), a `Read` per part per site after
    the site's VPGs; a part that cannot be read is `Read(None, site, url,
    error, part)` and leaves the VPGs judged. A site whose VPGs cannot be read
    is that site's one `Read`."""
    from .shape import PARTS, parse_any
    from .zvm.fetch import fetch_each

    first = "vms" if vms else "vpgs"
    path = PARTS[first]
    params = {}
    if not vms and len(names) == 1 and not any(c in names[0] for c in "*?["):
        params = {"name": names[0]}
    wanted = [p for p in SITE_PARTS if p in parts]
    gets = [(path, params)] + [(PARTS[p], SITE_PARTS[p]) for p in wanted]
    out = []
    for result in fetch_each(found, gets, parallel=parallel, max_bytes=max_bytes, partial=True, observer=observer):
        site = result.site
        if result.body is None:
            out.append(Read(None, site.name, site.url, result.error, part=first))
            continue
        try:  # (the exchange checked it)
            out.append(Read(parse(result.body, checked=True), site.name, site.url, part=first))
        except PayloadError as exc:
            out.append(Read(None, site.name, site.url, f"its answer to GET {path} cannot be read: {exc}", part=first))
            continue
        for part, body, error in zip(wanted, result.bodies[1:], result.errors[1:], strict=True):
            if error is None:
                try:
                    out.append(Read(parse_any(body, part, checked=True)[1], site.name, site.url, part=part))
                    continue
                except PayloadError as exc:
                    error = f"its answer to GET {PARTS[part]} cannot be read: {exc}"
            out.append(Read(None, site.name, site.url, error, part=part))
    return out
