"""Alert codes (HelpIdentifier) for people and programs: `zvpg explain CODE`
and `zvpg list --alerts`, in every format explain and list have."""

from __future__ import annotations

from typing import Any

from ..base.writer import write
from ..knowledge.alerts import Alert, SiteKnowledge, alert_dict, source_text
from .views import Section

#: Whose words each kind of remark is.
_REMARK_LABEL = {"peer": "What others do", "related": "Related", "inference": "Inference", "uncertain": "Uncertain"}


def alert_sections(sk: SiteKnowledge, alert: Alert) -> list[Section]:
    """The explain view of one code: Zerto's words first, then the reference's
    remarks, each labelled with whose it is."""
    rows = [
        ("Title", f"{alert.title} (Zerto's Daily Email Report, D)" if alert.title
         else "none given: no Zerto source titles this code"),
        ("Level", f"{alert.level} (the severity of Zerto's vCenter alarm row, A; a live alert carries its own "
                  "Level)" if alert.level else "none given in Zerto's vCenter alarm profiles (A)"),
    ]
    if alert.alarm:
        rows.append(("vCenter alarm", f"{alert.alarm} (A)"))
    rows.append(("Sources", source_text(sk, alert.sources)))
    if alert.note:
        rows.append(("Note", f"{alert.note} (the reference)"))
    sections = [Section(None, rows)]
    if alert.remarks:
        sections.append(Section("What the reference says about it",
                                [(_REMARK_LABEL[r.kind], f"{r.text} ({r.source})") for r in alert.remarks]))
    from ..triage.site import triage_judgement

    sections.append(Section("zvpg's judgement", [], triage_judgement(alert.code)))
    return sections


def _sources_line(sk: SiteKnowledge, alerts: list[Alert]) -> str:
    used = {k for a in alerts for k in a.sources}
    return "; ".join(f"{k}: {s.name}" for k, s in sk.sources.items() if k in used)


def show_alert(sk: SiteKnowledge, alert: Alert, fmt: str) -> None:
    """`zvpg explain CODE` in `fmt` (table, json, yaml or markdown)."""
    if fmt in ("json", "yaml"):
        _dump(alert_dict(sk, alert), fmt)
        return
    title, subtitle, secs = alert.code, "alert code (HelpIdentifier)", alert_sections(sk, alert)
    if fmt == "markdown":
        from .markdown import sections

        write(sections(title, subtitle, secs))
    else:
        from .human import print_sections

        print_sections(title, subtitle, secs)


def show_alerts(sk: SiteKnowledge, alerts: list[Alert], fmt: str) -> None:
    """`zvpg list --alerts` in `fmt`."""
    if fmt in ("json", "yaml"):
        _dump([alert_dict(sk, a) for a in alerts], fmt)
        return
    title = "ZVM alert codes (HelpIdentifier) from Zerto-authored sources"
    header = ("Code", "Title (D)", "Level (A)", "Sources")
    rows = [(a.code, a.title or "", a.level or "", ", ".join(a.sources) + (" (only)" if a.single_source else ""))
            for a in alerts]
    if fmt == "markdown":
        from .markdown import md

        lines = [f"**{md(title)}**", "", "| " + " | ".join(header) + " |", "|---|---|---|---|"]
        lines += ["| " + " | ".join(md(c) for c in row) + " |" for row in rows]
        write("\n".join(lines) + f"\n\n*{md('Sources: ' + _sources_line(sk, alerts))}*\n")
        return
    from rich import box
    from rich.table import Table

    from .human import emit, t

    table = Table(title=t(title, "table.title"), title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("Code", no_wrap=True, style="bold")
    table.add_column("Title (D)", overflow="fold")
    table.add_column("Level (A)", overflow="fold")
    table.add_column("Sources", overflow="fold")
    for row in rows:
        table.add_row(*(t(c) for c in row))
    emit(table, t("Sources: " + _sources_line(sk, alerts), "dim"))


def _dump(value: Any, fmt: str) -> None:
    if fmt == "json":
        from ..base.sanitize import json_text

        write(json_text(value))
    else:
        import yaml

        dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
        write(str(yaml.dump(value, Dumper=dumper, allow_unicode=True, sort_keys=False, width=100)))
