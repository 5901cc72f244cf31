"""Progress on a terminal while zvpg waits on ZVMs: how many sites answered of
how many asked, the ones still waited for, each failure as it happens (in the
words the final report uses), the time so far.

Shown only when stderr is a terminal: rich's live display, erased when the read
is done; under TERM=dumb (or "unknown") plain lines instead, and one summary
line at the end. Rich honours NO_COLOR. Nothing here is shown for one site
until it has kept zvpg waiting for `ONE_SITE_AFTER` seconds, and rich is
imported only when the display is shown: a check that runs every minute, its
output piped, never pays for it.

`Progress` is the `zvm.fetch.Observer` the command line hands to a read on a
terminal: it is told, in the calling thread, each site's result so far. On
Ctrl-C it says how many sites had answered.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..base.sanitize import printable
from ..base.writer import environment, error

if TYPE_CHECKING:
    from ..sources.zvm.fetch import SiteResult
    from ..sources.zvm.sites import Site

#: A read of one site is shown only once it has taken this long (seconds).
ONE_SITE_AFTER = 1.0
#: Plain text (TERM=dumb): a line saying how the read goes at most this often, besides failures.
PLAIN_EVERY = 5.0
#: Sites named as still waited for, failures kept on the live display.
NAMED, FAILURES_SHOWN = 3, 5


def unreadable(name: str, why: str) -> str:
    """How a site that could not be read is named: here and in triage's final report."""
    return printable(f"site {name} could not be read: {why}")


def terminal_mode(stream: Any = None) -> str | None:
    """"live" (a terminal), "plain" (TERM=dumb or unknown) or None (not a terminal)."""
    try:
        if not (stream or environment().stderr).isatty():  # type: ignore[union-attr]
            return None
    except (AttributeError, ValueError):  # stderr closed
        return None
    return "plain" if os.environ.get("TERM", "").lower() in ("dumb", "unknown") else "live"


class Progress:
    """How a read of `sites` goes, shown on stderr where it is a terminal (see the module)."""

    def __init__(self, sites: Sequence[Site], mode: str | None = None) -> None:
        self.sites = sites
        self.mode = mode
        self.started = time.monotonic()
        self.results: Sequence[SiteResult | None] = [None] * len(sites)
        self.done: set[int] = set()
        self.failures: list[int] = []  # sites that could not be read, as they came
        self.live: Any = None  # rich's Live, while it is on the screen
        self.frame: list[tuple[str, str]] = []  # what it shows: (text, style) per line
        self.shown = False
        self.last_line = 0.0  # plain: when the last line was written

    # -- the observer ----------------------------------------------------------------------

    def update(self, results: Sequence[SiteResult | None]) -> None:
        self._take(results)
        if self.mode is None:
            return
        if len(self.done) == len(self.sites):
            self.close()
            return
        if not self.shown and len(self.sites) == 1 and self._elapsed() < ONE_SITE_AFTER:
            return
        try:
            if self.mode == "plain":
                self._plain()
            else:
                self._live()
        except OSError:  # the terminal went away: the read goes on without a display
            self._erase()
            self.mode = None

    def pause(self) -> None:
        self._erase()

    def interrupted(self, results: Sequence[SiteResult | None]) -> None:
        """Ctrl-C: the display goes, and one line says how far the read got (the
        entry point's own answer, "interrupted", follows it)."""
        self._take(results)
        self._erase()
        if self.mode is not None:
            answered = len(self.done) - len(self.failures)
            failed = f" ({len(self.failures)} could not be read)" if self.failures else ""
            waiting = f"; still waiting for {self._waiting()}" if len(self.done) < len(self.sites) else ""
            error(printable(f"zvpg: reading stopped after {self._elapsed():.0f} s: {answered} of {len(self.sites)} "
                            f"ZVMs had answered{failed}{waiting}"))
        self.mode = None

    def close(self) -> None:
        """The read is over: the live display disappears; plain text ends with one summary line."""
        self._erase()
        if self.mode == "plain" and self.shown and len(self.done) == len(self.sites):
            error(f"zvpg: read ZVMs: {self._counts()}, in {self._elapsed():.1f} s")
        self.mode = None

    # -- what is shown ---------------------------------------------------------------------

    def _take(self, results: Sequence[SiteResult | None]) -> None:
        self.results = results
        for i, result in enumerate(results):
            if result is not None and i not in self.done:
                self.done.add(i)
                if result.error is not None:
                    self.failures.append(i)
                    if self.mode == "plain" and self.shown:
                        error("zvpg: " + self._failure(i))

    def _elapsed(self) -> float:
        return time.monotonic() - self.started

    def _counts(self) -> str:
        n = len(self.sites)
        answered = len(self.done) - len(self.failures)
        failed = f", {len(self.failures)} could not be read" if self.failures else ""
        return f"{answered} of {n} answered{failed}"

    def _waiting(self) -> str:
        """The first sites still waited for, by name, and how many more."""
        names: list[str] = []
        count = 0
        for i, result in enumerate(self.results):
            if result is None:
                count += 1
                if len(names) < NAMED:
                    names.append(self.sites[i].name)
        more = f" and {count - len(names)} more" if count > len(names) else ""
        return printable(", ".join(names) + more)

    def _failure(self, i: int) -> str:
        result = self.results[i]
        return unreadable(self.sites[i].name, (result.error if result is not None else None) or "")

    def _plain(self) -> None:
        now = self._elapsed()
        if self.shown and now - self.last_line < PLAIN_EVERY:
            return
        self.last_line = now
        error(f"zvpg: reading ZVMs: {self._counts()} ({now:.0f} s); waiting for {self._waiting()}")
        if not self.shown:  # failures that came before the first line are named now; later ones as they come
            self.shown = True
            for i in self.failures:
                error("zvpg: " + self._failure(i))

    def _live(self) -> None:
        from rich.console import Console, Group
        from rich.text import Text

        frame = [(f"Reading ZVMs: {self._counts()} ({self._elapsed():.0f} s)", "bold"),
                 (f"Waiting for {self._waiting()}", "dim")]
        hidden = len(self.failures) - FAILURES_SHOWN
        if hidden > 0:
            frame.append((f"{hidden} more could not be read (named when the read is done)", "red"))
        frame += [(self._failure(i), "red") for i in self.failures[-FAILURES_SHOWN:]]
        if self.live is not None and frame == self.frame:
            return
        self.frame = frame
        if self.live is None:
            from rich.live import Live

            console = Console(file=environment().stderr, highlight=False)
            # stderr's other lines (warnings from the sites' threads) are printed above the display
            self.live = Live(console=console, auto_refresh=False, transient=True, redirect_stdout=False)
            self.shown = True
            self.live.start()
        self.live.update(Group(*(Text(text, style=style, no_wrap=True, overflow="ellipsis")
                                 for text, style in frame)), refresh=True)

    def _erase(self) -> None:
        live, self.live = self.live, None
        if live is not None:
            try:
                live.stop()
            except OSError:  # the terminal went away
                pass
