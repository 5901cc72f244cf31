"""YAML output in the knowledge-base schema, so it can be pasted into a
knowledge-base file and validated (`zvpg validate`)."""

from __future__ import annotations

from typing import Any

import yaml

from ..model import Entry, Status
from ..schema import SCHEMA_VERSION
from ..serialize import kb_record


def entries_document(entries: list[Entry]) -> str:
    doc: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "statuses": [kb_record(e) for e in entries if isinstance(e, Status)],
        "substatuses": [kb_record(e) for e in entries if not isinstance(e, Status)],
    }
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return str(yaml.dump(doc, Dumper=dumper, allow_unicode=True, sort_keys=False, width=100))
