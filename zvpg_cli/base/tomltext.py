"""The one TOML reader (--policy files, --sites files): tomllib, or tomli on Python 3.10."""

from __future__ import annotations

import sys
from typing import Any


def parse_toml(text: str) -> dict[str, Any]:
    """The document `text` holds; ValueError (tomllib.TOMLDecodeError) when it is not TOML."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib  # type: ignore[import-not-found, no-redef, unused-ignore]
    doc: dict[str, Any] = tomllib.loads(text)
    return doc
