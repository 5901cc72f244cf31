"""The console script's entry point.

SIGINT and SIGTERM: from the first instruction of the command line on, a
signal is recorded (zvpg_cli/base/signals.py), not acted on half-way through an
import; once the command line is parsed the guarded entry (cli/__init__.py)
raises it, and gives the final answer: one line and exit 130 (SIGINT) or 143
(SIGTERM), or under --nagios the UNKNOWN status line and exit 3. The handler
is installed here, before anything heavy is imported. The importable API
(`zvpg_cli`, `zvpg_cli.cli`) leaves signal handling alone.

zvpg runs as a short-lived process, often every minute from monitoring. The
cyclic garbage collector only slows it down: it scans the objects that
importing typer and rich creates (a few milliseconds, some 5 % of a run), and
the large payloads of annotate/triage make few reference cycles, which is all
it would reclaim. So the command line switches it off before importing
anything heavy.
"""

from .base import signals

signals.install()

import gc  # noqa: E402

gc.disable()

from .cli import main  # noqa: E402

__all__ = ["main"]
