"""Markdown for tickets and wikis. Cell text is escaped so that names with
`|`, backticks, newlines or HTML cannot break a table."""

from __future__ import annotations

import re

from ..base.sanitize import printable
from ..knowledge.decoding import documented_failover
from ..knowledge.model import Entry, KnowledgeBase, Status
from .views import Section, failover_text, listed_under, severity_word

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")


def md(text: object) -> str:
    return _MD_SPECIAL.sub(r"\\\1", printable(str(text)))


def sections(title: str, subtitle: str, secs: list[Section]) -> str:
    out = [f"## {md(title)}", "", f"*{md(subtitle)}*", ""]
    for sec in secs:
        if sec.title:
            out += [f"### {md(sec.title)}", ""]
        if sec.rows:
            out += ["| | |", "|---|---|"]
            out += [f"| {f'**{md(k)}**' if k else ''} | {md(v)} |" for k, v in sec.rows]
            out.append("")
        if sec.text:
            out += [md(sec.text), ""]
    return "\n".join(out)


def entries_table(kb: KnowledgeBase, entries: list[Entry], title: str | None = None) -> str:
    out = [f"## {md(title)}", ""] if title else []
    out += ["| Kind | Name | API code | API name | Severity | Failover possible? | Listed under / substatuses |",
            "|---|---|---|---|---|---|---|"]
    for e in entries:
        if isinstance(e, Status):
            subs = kb.substatuses_of(e)
            rel = f"those of {e.substatuses_from}" if e.substatuses_from else ", ".join(s.name for s in subs)
            failover = ""
        else:
            rel = listed_under(e)
            failover = failover_text(documented_failover(e))
        cells = [e.kind, e.name, "" if e.api_code is None else e.api_code, e.api_name or "", severity_word(e),
                 failover, rel]
        out.append("| " + " | ".join(md(c) for c in cells) + " |")
    return "\n".join(out) + "\n"
