"""zvpg: explain the statuses and substatuses of Zerto Virtual Protection Groups.

The plain Python API, usable without the command line::

    from zvpg_cli import load_kb, resolve, decode

    kb = load_kb()                        # the packaged knowledge base
    entry = resolve(kb, "bitmap sync").entry
    pair = decode(kb, 2, 23)              # Not Meeting SLA / Bitmap Syncing

Nothing heavy is imported here: the command line's start-up time depends on it.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: importing typing costs ms before Ctrl-C is handled

__version__ = "0.2.0"

__all__ = ["__version__", "decode", "load_kb", "resolve"]

if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from .knowledge.decoding import decode
    from .knowledge.kb import load_kb
    from .knowledge.lookup import resolve


def __getattr__(name: str) -> Any:
    # Lazy re-exports keep `import zvpg_cli` cheap.
    if name == "load_kb":
        from .knowledge.kb import load_kb

        return load_kb
    if name == "resolve":
        from .knowledge.lookup import resolve

        return resolve
    if name == "decode":
        from .knowledge.decoding import decode

        return decode
    raise AttributeError(name)
