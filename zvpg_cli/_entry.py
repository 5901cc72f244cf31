"""The console script's entry point.

zvpg runs as a short-lived process, often every minute from monitoring. The
cyclic garbage collector only slows it down: it scans the objects that
importing typer and rich creates (a few milliseconds, some 5 % of a run), and
the large payloads of annotate/triage make few reference cycles, which is all
it would reclaim. So the command line switches it off before importing
anything heavy; the importable API (`zvpg_cli`, `zvpg_cli.cli`) leaves it alone.
"""

import gc

gc.disable()

from .cli import main  # noqa: E402

__all__ = ["main"]
