"""Commands over the knowledge base: explain, list, decode, validate."""

import typer

from ..knowledge.kb import KBError
from .app import (
    Format,
    Kind,
    RecoveryChoice,
    SeverityChoice,
    app,
    complete_status,
    complete_term,
    data_option,
    data_path,
    fail,
    kb_failed,
    kb_or_exit,
    lookup_failed,
    output_options,
    resolve_or_exit,
    site_knowledge_or_exit,
    use_data,
)
from .exits import EXIT_NOT_FOUND, EXIT_USAGE


@app.command(epilog="""Examples:
  zvpg explain "Bitmap Syncing"
  zvpg explain "bitmap sync"        # case, spaces and dashes do not matter
  zvpg explain "journal stor"       # an unambiguous prefix
  zvpg explain DeltaSync            # the API name
  zvpg explain "Not Meeting SLA / Bitmap Syncing"
  zvpg explain "RPO Not Meeting SLA / none"  # as triage prints it
  zvpg explain "2 23"               # Status and SubStatus codes
  zvpg explain "ZVM paused protection" --evidence
  zvpg explain Initializing --json | jq .meaning
  zvpg explain VPG0010              # a ZVM alert code (HelpIdentifier)""")
@output_options
def explain(
    term: str = typer.Argument(..., metavar="TERM", help="A status or substatus: name, alias, API name or "
                               "unambiguous prefix; or 'STATUS / SUBSTATUS' as triage prints it "
                               "(none: no substatus), or two API codes; or a ZVM alert code (HelpIdentifier: VPG0010).",
                               autocompletion=complete_term),
    fmt: Format = Format.table,  # given by output_options
    evidence: bool = typer.Option(False, "--evidence", "-e",
                                  help="Show the documentation sentences each fact rests on."),
    data: str | None = data_option(),
) -> None:
    """Explain one status or substatus: meaning, failover, what to do, full description; or an alert code."""
    use_data(data)
    from ..knowledge.lookup import LookupError_
    from ..output.entries import Unknown
    from ..output.entries import explain as show

    try:
        show(term, fmt.value, evidence=evidence, data=data_path())
    except KBError as exc:
        kb_failed(exc)
    except LookupError_ as exc:
        lookup_failed(exc)
    except Unknown as exc:
        fail(str(exc), EXIT_NOT_FOUND)


@app.command("list", epilog="""Examples:
  zvpg list
  zvpg list --status "Not Meeting SLA"
  zvpg list --status "RPO Not Meeting SLA"  # refers to Not Meeting SLA's
  zvpg list --kind substatus --recovery not-possible
  zvpg list --severity critical --json | jq -r '.[].name'
  zvpg list --search checkpoint
  zvpg list --alerts --search journal  # ZVM alert codes""")
@output_options
def list_(
    status: str | None = typer.Option(None, "--status", "-s", metavar="NAME",
                                         help="Only the substatuses the documentation lists under this status.",
                                         autocompletion=complete_status),
    kind: Kind | None = typer.Option(None, "--kind", "-k", metavar="KIND",
                                     help="Only statuses or only substatuses: status or substatus."),
    search_text: str | None = typer.Option(None, "--search", "-q", metavar="TEXT",
                                              help="Full-text search over names, aliases and descriptions."),
    severity: SeverityChoice | None = typer.Option(
        None, "--severity", metavar="LEVEL", help="Only entries of this severity: ok, warning, critical, or "
        "unknown (none of its own: the substatuses the documentation does not describe)."),
    recovery: RecoveryChoice | None = typer.Option(
        None, "--recovery", metavar="WHEN", help="Only substatuses during which a failover is: possible, "
        "last-checkpoint (possible to the last checkpoint), not-possible, or unknown (the documentation "
        "does not say)."),
    alerts: bool = typer.Option(False, "--alerts", "-a",
                                help="List the ZVM alert codes (HelpIdentifier) instead; --search filters them."),
    fmt: Format = Format.table,  # given by output_options
    data: str | None = data_option(),
) -> None:
    """List statuses and substatuses, optionally filtered; or alert codes (--alerts)."""
    use_data(data)
    if alerts:
        if status or kind or severity or recovery:
            fail("--alerts takes only --search (and a format)", EXIT_USAGE)
        _list_alerts(search_text, fmt)
        return
    kb = kb_or_exit()
    from ..base.writer import error, write
    from ..knowledge.lookup import select
    from ..output.entries import render_entries

    chosen = select(kb, status=None if status is None else resolve_or_exit(kb, status, "status").entry,
                    kind=kind and kind.value, text=search_text, severity=severity and severity.value,
                    recovery=recovery and recovery.value)
    if chosen.none_match is not None:
        if fmt is Format.json:
            write("[]\n")
        fail(f"no entries match{chosen.none_match}. Try zvpg list.", EXIT_NOT_FOUND)
    render_entries(kb, chosen, fmt.value, show_listed=status is None)
    if chosen.note and fmt in (Format.json, Format.yaml):
        error(f"zvpg: note: {chosen.note}")


def _list_alerts(search_text: str | None, fmt: Format) -> None:
    from ..knowledge.alerts import search
    from ..output.alerts import show_alerts

    sk = site_knowledge_or_exit()
    found = list(sk.alerts) if search_text is None else search(sk, search_text)
    if not found:
        if fmt is Format.json:
            from ..base.writer import write

            write("[]\n")
        fail("no alert codes match. Try zvpg list --alerts.", EXIT_NOT_FOUND)
    show_alerts(sk, found, fmt.value)


@app.command(epilog="""Examples:
  zvpg decode 2 23                      # Not Meeting SLA / Bitmap Syncing
  zvpg decode NotMeetingSLA BitmapSync  # API names: safe in any numbering
  zvpg decode 3                         # warns: some hand-written clients
                                        # number 3 and 4 the other way round
  zvpg decode 1 0 --json | jq .severity""")
@output_options
def decode(
    status: str = typer.Argument(..., metavar="STATUS",
                                 help="The VPG's Status: a ZVM REST API code (0-8) or API name."),
    substatus: str | None = typer.Argument(None, metavar="SUBSTATUS",
                                           help="The VPG's SubStatus: a code (0 = none) or API name."),
    fmt: Format = Format.table,  # given by output_options
    data: str | None = data_option(),
) -> None:
    """Decode Status / SubStatus codes or API names from the ZVM REST API."""
    use_data(data)
    from ..knowledge.decoding import decode as decode_pair
    from ..output.entries import Unknown, show_decoded

    kb = kb_or_exit()
    try:
        show_decoded(kb, decode_pair(kb, status, substatus), fmt.value)
    except Unknown as exc:
        fail(str(exc), EXIT_NOT_FOUND)


@app.command(epilog="""Examples:
  zvpg validate                     # the knowledge base in use
  zvpg validate my-statuses.yaml
  zvpg validate data/alerts.yaml    # the alert codes
  ZVPG_DATA=my-statuses.yaml zvpg explain Error""")
def validate(
    path: str | None = typer.Argument(None, metavar="FILE",
                                      help="Knowledge-base file to check (default: the one in use)."),
    data: str | None = data_option(),
) -> None:
    """Check a knowledge-base file against the schema and list every problem."""
    use_data(data)
    from ..base.writer import error, write
    from ..knowledge.alerts import check_if_alerts_file
    from ..knowledge.kb import resolve_path
    from ..knowledge.schema import check_file

    target = path or resolve_path(data_path())
    problems = check_if_alerts_file(target)
    if problems is None:  # not data/alerts.yaml: a knowledge base of statuses
        problems = check_file(target)
    if not problems:
        write(f"{target}: valid\n")
        return
    from ..base.sanitize import printable

    for p in problems:
        where = f"{target}:{p.line}" if p.line else target
        error(printable(f"{where}: {p.message}"))
    error(f"zvpg: {len(problems)} problem{'s' if len(problems) != 1 else ''} in {target}")
    raise typer.Exit(EXIT_USAGE)

