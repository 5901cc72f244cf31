"""YAML output in the knowledge-base schema, so it can be pasted into a
knowledge-base file and validated (`zvpg validate`)."""

from __future__ import annotations

from typing import Any

import yaml

from ..knowledge.model import Entry, KnowledgeBase, Status
from ..knowledge.schema import SCHEMA_VERSION
from ..knowledge.serialize import kb_record


def entries_document(kb: KnowledgeBase, entries: list[Entry]) -> str:
    """A knowledge-base document holding `entries` (all of them: a copy of the
    knowledge base to edit, which `zvpg validate` accepts)."""
    doc: dict[str, Any] = {"schema_version": SCHEMA_VERSION}
    if kb.numbering_decoded or kb.numbering_caution:
        doc["numbering"] = {"decoded": kb.numbering_decoded, "caution": kb.numbering_caution,
                            "other_statuses": [o._asdict() for o in kb.other_statuses]}
    if kb.no_substatus is not None:
        doc["no_substatus"] = kb.no_substatus._asdict()
    doc["statuses"] = [kb_record(e) for e in entries if isinstance(e, Status)]
    doc["substatuses"] = [kb_record(e) for e in entries if not isinstance(e, Status)]
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return str(yaml.dump(doc, Dumper=dumper, allow_unicode=True, sort_keys=False, width=100))
