"""Build hook: a clear message for installs from source on an old Python.

pyproject.toml says `requires-python = ">=3.10"`, which every pip checks. But an
older pip (23.0, the one Python 3.9's venv ships) resolves the dependencies
first and reports a dependency conflict instead. This hook runs when pip asks
for zvpg's metadata, before any resolving, and says what is wrong.
"""

from __future__ import annotations

import sys
from typing import Any

from hatchling.metadata.plugin.interface import MetadataHookInterface

MINIMUM = (3, 10)


class CustomMetadataHook(MetadataHookInterface):
    def update(self, metadata: dict[str, Any]) -> None:
        if sys.version_info < MINIMUM:
            found = ".".join(map(str, sys.version_info[:3]))
            raise SystemExit(
                f"zvpg requires Python {'.'.join(map(str, MINIMUM))} or newer; this is Python {found}. "
                "Create the virtual environment with a newer python3."
            )
