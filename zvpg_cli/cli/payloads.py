"""Commands over REST API payloads: annotate and triage."""

from enum import Enum
from typing import Any, NamedTuple

import typer

from ..kb import KBError, load_kb
from .app import EXIT_USAGE, app, data_option, fail, kb_or_exit, state, use_data
from .zvm import Connection, with_connection


class PayloadFormat(str, Enum):
    json = "json"
    ndjson = "ndjson"
    table = "table"
    csv = "csv"


class _Reporter:
    """Warnings for objects zvpg cannot fully decode: the first few by index,
    then a count, so a large payload cannot flood the terminal."""

    SHOWN = 20

    def __init__(self) -> None:
        self.flagged = 0

    def __call__(self, index: int, annotation: Any) -> None:
        if not annotation.problems:
            return
        self.flagged += 1
        if self.flagged <= self.SHOWN:
            from ..sanitize import printable
            from ..writer import error

            error(printable(f"zvpg: warning: object {index}: {'; '.join(annotation.problems)} "
                            "(kept as given, flagged \"known\": false)"))

    def finish(self) -> None:
        if self.flagged > self.SHOWN:
            from ..writer import error

            error(f"zvpg: warning: {self.flagged - self.SHOWN} more objects with unknown or missing codes "
                  f"({self.flagged} in all)")


def stdin_hint(file: str | None, command: str) -> None:
    """A person who runs the command with no file on a terminal would
    otherwise wait for a silent prompt: say what zvpg is waiting for."""
    import sys

    if file in (None, "-") and sys.stdin is not None and sys.stdin.isatty():
        from ..writer import error

        error(f"zvpg: reading a JSON payload from standard input (end it with Ctrl-D); "
              f"give a FILE or pipe one in (zvpg {command} --help)")


def read_payload(file: str | None, max_bytes: int, command: str) -> Any:
    from ..payload import PayloadError, parse, read_source

    stdin_hint(file, command)
    try:
        return parse(read_source(file, max_bytes))
    except PayloadError as exc:
        fail(input_error(file, exc), EXIT_USAGE)


def input_error(file: str | None, exc: Exception) -> str:
    """What is wrong with the input, naming it once: `vpgs.json: invalid JSON ...`,
    `cannot read stdin: it is closed`; escaped for a terminal."""
    from ..sanitize import printable

    where = "stdin" if file in (None, "-") else file
    text = str(exc)
    return printable(text if text.startswith(f"cannot read {where}") else f"{where}: {text}")


MAX_BYTES_HELP = "Refuse input larger than BYTES (default: 512 MiB)."


class SiteRead(NamedTuple):
    site: Any  # zvpg_cli.zvm.Site
    payload: Any  # zvpg_cli.payload.Payload, or None
    error: str | None


def read_sites(found: list[Any], vms: bool, vpg: str | None, max_bytes: int, parallel: int) -> list[SiteRead]:
    """GET /v1/vpgs (or /v1/vms) from every site, concurrently, and parse each
    answer; a site that cannot be read, or whose answer is not VPG data, gets
    a one-line error instead."""
    from ..payload import PayloadError, parse
    from .zvm import _run

    path = "/v1/vms" if vms else "/v1/vpgs"
    params = {} if vpg is None else {("vpgName" if vms else "name"): vpg}
    out = []
    for result in _run(found, [(path, params)], max_bytes, parallel):
        if result.body is None:
            out.append(SiteRead(result.site, None, result.error))
            continue
        try:
            out.append(SiteRead(result.site, parse(result.body), None))
        except PayloadError as exc:
            out.append(SiteRead(result.site, None, f"its answer to GET {path} cannot be read: {exc}"))
    return out


@app.command(epilog="""Examples:
  zvpg annotate --zvm https://zvm01:9669 --user monitor > annotated.json
  zvpg annotate vpgs.json --format table
  zvpg annotate vpgs.json --format csv \\
      --fields name,status,substatus,severity,VpgIdentifier
  zvpg annotate vms.json --format ndjson | grep '"known":false'

PowerShell (Out-File's UTF-16 is read too):
  Get-ZertoVpg | ConvertTo-Json | Out-File vpgs.json""")
@with_connection(payloads=True)
def annotate(
    file: str | None = typer.Argument(None, metavar="FILE",
                                      help="A JSON array of API objects, or one object; - or none: stdin."),
    fmt: PayloadFormat | None = typer.Option(
        None, "--format", "-f", metavar="FORMAT",
        help="json (default when piped), ndjson, table (default on a terminal) or csv."),
    fields_spec: str | None = typer.Option(
        None, "--fields", metavar="A,B,...",
        help="Columns for table/csv: name, status, substatus, severity, failover, rpo, actual_rpo, "
        "configured_rpo, or any top-level API field (e.g. VpgIdentifier)."),
    max_bytes: int = typer.Option(512 * 1024 * 1024, "--max-bytes", min=1, metavar="BYTES", show_default=False,
                                  help=MAX_BYTES_HELP),
    data: str | None = data_option(),
    conn: Connection = None,  # type: ignore[assignment]  # given by with_connection
) -> None:
    """Add a decoded `zvpg` key to every object of a ZVM REST API payload (GET /v1/vpgs, /v1/vms)."""
    use_data(data)
    kb = kb_or_exit()
    if conn.given:
        if file is not None:
            fail("give a FILE or --zvm, not both", EXIT_USAGE)
        found = conn.read_sites()
        if len(found) != 1:
            fail(f"annotate reads one ZVM, not {len(found)} (triage reads several)", EXIT_USAGE)
        read = read_sites(found, conn.vms, conn.vpg, max_bytes, 1)[0]
        if read.payload is None:
            from ..sanitize import printable

            fail(printable(f"{read.site.name}: {read.error}"), EXIT_USAGE)
        payload = read.payload
    else:
        payload = read_payload(file, max_bytes, "annotate")
    from .. import writer

    chosen = fmt or (PayloadFormat.table if writer.stdout_is_terminal() else PayloadFormat.json)
    report = _Reporter()
    from ..output import payloads

    if chosen is PayloadFormat.json:
        payloads.write_json(kb, payload, report)
    elif chosen is PayloadFormat.ndjson:
        payloads.write_ndjson(kb, payload, report)
    else:
        columns = payloads.parse_fields(fields_spec, table=chosen is PayloadFormat.table)
        if chosen is PayloadFormat.csv:
            payloads.write_csv(kb, payload, columns, report)
        else:
            payloads.write_table(kb, payload, columns, report)
    report.finish()


class TriageFormat(str, Enum):
    table = "table"
    json = "json"
    nagios = "nagios"
    checkmk = "checkmk"
    prometheus = "prometheus"


@app.command(epilog="""Examples:
  zvpg triage vpgs.json
  # a Nagios check (exit 0/1/2/3), then a Checkmk local check:
  zvpg triage --nagios --zvm https://zvm01:9669 --user monitor \\
      --password-file pw
  zvpg triage --format checkmk --sites /etc/zvpg/sites.toml
  zvpg triage vpgs.json --format prometheus \\
      > /var/lib/node_exporter/textfile/zvpg.prom
  zvpg triage vpgs.json --rpo-warning-ratio 0.8 --format json | jq .summary""")
@with_connection(parallel=True, payloads=True)
def triage(
    file: str | None = typer.Argument(None, metavar="FILE",
                                      help="A JSON array of API objects, or one object; - or none: stdin."),
    fmt: TriageFormat | None = typer.Option(
        None, "--format", "-f", metavar="FORMAT", help="table (for people), json, nagios, checkmk (local checks) "
        "or prometheus (textfile collector)."),
    nagios: bool = typer.Option(False, "--nagios", help="Shorthand for --format nagios: one status line with "
                                "performance data, the worst VPGs below, exit 0/1/2/3."),
    rpo_warning_ratio: float | None = typer.Option(
        None, "--rpo-warning-ratio", min=0.0, metavar="RATIO",
        help="Also warn about an otherwise ok VPG whose ActualRPO has reached RATIO x ConfiguredRpoSeconds "
        "(e.g. 0.8)."),
    limit: int = typer.Option(25, "--limit", min=0, metavar="N", help="VPGs listed in the table view (0: all)."),
    max_bytes: int = typer.Option(512 * 1024 * 1024, "--max-bytes", min=1, metavar="BYTES", show_default=False,
                                  help=MAX_BYTES_HELP),
    data: str | None = data_option(),
    conn: Connection = None,  # type: ignore[assignment]  # given by with_connection
) -> None:
    """Judge every VPG of a REST API payload by status and substatus; summaries for people and monitoring."""
    use_data(data)
    from ..output import monitoring
    from ..writer import error, write

    if nagios and fmt not in (None, TriageFormat.nagios):
        # a monitoring command line: its usage errors are UNKNOWN (3) too
        error("zvpg: usage: --nagios and --format are exclusive")
        text, code = monitoring.nagios_unknown("usage: --nagios and --format are exclusive")
        write(text)
        raise typer.Exit(code)
    chosen = TriageFormat.nagios if nagios else (fmt or TriageFormat.table)

    def stop(message: str, code: int = EXIT_USAGE) -> Any:
        """Monitoring reads the exit code: anything that stops the check is UNKNOWN (3), with a status line."""
        if chosen is not TriageFormat.nagios:
            fail(message, code)
        text, unknown = monitoring.nagios_unknown(message)
        write(text)
        raise typer.Exit(unknown)

    from ..payload import PayloadError, parse, read_source
    from ..triage import SiteOutcome, summarize, triage_batches, triage_problems
    from ..triage import triage as run_triage

    try:
        kb = load_kb(state["data"])
    except KBError as exc:
        from ..sanitize import printable

        stop(printable(f"cannot read knowledge base: {exc}" if chosen is TriageFormat.nagios else str(exc)))
    every = chosen in (TriageFormat.json, TriageFormat.checkmk, TriageFormat.prometheus)  # show every VPG
    outcomes: tuple[SiteOutcome, ...] = ()
    several: list[Any] | None = None  # the states of several sites' VPGs, when several were read
    payload: Any = None
    if conn.given:
        if file is not None:
            stop("give a FILE or --zvm/--sites, not both")
        found = conn.read_sites(failer=stop)
        reads = read_sites(found, conn.vms, conn.vpg, max_bytes, conn.parallel)
        if len(reads) == 1 and reads[0].payload is None:
            from ..sanitize import printable

            stop(printable(f"cannot read {reads[0].site.name}: {reads[0].error}"))
        outcomes = tuple(SiteOutcome(r.site.name, r.site.url, r.error, len(r.payload.items) if r.payload else 0)
                         for r in reads)
        if len(reads) == 1:
            payload = reads[0].payload
        else:
            several = []
            for r in reads:
                if r.payload is not None:
                    several += run_triage(kb, r.payload, rpo_warning_ratio, all_details=every, site=r.site.name)
        for o in outcomes:
            if o.error is not None and chosen is not TriageFormat.nagios:
                from ..sanitize import printable
                from ..writer import error

                error(printable(f"zvpg: site {o.name} could not be read: {o.error}"))
    else:
        stdin_hint(file, "triage")
        try:
            payload = parse(read_source(file, max_bytes))
        except PayloadError as exc:
            text = input_error(file, exc)
            stop(f"cannot read input: {text}" if chosen is TriageFormat.nagios else text)
    if several is not None:  # several sites: their states, as one list
        states = several
        summary = summarize(states, outcomes)
        problems = [st for st in states if st.severity != "ok"]
        noun = monitoring.objects_noun(summary.total, sum(1 for st in states if st.is_vm))

        def batches() -> Any:
            return iter([states])
    elif every:  # one payload, every VPG: streamed, a batch at a time
        summary, batches = triage_batches(kb, payload, rpo_warning_ratio)
        summary = summary._replace(sites=outcomes)
    else:  # the summary and the Nagios check show only the VPGs that need attention
        summary, problems, vm_count = triage_problems(kb, payload, rpo_warning_ratio)
        summary = summary._replace(sites=outcomes)
        noun = monitoring.objects_noun(summary.total, vm_count)
    if chosen is TriageFormat.nagios:
        text, code = monitoring.nagios(problems, summary)
        write(text)
        raise typer.Exit(code)
    if chosen is TriageFormat.json:
        from ..writer import write_bytes

        for chunk in monitoring.json_chunks(summary, batches()):
            write_bytes([chunk])
    elif chosen is TriageFormat.checkmk:
        for text in monitoring.checkmk_chunks(batches, summary):
            write(text)
    elif chosen is TriageFormat.prometheus:
        for text in monitoring.prometheus_chunks(summary, batches):
            write(text)
    else:
        monitoring.print_summary(problems, summary, limit or None, noun)
    if outcomes and all(o.error is not None for o in outcomes):
        raise typer.Exit(EXIT_USAGE)  # nothing could be read: the output above says which sites failed
