"""Commands over REST API payloads: annotate and triage."""

from enum import Enum
from typing import Any

import typer

from ..kb import KBError, load_kb
from .app import EXIT_USAGE, app, fail, kb_or_exit, state


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
            from ..output.sanitize import printable
            from ..output.writer import error

            error(printable(f"zvpg: warning: object {index}: {'; '.join(annotation.problems)} "
                            "(kept as given, flagged \"known\": false)"))

    def finish(self) -> None:
        if self.flagged > self.SHOWN:
            from ..output.writer import error

            error(f"zvpg: warning: {self.flagged - self.SHOWN} more objects with unknown or missing codes "
                  f"({self.flagged} in all)")


def read_payload(file: str | None, max_bytes: int) -> Any:
    from ..payload import PayloadError, parse, read_source

    try:
        return parse(read_source(file, max_bytes))
    except PayloadError as exc:
        from ..output.sanitize import printable

        where = "stdin" if file in (None, "-") else file
        fail(printable(f"{where}: {exc}"), EXIT_USAGE)


MAX_BYTES_HELP = "Refuse input larger than this many bytes."


@app.command(epilog="""Examples:

  curl -s ... https://zvm:9669/v1/vpgs | zvpg annotate > vpgs-annotated.json

  zvpg annotate vpgs.json --format table

  zvpg annotate vpgs.json --format csv --fields name,status,substatus,severity,VpgIdentifier

  zvpg annotate vms.json --format ndjson | grep '"known":false'

  Get-ZertoVpg | ConvertTo-Json | Out-File vpgs.json   (PowerShell: UTF-16 is read too)""")
def annotate(
    file: str | None = typer.Argument(None, help="A JSON array of API objects, or one object; - or none: stdin."),
    fmt: PayloadFormat | None = typer.Option(
        None, "--format", "-f",
        help="json (default when piped), ndjson, table (default on a terminal) or csv."),
    fields_spec: str | None = typer.Option(
        None, "--fields", metavar="A,B,...",
        help="Columns for table/csv: name, status, substatus, severity, failover, rpo, actual_rpo, "
        "configured_rpo, or any top-level API field (e.g. VpgIdentifier)."),
    max_bytes: int = typer.Option(512 * 1024 * 1024, "--max-bytes", min=1, help=MAX_BYTES_HELP),
) -> None:
    """Add a decoded `zvpg` key to every object of a ZVM REST API payload (GET /v1/vpgs, /v1/vms)."""
    kb = kb_or_exit()
    payload = read_payload(file, max_bytes)
    from ..output import writer

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

  curl -s ... https://zvm:9669/v1/vpgs | zvpg triage --nagios         (exit 0/1/2/3)

  curl -s ... | zvpg triage --format checkmk     (in a script in the Checkmk agent's local/ folder)

  zvpg triage vpgs.json --format prometheus > /var/lib/node_exporter/textfile/zvpg.prom

  zvpg triage vpgs.json --rpo-warning-ratio 0.8 --format json | jq .summary""")
def triage(
    file: str | None = typer.Argument(None, help="A JSON array of API objects, or one object; - or none: stdin."),
    fmt: TriageFormat | None = typer.Option(
        None, "--format", "-f", help="table (for people), json, nagios, checkmk (local checks) or prometheus "
        "(textfile collector)."),
    nagios: bool = typer.Option(False, "--nagios", help="Shorthand for --format nagios: one status line with "
                                "performance data, the worst VPGs below, exit 0/1/2/3."),
    rpo_warning_ratio: float | None = typer.Option(
        None, "--rpo-warning-ratio", min=0.0, metavar="RATIO",
        help="Also warn about an otherwise ok VPG whose ActualRPO has reached RATIO x ConfiguredRpoSeconds "
        "(e.g. 0.8)."),
    limit: int = typer.Option(25, "--limit", min=0, help="VPGs listed in the table view (0: all)."),
    max_bytes: int = typer.Option(512 * 1024 * 1024, "--max-bytes", min=1, help=MAX_BYTES_HELP),
) -> None:
    """Judge every VPG of a REST API payload by status and substatus; summaries for people and monitoring."""
    from ..output import monitoring
    from ..output.writer import error, write

    if nagios and fmt not in (None, TriageFormat.nagios):
        # a monitoring command line: its usage errors are UNKNOWN (3) too
        error("zvpg: usage: --nagios and --format are exclusive")
        text, code = monitoring.nagios_unknown("usage: --nagios and --format are exclusive")
        write(text)
        raise typer.Exit(code)
    chosen = TriageFormat.nagios if nagios else (fmt or TriageFormat.table)

    if chosen is TriageFormat.nagios:
        # Monitoring reads the exit code: anything that stops the check is UNKNOWN (3).
        from ..payload import PayloadError, parse, read_source

        try:
            kb = load_kb(state["data"])
            payload = parse(read_source(file, max_bytes))
        except (KBError, PayloadError) as exc:
            what = "input" if isinstance(exc, PayloadError) else "knowledge base"
            text, code = monitoring.nagios_unknown(f"cannot read {what}: {exc}")
            write(text)
            raise typer.Exit(code) from None
    else:
        kb = kb_or_exit()
        payload = read_payload(file, max_bytes)
    if chosen in (TriageFormat.json, TriageFormat.checkmk, TriageFormat.prometheus):
        # every VPG: streamed, a batch at a time
        from ..output.writer import write_bytes
        from ..triage import triage_batches

        summary, batches = triage_batches(kb, payload, rpo_warning_ratio)
        if chosen is TriageFormat.json:
            for chunk in monitoring.json_chunks(summary, batches()):
                write_bytes([chunk])
        elif chosen is TriageFormat.checkmk:
            for text in monitoring.checkmk_chunks(batches):
                write(text)
        else:
            for text in monitoring.prometheus_chunks(summary, batches):
                write(text)
        return
    # The summary and the Nagios check show only the VPGs that need attention.
    from ..triage import triage_problems

    summary, problems, vms = triage_problems(kb, payload, rpo_warning_ratio)
    if chosen is TriageFormat.nagios:
        text, code = monitoring.nagios(problems, summary)
        write(text)
        raise typer.Exit(code)
    monitoring.print_summary(problems, summary, limit or None, monitoring.objects_noun(summary.total, vms))

