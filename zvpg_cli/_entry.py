"""The console script's entry point.

Ctrl-C: from the first instruction of the command line on, an interrupt ends
zvpg at once, quietly, with exit code 130 (128 + SIGINT, the shell's
convention), instead of a KeyboardInterrupt traceback from whatever module was
being imported. The handler is installed here, before anything heavy is
imported, and ends the process itself: an exception raised from a signal
handler can land in a weakref callback or a `__del__`, where Python prints it
and carries on. Nothing is lost that an interrupted run would have kept: the
writers flush after every write, and the knowledge-base cache is replaced
atomically. The importable API (`zvpg_cli`, `zvpg_cli.cli`) leaves signal
handling alone.

zvpg runs as a short-lived process, often every minute from monitoring. The
cyclic garbage collector only slows it down: it scans the objects that
importing typer and rich creates (a few milliseconds, some 5 % of a run), and
the large payloads of annotate/triage make few reference cycles, which is all
it would reclaim. So the command line switches it off before importing
anything heavy.
"""

import _signal  # type: ignore[import-not-found]  # the C module: `signal` would import enum first
import os


def _interrupted(signum: int, frame: object) -> None:
    os._exit(130)


try:
    _signal.signal(_signal.SIGINT, _interrupted)
except ValueError:  # pragma: no cover - not the main thread (imported from elsewhere)
    pass

import gc  # noqa: E402

gc.disable()

from .cli import main  # noqa: E402

__all__ = ["main"]
