"""Commands over REST API payloads: annotate and triage. Each parses its
options, reads its sources (`zvpg_cli.sources.read`), calls the library
(`rows.rows`, `triage.report`) and hands the result to a writer in
`zvpg_cli.output`."""

from enum import Enum
from typing import Any

import typer

from ..sources.limits import DEFAULT_MAX_BYTES, DEFAULT_MAX_BYTES_TEXT
from .app import app, data_option, fail, kb_or_exit, use_data
from .exits import EXIT_NOT_FOUND, EXIT_USAGE, triage_exit
from .zvm import Connection, one_site, watching, with_connection


class PayloadFormat(str, Enum):
    json = "json"
    ndjson = "ndjson"
    table = "table"
    csv = "csv"


MAX_BYTES_HELP = f"Refuse input larger than BYTES (default: {DEFAULT_MAX_BYTES_TEXT})."
FILE_HELP = "A JSON array of API objects, or one object; - or none: stdin."


def vpg_option() -> Any:
    return typer.Option(None, "--vpg", metavar="PATTERN",
                        help="Only VPGs whose name matches PATTERN (shell-style: ERP*, *-prod; any case; for "
                        "/v1/vms also the VM name). Repeatable.")


def exclude_option() -> Any:
    return typer.Option(None, "--exclude", metavar="PATTERN",
                        help="Leave out VPGs whose name matches PATTERN (as --vpg). Repeatable.")


def max_bytes_option() -> Any:
    return typer.Option(DEFAULT_MAX_BYTES, "--max-bytes", min=1, metavar="BYTES", show_default=False,
                        help=MAX_BYTES_HELP)


def patterns(given: list[str] | None, flag: str) -> tuple[str, ...]:
    """--vpg / --exclude patterns; a byte that is not UTF-8 is a usage error."""
    for p in given or ():
        try:
            p.encode("utf-8")
        except UnicodeEncodeError:
            fail(f"{flag}: a pattern holds a byte that is not UTF-8 text", EXIT_USAGE)
    return tuple(given or ())


def read_input(files: list[str], conn: Connection, names: tuple[str, ...], max_bytes: int,
               command: str, nagios: bool = False, keep_failures: bool = False,
               parts: tuple[str, ...] = ()) -> list[Any]:
    """The sources a command reads (`sources.read.Read`): FILE or stdin (triage:
    FILEs, each a part of a site told by its shape), or the ZVMs the connection
    options name, with their `parts` too (with progress on a terminal, not under
    --nagios); exit 2 with one line where none can be used (`keep_failures`:
    a single ZVM that cannot be read is returned as such)."""
    import sys

    from ..base.sanitize import printable
    from ..sources.payload import PayloadError
    from ..sources.read import named, read_file, read_files, read_sites

    if conn.given:
        if files:
            fail("give a FILE or --zvm/--sites, not both", EXIT_USAGE)
        found = conn.read_sites()
        if command == "annotate":
            one_site(found, command)
        with watching(found, quiet=conn.quiet, nagios=nagios) as observer:
            reads = read_sites(found, conn.vms, names, max_bytes, conn.parallel, observer, parts)
        if len(found) == 1 and reads[0].error is not None and not keep_failures:
            fail(printable(f"cannot read {reads[0].site}: {reads[0].error}"), EXIT_USAGE)
        return reads
    if files.count("-") > 1:
        fail("- (stdin) is given more than once: it can be read once", EXIT_USAGE)
    if (not files or "-" in files) and sys.stdin is not None and sys.stdin.isatty():
        from ..base.writer import error  # a person at a terminal would otherwise wait for a silent prompt

        error(f"zvpg: reading a JSON payload from standard input (end it with Ctrl-D); "
              f"give a FILE or pipe one in (zvpg {command} --help)")
    try:
        if command == "annotate":
            return [read_file(files[0] if files else None, max_bytes)]
        return read_files(files or [None], max_bytes)
    except PayloadError as exc:
        fail(printable(named(files[0] if files else None, exc) if command == "annotate" else str(exc)), EXIT_USAGE)


@app.command(epilog="""Examples:
  zvpg annotate --zvm https://zvm01:9669 --user monitor > annotated.json
  zvpg annotate vpgs.json --format table
  zvpg annotate vpgs.json --vpg 'ERP*' --format csv \\
      --fields name,status,substatus,severity,VpgIdentifier
  zvpg annotate vms.json --format ndjson | grep '"known":false'

PowerShell (Out-File's UTF-16 is read too):
  Get-ZertoVpg | ConvertTo-Json | Out-File vpgs.json

Exit codes: 0 annotated, 1 no VPG matches --vpg/--exclude, 2 usage or input
that cannot be read.""")
@with_connection(payloads=True)
def annotate(
    file: str | None = typer.Argument(None, metavar="FILE", help=FILE_HELP),
    fmt: PayloadFormat | None = typer.Option(
        None, "--format", "-f", metavar="FORMAT",
        help="json (default when piped), ndjson, table (default on a terminal) or csv."),
    fields_spec: str | None = typer.Option(
        None, "--fields", metavar="A,B,...",
        help="Columns for table/csv: name, status, substatus, severity, failover, rpo, actual_rpo, "
        "configured_rpo, or any top-level API field (e.g. VpgIdentifier)."),
    vpg: list[str] | None = vpg_option(),
    exclude: list[str] | None = exclude_option(),
    max_bytes: int = max_bytes_option(),
    data: str | None = data_option(),
    conn: Connection = None,  # type: ignore[assignment]  # given by with_connection
) -> None:
    """Add a decoded `zvpg` key to every object of a ZVM REST API payload (GET /v1/vpgs, /v1/vms)."""
    from ..base.writer import stdout_is_terminal
    from ..output.payloads import FieldError, parse_fields
    from ..output.payloads import annotate as write_annotated

    use_data(data)
    kb = kb_or_exit()
    chosen = fmt or (PayloadFormat.table if stdout_is_terminal() else PayloadFormat.json)
    try:
        columns = parse_fields(fields_spec, chosen.value)
        wanted, leave_out = patterns(vpg, "--vpg"), patterns(exclude, "--exclude")
        [source] = read_input([] if file is None else [file], conn, wanted, max_bytes, "annotate")
        rows = write_annotated(kb, source.payload, chosen.value, columns, wanted, leave_out)
    except FieldError as exc:
        fail(str(exc), EXIT_USAGE)
    if not rows and (wanted or leave_out):
        from ..triage.report import nothing_matches

        fail(nothing_matches(wanted, leave_out), EXIT_NOT_FOUND)


class TriageFormat(str, Enum):
    table = "table"
    json = "json"
    nagios = "nagios"
    checkmk = "checkmk"
    prometheus = "prometheus"


class SkipWhat(str, Enum):
    """The parts of a site --skip leaves out (`triage.site.SKIPPABLE`)."""

    alerts = "alerts"
    vras = "vras"
    peers = "peers"
    tests = "tests"


TRIAGE_FILES_HELP = ("Saved answers of a ZVM, each told by its shape: /v1/vpgs or /v1/vms, /v1/alerts, /v1/vras, "
                     "/v1/peersites (zvpg fetch saves each); - or none: stdin.")


@app.command(epilog="""Examples:
  zvpg triage vpgs.json
  zvpg triage vpgs.json alerts.json vras.json peers.json
  # a Nagios check (exit 0/1/2/3), then a Checkmk local check:
  zvpg triage --nagios --zvm https://zvm01:9669 --user monitor \\
      --password-file pw --vpg 'ERP*' --rpo-critical 15m
  zvpg triage --format checkmk --sites /etc/zvpg/sites.toml
  zvpg triage vpgs.json --format prometheus \\
      --output /var/lib/prometheus/node-exporter/zvpg.prom
  zvpg triage vpgs.json --rpo-warning 1.5 --json | jq .summary
  # remember states across runs: a Delta Sync pages only after 15 minutes
  zvpg triage --nagios --zvm https://zvm01:9669 --user monitor \\
      --password-file pw --state /var/lib/nagios4/zvpg-state.db

Exit codes: --nagios: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (also for
usage errors, unreadable input, nothing to check). Other formats: 0 the
report was written, 1 nothing to check (an empty payload, or --vpg/--exclude
match nothing; --allow-empty: 0), 2 usage or nothing could be read.""")
@with_connection(parallel=True, payloads=True)
def triage(
    files: list[str] | None = typer.Argument(None, metavar="FILE", help=TRIAGE_FILES_HELP, show_default=False),
    fmt: TriageFormat | None = typer.Option(
        None, "--format", "-f", metavar="FORMAT", help="table (for people), json, nagios, checkmk (local checks) "
        "or prometheus (textfile collector)."),
    nagios: bool = typer.Option(False, "--nagios", help="Shorthand for --format nagios: one status line with "
                                "performance data, the worst VPGs below, exit 0/1/2/3."),
    json_flag: bool = typer.Option(False, "--json", help="Shorthand for --format json."),
    vpg: list[str] | None = vpg_option(),
    exclude: list[str] | None = exclude_option(),
    skip: list[SkipWhat] | None = typer.Option(
        None, "--skip", metavar="PART", case_sensitive=False,
        help="Leave this part of the site out: alerts (GET /v1/alerts), vras (/v1/vras), peers (/v1/peersites), "
        "tests (the VPGs' last failover tests). Repeatable; a part left out is not asked of a ZVM."),
    allow_empty: bool = typer.Option(False, "--allow-empty",
                                     help="Nothing to check (no VPGs, or none matches --vpg) is OK, not UNKNOWN."),
    rpo_warning: str | None = typer.Option(
        None, "--rpo-warning", metavar="RATIO|DURATION",
        help="Warn when ActualRPO is above RATIO x ConfiguredRpoSeconds (1.5) or above DURATION (900s, 15m, 2h)."),
    rpo_critical: str | None = typer.Option(
        None, "--rpo-critical", metavar="RATIO|DURATION", help="Critical when ActualRPO is above this (as "
        "--rpo-warning)."),
    rpo_warning_ratio: float | None = typer.Option(
        None, "--rpo-warning-ratio", min=0.0, metavar="RATIO", hidden=True,
        help="Same as --rpo-warning RATIO (kept for older command lines)."),
    limit: int = typer.Option(25, "--limit", min=0, metavar="N", help="VPGs listed in the table view (0: all)."),
    max_output: int = typer.Option(
        8192, "--max-output", min=1024, metavar="BYTES",
        help="Nagios: keep the whole output within BYTES (the first line and the counts always; then the worst "
        "VPGs and every VPG's RPO as performance data, as they fit)."),
    state_path: str | None = typer.Option(
        None, "--state", metavar="PATH", envvar="ZVPG_STATE", show_envvar=False,
        help="Remember each VPG's state across runs in this SQLite file (default: $ZVPG_STATE; created 0600): "
        "grace periods, escalation, stuck syncs, flapping (see zvpg policy show)."),
    policy_path: str | None = typer.Option(
        None, "--policy", metavar="FILE", envvar="ZVPG_POLICY", show_envvar=False,
        help="A TOML policy over zvpg's defaults: severities, grace, escalate_after, stuck_after per state "
        "(default: $ZVPG_POLICY)."),
    output: str | None = typer.Option(
        None, "--output", "-o", metavar="FILE",
        help="Write to FILE atomically (a temporary file in its folder, then renamed) instead of stdout: what "
        "a textfile collector reads is never half-written. A regular file keeps its mode (new: 0644); a "
        "symbolic link is written through; a FIFO, device or folder is refused; - is stdout."),
    run: str | None = typer.Option(
        None, "--run", metavar="NAME",
        help="Prometheus: label every series run=\"NAME\", so that the files of several zvpg jobs can share "
        "one textfile folder (each needs its own NAME)."),
    max_bytes: int = max_bytes_option(),
    data: str | None = data_option(),
    conn: Connection = None,  # type: ignore[assignment]  # given by with_connection
) -> None:
    """Judge every VPG by status, substatus and RPO, with the site's alerts, VRAs, peer sites and failover tests;
    summaries for people and monitoring."""
    from ..output.report import TriageError, answer
    from ..triage.report import Options

    use_data(data)
    chosen = _triage_format(fmt, nagios, json_flag)
    thresholds = _thresholds(rpo_warning, rpo_critical, rpo_warning_ratio)
    _writable(output)
    kb = kb_or_exit("cannot read knowledge base: ")
    skipped = tuple(dict.fromkeys(s.value for s in skip or ()))
    options = Options(patterns(vpg, "--vpg"), patterns(exclude, "--exclude"), allow_empty, thresholds,
                      state_path or None, policy_path or None, skip=skipped)
    # one unreadable site fails as many do, in every format: a report that names it (a monitoring
    # file says the ZVM is down, site_up 0, a fresh run time, rather than go stale)
    reads = read_input(files or [], conn, options.vpg, max_bytes, "triage", chosen is TriageFormat.nagios,
                       keep_failures=True, parts=tuple(p for p in ("alerts", "vras", "peers") if p not in skipped))
    try:
        result, code = answer(kb, reads, options, chosen.value, output=output, limit=limit or None,
                              max_output=max_output, run=run)
    except TriageError as exc:
        fail(str(exc), EXIT_USAGE)
    raise typer.Exit(triage_exit(result.summary) if code is None else code)


def _thresholds(rpo_warning: str | None, rpo_critical: str | None, rpo_warning_ratio: float | None) -> Any:
    """--rpo-warning (or the older --rpo-warning-ratio) and --rpo-critical, parsed; a usage error otherwise."""
    from ..triage.rows import parse_thresholds

    if rpo_warning is not None and rpo_warning_ratio is not None:
        fail("--rpo-warning and --rpo-warning-ratio are the same option: give one", EXIT_USAGE)
    if rpo_warning_ratio is not None:
        rpo_warning = repr(rpo_warning_ratio) if rpo_warning_ratio < 1e16 else format(rpo_warning_ratio, "f")
    try:
        return parse_thresholds(rpo_warning, rpo_critical)
    except ValueError as exc:
        fail(str(exc), EXIT_USAGE)


def _writable(output: str | None) -> None:
    """--output's file refused before anything is read: a FIFO, a device, a folder (exit 2)."""
    if output is not None and output != "-":
        from ..base.writer import OutputError, destination

        try:
            destination(output)
        except OutputError as exc:
            fail(str(exc), EXIT_USAGE)


def _triage_format(fmt: TriageFormat | None, nagios: bool, json_flag: bool) -> TriageFormat:
    flags = [f for f, given in ((TriageFormat.nagios, nagios), (TriageFormat.json, json_flag)) if given]
    if len(flags) > 1 or (flags and fmt not in (None, flags[0])):
        fail("--nagios, --json and --format are exclusive: give one", EXIT_USAGE)
    return flags[0] if flags else (fmt or TriageFormat.table)
