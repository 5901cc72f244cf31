"""Commands over the knowledge base: explain, list, decode, validate."""

from typing import TYPE_CHECKING, Any

import typer

from .app import (
    FORMAT_HELP,
    JSON_HELP,
    Format,
    Kind,
    RecoveryChoice,
    SeverityChoice,
    app,
    compiled_or_exit,
    complete_status,
    complete_term,
    data_option,
    data_path,
    fail,
    kb_or_exit,
    pick_format,
    resolve_or_exit,
    use_data,
)
from .exits import EXIT_NOT_FOUND, EXIT_USAGE

if TYPE_CHECKING:
    from ..knowledge.model import KnowledgeBase



@app.command(epilog="""Examples:
  zvpg explain "Bitmap Syncing"
  zvpg explain "bitmap sync"        # case, spaces and dashes do not matter
  zvpg explain "journal stor"       # an unambiguous prefix
  zvpg explain DeltaSync            # the API name
  zvpg explain "Not Meeting SLA / Bitmap Syncing"
  zvpg explain "RPO Not Meeting SLA / none"  # as triage prints it
  zvpg explain "2 23"               # Status and SubStatus codes
  zvpg explain "ZVM paused protection" --evidence
  zvpg explain Initializing --json | jq .meaning""")
def explain(
    term: str = typer.Argument(..., metavar="TERM", help="A status or substatus: name, alias, API name or "
                               "unambiguous prefix; or 'STATUS / SUBSTATUS' as triage prints it "
                               "(none: no substatus), or two API codes.", autocompletion=complete_term),
    fmt: Format | None = typer.Option(None, "--format", "-f", metavar="FORMAT", help=FORMAT_HELP),
    json_flag: bool = typer.Option(False, "--json", help=JSON_HELP),
    evidence: bool = typer.Option(False, "--evidence", "-e",
                                  help="Show the documentation sentences each fact rests on."),
    data: str | None = data_option(),
) -> None:
    """Explain one status or substatus: meaning, failover, what to do, full description."""
    use_data(data)
    fmt = pick_format(fmt, json_flag)
    from ..base.writer import write
    from ..knowledge.lookup import Ambiguous, LookupError_, NotFound, api_values, find, resolve

    if fmt is Format.json and "/" not in term:
        # The fast path monitoring scripts use: the entry's JSON is compiled
        # with the knowledge base, so neither the model nor json is loaded.
        compiled = compiled_or_exit()
        try:
            hit = find(compiled["index"], term)
        except LookupError_:
            pass  # reported, with suggestions, below
        else:
            write(compiled["json"][hit.position])
            return
    kb = kb_or_exit()

    pair = None
    sides = api_values(term)
    if sides is not None:  # what triage and the alerts print: "2 23", "RPO Not Meeting SLA / none"
        status, substatus = ((side.text if side.raw else resolve_or_exit(kb, side.text, kind).entry.api_name)
                             for side, kind in zip(sides, ("status", "substatus"), strict=True))
        _decode_and_show(kb, status, substatus, fmt, evidence=evidence)
        return
    if "/" in term:
        try:
            resolve(kb, term)
        except NotFound:
            left, _, right = term.partition("/")
            st = resolve_or_exit(kb, left.strip(), "status").entry
            sub = resolve_or_exit(kb, right.strip(), "substatus").entry
            from ..knowledge.decoding import decode

            pair = decode(kb, st.api_name, sub.api_name)
        except Ambiguous:  # reported below, through the normal path
            pass
    if pair is not None:
        _print_pair(kb, pair, fmt, evidence=evidence)
        return
    if term.strip().isascii() and term.strip().isdigit():
        fail(f"no matches {term.strip()!r}: explain takes names; for an API code, "
             f"run `zvpg decode {term.strip()}` (a status) or `zvpg decode STATUS {term.strip()}`.", EXIT_NOT_FOUND)
    res = resolve_or_exit(kb, term)
    entry = res.entry
    if fmt is Format.json:
        from ..base.sanitize import json_text
        from ..knowledge.serialize import entry_dict

        write(json_text(entry_dict(kb, entry)))
    elif fmt is Format.yaml:
        from ..output.yamlfmt import entries_document

        write(entries_document(kb, [entry]))
    else:
        from ..output.views import api_text, entry_sections

        secs = entry_sections(kb, entry, evidence=evidence, resolution=res)
        subtitle = f"{entry.kind} · API {api_text(entry)}"
        if fmt is Format.markdown:
            from ..output.markdown import sections

            write(sections(entry.name, subtitle, secs))
        else:
            from ..output.human import print_sections

            print_sections(entry.name, subtitle, secs)


def _print_pair(kb: "KnowledgeBase", pair: Any, fmt: Format, *, evidence: bool = False) -> None:
    from ..base.writer import write

    if fmt is Format.json:
        from ..base.sanitize import json_text
        from ..knowledge.serialize import pair_dict

        write(json_text(pair_dict(kb, pair)))
        return
    if fmt is Format.yaml:
        from ..output.yamlfmt import entries_document

        write(entries_document(kb, [d.entry for d in (pair.status, pair.substatus) if d is not None and d.entry]))
        return
    from ..output.views import pair_sections, pair_subtitle, pair_title

    secs = pair_sections(kb, pair, evidence=evidence)
    title, subtitle = pair_title(pair), pair_subtitle(pair)
    if fmt is Format.markdown:
        from ..output.markdown import sections

        write(sections(title, subtitle, secs))
    else:
        from ..output.human import print_sections

        print_sections(title, subtitle, secs)


@app.command("list", epilog="""Examples:
  zvpg list
  zvpg list --status "Not Meeting SLA"
  zvpg list --status "RPO Not Meeting SLA"  # refers to Not Meeting SLA's
  zvpg list --kind substatus --recovery not-possible
  zvpg list --severity critical --json | jq -r '.[].name'
  zvpg list --search checkpoint""")
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
    fmt: Format | None = typer.Option(None, "--format", "-f", metavar="FORMAT", help=FORMAT_HELP),
    json_flag: bool = typer.Option(False, "--json", help=JSON_HELP),
    data: str | None = data_option(),
) -> None:
    """List statuses and substatuses, optionally filtered."""
    use_data(data)
    fmt = pick_format(fmt, json_flag)
    kb = kb_or_exit()
    from ..knowledge.lookup import search, words
    from ..knowledge.model import Status, Substatus

    entries = list(kb.entries)
    note = None
    title = "Zerto VPG statuses and substatuses"
    if status is not None:
        st = resolve_or_exit(kb, status, "status").entry
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
    from ..base.writer import error, write

    if not entries and (status is None or kind or search_text or severity or recovery):
        if fmt is Format.json:
            write("[]\n")
        why = ""
        if recovery and kind is Kind.status:
            why = " (only substatuses have a recovery)"
        elif search_text is not None and not words(search_text):
            from ..base.sanitize import printable

            why = f": {printable(repr(search_text[:200]))} has no letter or digit to search for"
        fail(f"no entries match{why}. Try zvpg list.", EXIT_NOT_FOUND)
    if kind is not None and status is None:
        title = "Zerto VPG statuses" if kind is Kind.status else "Zerto VPG substatuses"
    if fmt is Format.json:
        from ..base.sanitize import json_text
        from ..knowledge.serialize import entry_dict

        write(json_text([entry_dict(kb, e) for e in entries]))
    elif fmt is Format.yaml:
        from ..output.yamlfmt import entries_document

        write(entries_document(kb, entries))
    elif fmt is Format.markdown:
        from ..output.markdown import entries_table, md

        write((f"*{md(note)}*\n\n" if note else "") + entries_table(kb, entries, title))
    else:
        from ..output.human import print_entries

        print_entries(kb, entries, title, note, show_listed=status is None)
    if note and fmt in (Format.json, Format.yaml):
        error(f"zvpg: note: {note}")


@app.command(epilog="""Examples:
  zvpg decode 2 23                      # Not Meeting SLA / Bitmap Syncing
  zvpg decode NotMeetingSLA BitmapSync  # API names: safe in any numbering
  zvpg decode 3                         # warns: some hand-written clients
                                        # number 3 and 4 the other way round
  zvpg decode 1 0 --json | jq .severity""")
def decode(
    status: str = typer.Argument(..., metavar="STATUS",
                                 help="The VPG's Status: a ZVM REST API code (0-8) or API name."),
    substatus: str | None = typer.Argument(None, metavar="SUBSTATUS",
                                           help="The VPG's SubStatus: a code (0 = none) or API name."),
    fmt: Format | None = typer.Option(None, "--format", "-f", metavar="FORMAT", help=FORMAT_HELP),
    json_flag: bool = typer.Option(False, "--json", help=JSON_HELP),
    data: str | None = data_option(),
) -> None:
    """Decode Status / SubStatus codes or API names from the ZVM REST API."""
    use_data(data)
    fmt = pick_format(fmt, json_flag)
    _decode_and_show(kb_or_exit(), status, substatus, fmt)


def _decode_and_show(kb: "KnowledgeBase", status: str, substatus: str | None, fmt: Format, *,
                     evidence: bool = False) -> None:
    """`zvpg decode STATUS SUBSTATUS`: what is known shown, what is not a usage error (exit 1)."""
    from ..base.sanitize import printable
    from ..knowledge.decoding import decode as decode_pair

    pair = decode_pair(kb, status, substatus)
    if fmt in (Format.table, Format.markdown):  # JSON carries the cautions in "warnings"
        from ..base.writer import error

        for w in pair.warnings:
            error(f"zvpg: caution: {w}")
    unknown = [d for d in (pair.status, pair.substatus) if d is not None and not d.known]
    if len(unknown) < (1 if pair.substatus is None else 2) or fmt is Format.json:
        # what was decoded, in every format (the JSON contract: an unknown value is {"known": false, ...})
        _print_pair(kb, pair, fmt, evidence=evidence)
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
            elif d.kind == "status":
                hint = "".join(f" ({o.system} uses {o.code} for {o.name}: a different API, not decoded here)"
                               for o in kb.other_statuses if o.code == d.code)
            parts.append(f"unknown {d.kind} {printable(repr(d.value))}{printable(hint)}")
        fail("; ".join(parts) + ". Codes follow the ZVM REST API numbering (see zvpg list).", EXIT_NOT_FOUND)


@app.command(epilog="""Examples:
  zvpg validate                     # the knowledge base in use
  zvpg validate my-statuses.yaml
  ZVPG_DATA=my-statuses.yaml zvpg explain Error""")
def validate(
    path: str | None = typer.Argument(None, metavar="FILE",
                                      help="Knowledge-base file to check (default: the one in use)."),
    data: str | None = data_option(),
) -> None:
    """Check a knowledge-base file against the schema and list every problem."""
    use_data(data)
    from ..base.writer import error, write
    from ..knowledge.kb import resolve_path
    from ..knowledge.schema import check_file

    target = path or resolve_path(data_path())
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

