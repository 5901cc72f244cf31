"""The command line: a thin Typer layer over the plain API (kb, lookup, decode,
payload) and the renderers in `zvpg_cli.output`.

Start-up time is the product's latency, so this module imports only typer and
the light domain modules; JSON, YAML and rich are imported by the code paths
that print them.
"""

import os
import sys
from enum import Enum
from typing import TYPE_CHECKING, Any, NoReturn

import typer

from . import __version__
from .kb import KBError, load_compiled, load_kb

if TYPE_CHECKING:
    from .model import KnowledgeBase

EXIT_OK, EXIT_NOT_FOUND, EXIT_USAGE = 0, 1, 2


class Format(str, Enum):
    table = "table"
    json = "json"
    yaml = "yaml"
    markdown = "markdown"


class Kind(str, Enum):
    status = "status"
    substatus = "substatus"


class SeverityChoice(str, Enum):
    ok = "ok"
    warning = "warning"
    critical = "critical"
    unknown = "unknown"


class RecoveryChoice(str, Enum):
    possible = "possible"
    last_checkpoint = "last-checkpoint"
    not_possible = "not-possible"
    unknown = "unknown"


app = typer.Typer(
    name="zvpg",
    help="Explain the statuses and substatuses of Zerto Virtual Protection Groups (VPGs).\n\n"
    "What a status or substatus means, whether a failover is possible, and what to do: "
    "from the Zerto documentation, with the ZVM REST API's codes.",
    epilog="""Examples:

  zvpg explain "Not Meeting SLA / Bitmap Syncing"

  zvpg decode 2 23

  zvpg list --status "Not Meeting SLA"

  zvpg explain Initializing --json

Exit codes: 0 success, 1 not found / unknown code, 2 usage or knowledge-base error.""",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

_state: dict[str, Any] = {"data": None}


def _kb() -> "KnowledgeBase":
    try:
        return load_kb(_state["data"])
    except KBError as exc:
        _kb_failed(exc)


def _compiled() -> dict[str, Any]:
    """The compiled knowledge base (plain data): enough for the fast paths."""
    try:
        return load_compiled(_state["data"])
    except KBError as exc:
        _kb_failed(exc)


def _kb_failed(exc: KBError) -> NoReturn:
    from .output.sanitize import printable

    _fail(printable(str(exc)), EXIT_USAGE)


def _fail(message: str, code: int) -> NoReturn:
    from .output.writer import error

    error(f"zvpg: {message}")
    raise typer.Exit(code)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"zvpg {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    data: str | None = typer.Option(
        None, "--data", metavar="PATH", envvar="ZVPG_DATA", show_envvar=True,
        help="Knowledge-base YAML file to use instead of the packaged one.",
    ),
    version: bool = typer.Option(False, "--version", "-V", callback=_version, is_eager=True,
                                 help="Show the version and exit."),
) -> None:
    _state["data"] = data


def _complete_term(incomplete: str) -> list[str]:
    return _complete(incomplete, None)


def _complete_status(incomplete: str) -> list[str]:
    return _complete(incomplete, "status")


def _complete(incomplete: str, kind: str | None) -> list[str]:
    from .lookup import normalize

    try:
        kb = _kb()
    except KBError:
        return []
    key = normalize(incomplete)
    return [e.name for e in kb.entries if (kind is None or e.kind == kind) and normalize(e.name).startswith(key)]


def _pick_format(fmt: Format | None, json_flag: bool) -> Format:
    if json_flag:
        if fmt not in (None, Format.json):
            _fail("--json and --format are exclusive", EXIT_USAGE)
        return Format.json
    return fmt or Format.table


def _resolve_or_exit(kb: "KnowledgeBase", term: str, kind: str | None = None) -> Any:
    from .lookup import Ambiguous, NotFound, resolve

    try:
        return resolve(kb, term, kind)
    except Ambiguous as exc:
        from .output.sanitize import printable

        _fail(f"{printable(repr(term))} is ambiguous: it could be {', '.join(exc.suggestions)}. "
              "Type more of the name.", EXIT_NOT_FOUND)
    except NotFound as exc:
        from .output.sanitize import printable

        what = f"{kind} " if kind else ""
        hint = f" Did you mean: {', '.join(exc.suggestions)}?" if exc.suggestions else " Try `zvpg list`."
        _fail(f"no {what}matches {printable(repr(term[:200]))}.{hint}", EXIT_NOT_FOUND)


FORMAT_HELP = "Output format: table (for people), json, yaml (knowledge-base schema) or markdown."
JSON_HELP = "Shorthand for --format json."


@app.command(epilog="""Examples:

  zvpg explain "Bitmap Syncing"

  zvpg explain "bitmap sync"            (case, spaces and dashes do not matter)

  zvpg explain "journal stor"           (an unambiguous prefix)

  zvpg explain DeltaSync                (API name)

  zvpg explain "Not Meeting SLA / Bitmap Syncing"

  zvpg explain "ZVM paused protection" --evidence

  zvpg explain Initializing --json | jq .meaning""")
def explain(
    term: str = typer.Argument(..., help="A status or substatus: name, alias, API name or unambiguous prefix; "
                               "or 'STATUS / SUBSTATUS'.", autocompletion=_complete_term),
    fmt: Format | None = typer.Option(None, "--format", "-f", help=FORMAT_HELP),
    json_flag: bool = typer.Option(False, "--json", help=JSON_HELP),
    evidence: bool = typer.Option(False, "--evidence", "-e",
                                  help="Show the documentation sentences each fact rests on."),
) -> None:
    """Explain one status or substatus: meaning, failover, what to do, full description."""
    fmt = _pick_format(fmt, json_flag)
    from .lookup import Ambiguous, LookupError_, NotFound, find, resolve
    from .output.writer import write

    if fmt is Format.json and "/" not in term:
        # The fast path monitoring scripts use: the entry's JSON is compiled
        # with the knowledge base, so neither the model nor json is loaded.
        compiled = _compiled()
        try:
            hit = find(compiled["index"], term)
        except LookupError_:
            pass  # reported, with suggestions, below
        else:
            write(compiled["json"][hit.position])
            return
    kb = _kb()

    pair = None
    if "/" in term:
        try:
            resolve(kb, term)
        except NotFound:
            left, _, right = term.partition("/")
            st = _resolve_or_exit(kb, left, "status").entry
            sub = _resolve_or_exit(kb, right, "substatus").entry
            from .decode import decode

            pair = decode(kb, st.api_name, sub.api_name)
        except Ambiguous:  # reported below, through the normal path
            pass
    if pair is not None:
        _print_pair(kb, pair, fmt)
        return
    res = _resolve_or_exit(kb, term)
    entry = res.entry
    if fmt is Format.json:
        from .output.jsonfmt import dumps
        from .serialize import entry_dict

        write(dumps(entry_dict(kb, entry)))
    elif fmt is Format.yaml:
        from .output.yamlfmt import entries_document

        write(entries_document(kb, [entry]))
    else:
        from .output.views import api_text, entry_sections

        secs = entry_sections(kb, entry, evidence=evidence, resolution=res)
        subtitle = f"{entry.kind} · API {api_text(entry)}"
        if fmt is Format.markdown:
            from .output.markdown import sections

            write(sections(entry.name, subtitle, secs))
        else:
            from .output.human import print_sections

            print_sections(entry.name, subtitle, secs)


def _print_pair(kb: "KnowledgeBase", pair: Any, fmt: Format) -> None:
    from .output.writer import write

    if fmt is Format.json:
        from .output.jsonfmt import dumps
        from .serialize import pair_dict

        write(dumps(pair_dict(kb, pair)))
        return
    if fmt is Format.yaml:
        from .output.yamlfmt import entries_document

        write(entries_document(kb, [d.entry for d in (pair.status, pair.substatus) if d is not None and d.entry]))
        return
    from .output.views import pair_sections

    secs = pair_sections(kb, pair)
    title = " / ".join(str(d.name or d.value) for d in (pair.status, pair.substatus) if d is not None)
    if fmt is Format.markdown:
        from .output.markdown import sections

        write(sections(title, "decoded", secs))
    else:
        from .output.human import print_sections

        print_sections(title, "decoded", secs)


@app.command("list", epilog="""Examples:

  zvpg list

  zvpg list --status "Not Meeting SLA"

  zvpg list --status "RPO Not Meeting SLA"     (uses Not Meeting SLA's list, and says so)

  zvpg list --kind substatus --recovery not-possible

  zvpg list --severity critical --json | jq -r '.[].name'

  zvpg list --search checkpoint""")
def list_(
    status: str | None = typer.Option(None, "--status", "-s", metavar="NAME",
                                         help="Only the substatuses the documentation lists under this status.",
                                         autocompletion=_complete_status),
    kind: Kind | None = typer.Option(None, "--kind", "-k", help="Only statuses or only substatuses."),
    search_text: str | None = typer.Option(None, "--search", "-q", metavar="TEXT",
                                              help="Full-text search over names, aliases and descriptions."),
    severity: SeverityChoice | None = typer.Option(None, "--severity", help="Only entries of this severity."),
    recovery: RecoveryChoice | None = typer.Option(
        None, "--recovery", help="Only substatuses during which a failover is possible / not / to the last "
        "checkpoint, or where the documentation does not say (unknown)."),
    fmt: Format | None = typer.Option(None, "--format", "-f", help=FORMAT_HELP),
    json_flag: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """List statuses and substatuses, optionally filtered."""
    fmt = _pick_format(fmt, json_flag)
    kb = _kb()
    from .lookup import search
    from .model import Status, Substatus

    entries = list(kb.entries)
    note = None
    title = "Zerto VPG statuses and substatuses"
    if status is not None:
        st = _resolve_or_exit(kb, status, "status").entry
        assert isinstance(st, Status)
        entries = list(kb.substatuses_of(st))
        title = f"Substatuses of {st.name}"
        if st.substatuses_from:
            note = (f"The documentation lists no substatuses of its own under {st.name}: it refers to "
                    f"{st.substatuses_from} ({st.substatus_note}). These are {st.substatuses_from}'s.")
        elif not entries:
            note = f"The documentation lists no substatus under {st.name}."
    if kind is not None:
        entries = [e for e in entries if e.kind == kind.value]
    if search_text is not None:
        found = set(map(id, search(kb, search_text)))
        entries = [e for e in entries if id(e) in found]
    if severity is not None:
        want = None if severity is SeverityChoice.unknown else severity.value
        entries = [e for e in entries if e.severity == want]
    if recovery is not None:
        want = None if recovery is RecoveryChoice.unknown else recovery.value
        entries = [e for e in entries if isinstance(e, Substatus) and e.recovery == want]
    from .output.writer import error, write

    if fmt is Format.json:
        from .output.jsonfmt import dumps
        from .serialize import entry_dict

        write(dumps([entry_dict(kb, e) for e in entries]))
    elif fmt is Format.yaml:
        from .output.yamlfmt import entries_document

        write(entries_document(kb, entries))
    elif fmt is Format.markdown:
        from .output.markdown import entries_table, md

        write((f"*{md(note)}*\n\n" if note else "") + entries_table(kb, entries, title))
    else:
        from .output.human import print_entries

        print_entries(kb, entries, title, note, show_listed=status is None)
    if note and fmt in (Format.json, Format.yaml):
        error(f"zvpg: note: {note}")


@app.command(epilog="""Examples:

  zvpg decode 2 23                        (Not Meeting SLA / Bitmap Syncing)

  zvpg decode NotMeetingSLA BitmapSync    (API names: safe in every numbering)

  zvpg decode 3                           (warns: Zerto Analytics and Checkmk number it differently)

  zvpg decode 1 0 --json | jq .severity""")
def decode(
    status: str = typer.Argument(..., help="The VPG's Status: a ZVM REST API code (0-8) or API name."),
    substatus: str | None = typer.Argument(None, help="The VPG's SubStatus: a code (0 = none) or API name."),
    fmt: Format | None = typer.Option(None, "--format", "-f", help=FORMAT_HELP),
    json_flag: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Decode Status / SubStatus codes or API names from the ZVM REST API."""
    fmt = _pick_format(fmt, json_flag)
    kb = _kb()
    from .decode import decode as decode_pair
    from .output.sanitize import printable

    pair = decode_pair(kb, status, substatus)
    unknown = [d for d in (pair.status, pair.substatus) if d is not None and not d.known]
    if unknown:
        parts = []
        for d in unknown:
            hint = ""
            if d.code is None:
                import difflib

                names = [str(e.api_name) for e in (kb.statuses if d.kind == "status" else kb.substatuses)]
                folded = {n.casefold(): n for n in names}
                close = [folded[n] for n in difflib.get_close_matches(str(d.value).casefold(), list(folded), 3, 0.7)]
                hint = f" (did you mean: {', '.join(close)}?)" if close else f" (API names: {', '.join(names)})"
            parts.append(f"unknown {d.kind} {printable(repr(d.value))}{hint}")
        _fail("; ".join(parts) + ". Codes follow the ZVM REST API numbering (see `zvpg list --json`).",
              EXIT_NOT_FOUND)
    for w in pair.warnings:
        from .output.writer import error

        error(f"zvpg: caution: {w}")
    _print_pair(kb, pair, fmt)


@app.command(epilog="""Examples:

  zvpg validate                           (the knowledge base in use)

  zvpg validate my-statuses.yaml

  ZVPG_DATA=my-statuses.yaml zvpg explain Error""")
def validate(
    path: str | None = typer.Argument(None, help="Knowledge-base file to check (default: the one in use)."),
) -> None:
    """Check a knowledge-base file against the schema and list every problem."""
    from .kb import resolve_path
    from .output.writer import error, write
    from .schema import check_file

    target = path or resolve_path(_state["data"])
    problems = check_file(target)
    if not problems:
        write(f"{target}: valid\n")
        return
    from .output.sanitize import printable

    for p in problems:
        where = f"{target}:{p.line}" if p.line else target
        error(printable(f"{where}: {p.message}"))
    error(f"zvpg: {len(problems)} problem{'s' if len(problems) != 1 else ''} in {target}")
    raise typer.Exit(EXIT_USAGE)


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
            from .output.sanitize import printable
            from .output.writer import error

            error(printable(f"zvpg: warning: object {index}: {'; '.join(annotation.problems)} "
                            "(kept as given, flagged \"known\": false)"))

    def finish(self) -> None:
        if self.flagged > self.SHOWN:
            from .output.writer import error

            error(f"zvpg: warning: {self.flagged - self.SHOWN} more objects with unknown or missing codes "
                  f"({self.flagged} in all)")


def _read_payload(file: str | None, max_bytes: int, details: bool = False) -> Any:
    from .payload import PayloadError, parse, read_source

    try:
        return parse(read_source(file, max_bytes), details)
    except PayloadError as exc:
        from .output.sanitize import printable

        where = "stdin" if file in (None, "-") else file
        _fail(printable(f"{where}: {exc}"), EXIT_USAGE)


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
    kb = _kb()
    payload = _read_payload(file, max_bytes)
    from .output import writer

    chosen = fmt or (PayloadFormat.table if writer.stdout_is_terminal() else PayloadFormat.json)
    report = _Reporter()
    from .output import payloads

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

  zvpg triage vpgs.json --format checkmk > /usr/lib/check_mk_agent/local/zerto_vpgs

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
    if nagios and fmt not in (None, TriageFormat.nagios):
        _fail("--nagios and --format are exclusive", EXIT_USAGE)
    chosen = TriageFormat.nagios if nagios else (fmt or TriageFormat.table)
    from .output import monitoring
    from .output.writer import write

    if chosen is TriageFormat.nagios:
        # Monitoring reads the exit code: anything that stops the check is UNKNOWN (3).
        from .payload import PayloadError, parse, read_source

        try:
            kb = load_kb(_state["data"])
            payload = parse(read_source(file, max_bytes), details=True)
        except (KBError, PayloadError) as exc:
            what = "input" if isinstance(exc, PayloadError) else "knowledge base"
            text, code = monitoring.nagios_unknown(f"cannot read {what}: {exc}")
            write(text)
            raise typer.Exit(code) from None
    else:
        kb = _kb()
        payload = _read_payload(file, max_bytes, details=True)
    from .triage import summarize
    from .triage import triage as run_triage

    states = run_triage(kb, payload, rpo_warning_ratio)
    summary = summarize(states)
    if chosen is TriageFormat.nagios:
        text, code = monitoring.nagios(states, summary)
        write(text)
        raise typer.Exit(code)
    if chosen is TriageFormat.json:
        from .output.jsonfmt import dumps

        write(dumps(monitoring.as_json(states, summary)))
    elif chosen is TriageFormat.checkmk:
        write(monitoring.checkmk(states))
    elif chosen is TriageFormat.prometheus:
        write(monitoring.prometheus(states, summary))
    else:
        monitoring.print_summary(states, summary, limit or None)


def main() -> None:
    """Console-script entry point: one-line errors, sane exit codes."""
    try:
        app(prog_name="zvpg")
    except KBError as exc:
        from .output.sanitize import printable
        from .output.writer import error

        error(f"zvpg: {printable(str(exc))}")
        sys.exit(EXIT_USAGE)
    except Exception as exc:  # never a traceback for the operator; ZVPG_DEBUG=1 shows it
        if os.environ.get("ZVPG_DEBUG"):
            raise
        from .output.writer import error

        error(f"zvpg: internal error: {type(exc).__name__}: {exc} (set ZVPG_DEBUG=1 for details)")
        sys.exit(70)
