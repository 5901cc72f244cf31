"""SIGINT (Ctrl-C) and SIGTERM (a monitoring timeout, `kill`) for the command line.

`install()` (by the entry point, `_entry.py`, before anything heavy is
imported) only records a signal: while modules are imported and the command
line is parsed, nothing is interrupted half-way. `arm()` (by the guarded entry,
`cli.main`, once it knows whether this is a Nagios check) raises
`Interrupted` for a signal that came already, and from then on raises it
where the signal arrives: the code between unwinds (`finally` blocks remove
`--output`'s temporary file; a caller may catch `KeyboardInterrupt` to add a
word, then re-raise), and the guarded entry turns it into the final answer:
one line and exit 130 (SIGINT) or 143 (SIGTERM), or under --nagios the
UNKNOWN status line and exit 3. `settle()` ignores any further signal while an
answer is being written, so there is only ever one.

The importable API (`zvpg_cli`, `zvpg_cli.cli`) leaves signal handling alone:
without `install()`, `arm()` and `settle()` do nothing.
"""

import _signal  # type: ignore[import-not-found]  # the C module: `signal` would import enum first
import _thread

SIGINT, SIGTERM = _signal.SIGINT, _signal.SIGTERM
#: The signals handled, and the name each answer gives it.
NAMES = {SIGINT: "SIGINT", SIGTERM: "SIGTERM"}

_installed = False
#: the thread signal handlers run in (the one that imported this module: the main thread)
_main_thread = _thread.get_ident()
_armed = False
#: the first signal that came (None: none)
received: int | None = None
#: whether `Interrupted` was raised for it
raised = False


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM came: `signum` says which. (A KeyboardInterrupt, so
    that code which catches Ctrl-C catches both.)"""

    def __init__(self, signum: int) -> None:
        super().__init__(NAMES.get(signum, str(signum)))
        self.signum = signum


def _handler(signum: int, frame: object) -> None:
    global received, raised
    if received is None:
        received = signum
    if _armed and getattr(getattr(frame, "f_code", None), "co_name", "") != "__del__":
        # (raised in a finalizer, Python would print it and carry on: the signal
        # stays recorded, and `check()` raises it at the next safe point)
        raised = True
        raise Interrupted(received)


def install() -> None:
    """Record SIGINT and SIGTERM from now on (the entry point's first act)."""
    global _installed
    try:
        for signum in NAMES:
            _signal.signal(signum, _handler)
    except ValueError:  # pragma: no cover - not the main thread (imported from elsewhere)
        return
    _installed = True


def arm() -> None:
    """From now on a signal raises `Interrupted`; one that came already, at once."""
    global _armed
    if _installed:
        _armed = True
        check()


def check() -> None:
    """Raise `Interrupted` if a signal came and has not been raised yet (its
    handler ran inside a finalizer). Called before a step that cannot be undone."""
    global raised
    if _armed and received is not None and not raised:
        raised = True
        raise Interrupted(received)


class held:
    """Within the block a signal is recorded, not raised; it is raised when
    the block ends (a step that must not be cut in two, such as creating a
    temporary file and learning its name). Only in the main thread, the one
    Python runs signal handlers in: a site's worker thread writing its
    session cache leaves the switch alone (two of them at once would
    otherwise leave it off, and the run deaf to Ctrl-C and SIGTERM)."""

    def __enter__(self) -> None:
        global _armed
        self.main = _thread.get_ident() == _main_thread
        if self.main:
            self.was, _armed = _armed, False

    def __exit__(self, kind: object, *rest: object) -> None:
        global _armed
        if not self.main:
            return
        _armed = self.was
        if kind is None:
            check()


def settle() -> None:
    """The answer is being written: further signals are ignored (there is one answer)."""
    global _armed
    if _installed and _armed:
        _armed = False
        for signum in NAMES:
            _signal.signal(signum, _signal.SIG_IGN)


def interrupted() -> int | None:
    """The signal the run was interrupted by (None: it was not)."""
    return received if raised else None
