"""`zvpg codes`: a ZVM's lists compared with the knowledge base, for people and as JSON."""

from __future__ import annotations

from typing import Any

from ..base.sanitize import json_text, printable
from ..sources.zvm.codes import READING, Codes

_WHAT = {"status": "Statuses", "substatus": "Substatuses"}


def codes_text(site_name: str, kb_path: str, codes: Codes) -> str:
    from ..knowledge.kb import default_path
    from .human import console, wrap

    kb = "the knowledge base installed with zvpg" if kb_path == default_path() else f"the knowledge base ({kb_path})"
    lines = [printable(f"{site_name}: the ZVM's own lists compared with {kb}."), f"Read by {READING}.", ""]
    for c in codes.comparisons:
        verdict = "they agree." if c.agree else f"{len(c.differences)} difference" + \
            ("s:" if len(c.differences) != 1 else ":")
        lines.append(f"{_WHAT[c.kind]}: {len(c.zvm)} on the ZVM, {c.kb_count} in the knowledge base: {verdict}")
        for d in c.differences:
            name = printable(d.name)
            if d.kind == "moved" and d.kb_code is None:
                lines.append(f"  {name}: code {d.zvm_code} on the ZVM; the knowledge base knows the name "
                             "but no code")
            elif d.kind == "moved":
                lines.append(f"  {name}: code {d.zvm_code} on the ZVM, {d.kb_code} in the knowledge base")
            elif d.kind == "zvm_only":
                lines.append(f"  {name}: code {d.zvm_code} on the ZVM, not in the knowledge base")
            else:
                where = f"code {d.kb_code} in the knowledge base" if d.kb_code is not None else \
                    "in the knowledge base (no code)"
                lines.append(f"  {name}: {where}, not in the ZVM's list")
    for kind, why in codes.unread.items():
        lines.append(printable(f"{_WHAT[kind]}: not compared: {why}"))
    width = console().width  # each line wrapped at spaces, its continuation indented
    return "".join("\n".join(wrap(line, width, indent=len(line) - len(line.lstrip(" ")) + 2)) + "\n"
                   for line in lines)


def codes_json(site_name: str, url: str, kb_path: str, codes: Codes) -> str:
    doc: dict[str, Any] = {"site": site_name, "url": url, "knowledge_base": kb_path, "reading": READING,
                           "agree": codes.agree}
    for c in codes.comparisons:
        doc[_WHAT[c.kind].lower()] = {
            "zvm": list(c.zvm), "zvm_count": len(c.zvm), "knowledge_base_count": c.kb_count, "agree": c.agree,
            "differences": [{"difference": d.kind, "name": d.name, "zvm_code": d.zvm_code, "kb_code": d.kb_code}
                            for d in c.differences]}
    for kind, why in codes.unread.items():
        doc[_WHAT[kind].lower()] = {"error": why, "agree": False}
    return json_text(doc)
