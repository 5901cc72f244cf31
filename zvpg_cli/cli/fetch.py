"""The commands that read one ZVM directly: fetch (its answer, byte for byte) and
codes (its lists of statuses and substatuses against the knowledge base). The
connection options they share with annotate and triage are in cli/zvm.py.
(No `from __future__ import annotations`: see cli/zvm.py.)"""

from enum import Enum
from typing import TYPE_CHECKING

import typer

from ..sources.limits import DEFAULT_MAX_BYTES, DEFAULT_MAX_BYTES_TEXT
from ..sources.shape import PARTS
from .app import app, data_option, fail, kb_or_exit, use_data
from .exits import EXIT_NOT_FOUND, EXIT_USAGE
from .zvm import Connection, one_site, watching, with_connection

if TYPE_CHECKING:
    from ..sources.zvm.fetch import SiteResult
    from ..sources.zvm.sites import Site


def _run(found: "list[Site]", gets: list[tuple[str, dict[str, str]]], max_bytes: int, quiet: bool,
         partial: bool = False) -> "list[SiteResult]":
    from ..sources.zvm.fetch import fetch_each

    with watching(found, quiet=quiet) as observer:
        return fetch_each(found, gets, parallel=8, max_bytes=max_bytes, partial=partial, observer=observer)


class FetchWhat(str, Enum):
    vpgs = "vpgs"
    vms = "vms"
    alerts = "alerts"
    vras = "vras"
    peers = "peers"


MAX_BYTES_HELP = "Refuse an answer larger than BYTES (default: {}); an endless answer is cut off there."


@app.command(epilog="""Examples:
  ZVPG_PASSWORD=... zvpg fetch vpgs --zvm https://zvm01:9669 \\
      --user monitor > vpgs.json
  zvpg fetch vms --zvm https://zvma01 --client-id zvpg-monitor --vpg ERP \\
      --ca-bundle zvma01-ca.pem
  zvpg fetch alerts --zvm https://zvma01 --user monitor --undismissed \\
      > alerts.json

Exit codes: 0 the answer was printed, 2 usage, configuration, credentials or no usable answer.""")
@with_connection()
def fetch(
    what: FetchWhat = typer.Argument(..., help="vpgs (GET /v1/vpgs), vms (GET /v1/vms), alerts (GET /v1/alerts), "
                                     "vras (GET /v1/vras) or peers (GET /v1/peersites)."),
    vpg: str | None = typer.Option(
        None, "--vpg", metavar="NAME", help="Only this VPG (the API's name= filter for vpgs, vpgName= for vms; "
        "the ZVM compares without case). vpgs and vms only."),
    undismissed: bool = typer.Option(
        False, "--undismissed", help="Only alerts nobody dismissed (the API's isDismissed=false filter; without "
        "it a ZVM answers dismissed alerts too). alerts only."),
    max_bytes: int = typer.Option(DEFAULT_MAX_BYTES, "--max-bytes", min=1, metavar="BYTES", show_default=False,
                                  help=MAX_BYTES_HELP.format(DEFAULT_MAX_BYTES_TEXT)),
    conn: Connection = None,  # type: ignore[assignment]  # given by with_connection
) -> None:
    """Print a ZVM's answer to GET /v1/vpgs, /v1/vms, /v1/alerts, /v1/vras or /v1/peersites, byte for byte."""
    if vpg is not None and what not in (FetchWhat.vpgs, FetchWhat.vms):
        fail(f"--vpg filters vpgs and vms only, not {what.value}", EXIT_USAGE)
    if undismissed and what is not FetchWhat.alerts:
        fail(f"--undismissed filters alerts only, not {what.value}", EXIT_USAGE)
    site = one_site(conn.read_sites(), "fetch")
    params = {} if vpg is None else {("name" if what is FetchWhat.vpgs else "vpgName"): vpg}
    if undismissed:
        params["isDismissed"] = "false"
    result = _run([site], [(PARTS[what.value], params)], max_bytes, conn.quiet)[0]
    if result.body is None:
        from ..base.sanitize import printable

        fail(printable(f"{site.name}: {result.error}"), EXIT_USAGE)
    from ..base.writer import write_bytes

    write_bytes([result.body])


@app.command(epilog="""Examples:
  zvpg codes --zvm https://zvma01 --user monitor
  zvpg codes --zvm https://zvm01:9669 --user monitor --json \\
      | jq .statuses.differences

Exit codes: 0 the ZVM's lists agree with the knowledge base, 1 they differ (or one of them could not be
read: the other is still compared), 2 usage, configuration, credentials or no usable answer.""")
@with_connection()
def codes(
    json_flag: bool = typer.Option(False, "--json", help="Print the comparison as JSON."),
    max_bytes: int = typer.Option(16 * 1024 * 1024, "--max-bytes", min=1, metavar="BYTES", show_default=False,
                                  help=MAX_BYTES_HELP.format("16 MiB")),
    data: str | None = data_option(),
    conn: Connection = None,  # type: ignore[assignment]  # given by with_connection
) -> None:
    """Compare a ZVM's own lists of statuses and substatuses (read by position: position = code) with the
    knowledge base's codes."""
    use_data(data)
    kb = kb_or_exit()
    site = one_site(conn.read_sites(), "codes")
    from ..base.sanitize import printable
    from ..sources.zvm.codes import LISTS, compare_lists

    result = _run([site], [(path, {}) for path, _ in LISTS], max_bytes, conn.quiet, partial=True)[0]
    if result.error is not None:
        fail(printable(f"{site.name}: {result.error}"), EXIT_USAGE)
    codes = compare_lists(kb, result.bodies, result.errors)
    if not codes.comparisons:
        fail(printable(f"{site.name}: {codes.unread['status']}"), EXIT_USAGE)
    from ..base.writer import error, write
    from ..output.codes import codes_json, codes_text

    for why in codes.unread.values():
        error(printable(f"zvpg: warning: {site.name}: {why}: that list is not compared"))
    write(codes_json(site.name, site.url, kb.path, codes) if json_flag else codes_text(site.name, kb.path, codes))
    if not codes.agree:
        raise typer.Exit(EXIT_NOT_FOUND)
