"""Read many ZVMs at once: a bounded pool of worker threads, one exchange
per site, results in the sites' order, each the exact bytes of the answer or
a one-line error.

Each site's --timeout bounds its whole exchange. The exchange itself keeps to
it (every request gets the time left); in addition this module stops waiting
for a site once its time is up, so that no server, however slow or
malicious, can make a run last longer. Workers are daemon threads: one still
stuck in a socket is abandoned, not waited for, at exit.

Passwords typed at the terminal are asked here, in the calling thread, one
site at a time (the time spent typing is not counted against the site).

An `Observer` (the command line's progress display) is told how the read goes,
in the calling thread: each site's result so far, several times a second; that
a password is about to be asked; that Ctrl-C stopped the read. This module
prints nothing itself.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, NamedTuple, Protocol

from ..limits import DEFAULT_MAX_BYTES
from .sites import ConfigError, NeedPrompt, Secret, Site, ZvmError, read_secret

if TYPE_CHECKING:  # the network code is imported when a pool runs, not before
    from .exchange import Deadline

#: The pool stops waiting for a site this long after its deadline (the
#: exchange's own, more precise error normally comes first).
GRACE = 0.5
DEFAULT_PARALLEL = 32
#: An observer hears how the read goes at most this often (seconds).
TICK = 0.25


class SiteResult(NamedTuple):
    """What one site answered: `body` (the exact bytes of the first answer)
    and `bodies` (every answer asked for, in order), or `error` (one line,
    without the site's name, never a secret)."""

    site: Site
    body: bytes | None
    error: str | None
    bodies: tuple[bytes, ...] = ()
    #: with `partial`: each GET's error (None where it was read; its body is then b"")
    errors: tuple[str | None, ...] = ()

    @property
    def ok(self) -> bool:
        return self.error is None


class Observer(Protocol):
    """Hears how a read goes, always in the thread that called `fetch_each`."""

    def update(self, results: Sequence[SiteResult | None]) -> None:
        """Each site's result so far, in the sites' order (None: still waiting):
        every `TICK` seconds while sites are outstanding, and once when all are done."""

    def pause(self) -> None:
        """A password is about to be asked on the terminal."""

    def interrupted(self, results: Sequence[SiteResult | None]) -> None:
        """Ctrl-C (KeyboardInterrupt) stopped the read; it is raised again after this."""


def fetch_all(sites: Sequence[Site], path: str, params: Mapping[str, str] | None = None, *,
              parallel: int = DEFAULT_PARALLEL, max_bytes: int = DEFAULT_MAX_BYTES,
              use_cache: bool = True, observer: Observer | None = None) -> list[SiteResult]:
    """GET `path` (e.g. ``/v1/vpgs``) with `params` from every site, concurrently
    (at most `parallel` at a time). One result per site, in the order given."""
    return fetch_each(sites, [(path, dict(params or {}))], parallel=parallel, max_bytes=max_bytes,
                      use_cache=use_cache, observer=observer)


def fetch_each(sites: Sequence[Site], gets: Sequence[tuple[str, Mapping[str, str]]], *,
               parallel: int = DEFAULT_PARALLEL, max_bytes: int = DEFAULT_MAX_BYTES,
               use_cache: bool = True, partial: bool = False, observer: Observer | None = None) -> list[SiteResult]:
    """Like `fetch_all`, with several GETs per site in one exchange (one login).
    With `partial`, a GET after the first that fails does not fail the site:
    its error is in `SiteResult.errors`, its body is b"". Ctrl-C stops the
    wait at once (the sites' threads are abandoned, not waited for)."""
    return _Pool(list(sites), list(gets), max(1, parallel), max_bytes, use_cache, partial, observer).run()


class _Slot:
    __slots__ = ("deadline", "prompt", "result", "secret")

    def __init__(self) -> None:
        self.deadline: Deadline | None = None  # set once a worker has started the site
        self.result: SiteResult | None = None
        self.secret: Secret | None = None
        self.prompt = False  # the site waits for the calling thread to ask for its password


class _Pool:
    def __init__(self, sites: list[Site], gets: list[tuple[str, Mapping[str, str]]], parallel: int,
                 max_bytes: int, use_cache: bool, partial: bool = False, observer: Observer | None = None) -> None:
        self.sites, self.gets, self.parallel = sites, gets, parallel
        self.max_bytes, self.use_cache, self.partial = max_bytes, use_cache, partial
        self.observer, self.next_tick = observer, 0.0
        self.slots = [_Slot() for _ in sites]
        self.queue = list(range(len(sites)))[::-1]  # popped from the end: input order
        self.cond = threading.Condition()

    def run(self) -> list[SiteResult]:
        if not self.sites:
            return []
        from . import exchange  # ssl, http.client: imported here, in the calling thread, once

        self.exchange = exchange
        for _ in range(min(self.parallel, len(self.sites))):
            self._spawn()
        try:
            with self.cond:
                while True:
                    waiting = self._check_deadlines()
                    prompt = next((i for i, s in enumerate(self.slots) if s.prompt), None)
                    if prompt is not None:
                        if self.observer is not None:
                            self.observer.pause()
                        self._ask(prompt)
                        continue
                    if all(s.result is not None for s in self.slots):
                        break
                    if self.observer is not None:
                        waiting = self._tell(self.observer, waiting)
                    self.cond.wait(waiting)
        except KeyboardInterrupt:
            if self.observer is not None:
                self.observer.interrupted([s.result for s in self.slots])
            raise
        if self.observer is not None:
            self.observer.update([s.result for s in self.slots])
        return [s.result for s in self.slots if s.result is not None]

    def _tell(self, observer: Observer, waiting: float | None) -> float:
        """Tell the observer how the read goes, once a `TICK`; how long to wait before next time."""
        now = time.monotonic()
        if now >= self.next_tick:
            observer.update([s.result for s in self.slots])
            self.next_tick = now + TICK
        left = self.next_tick - now
        return left if waiting is None else min(waiting, left)

    def _check_deadlines(self) -> float | None:
        """Give up on sites whose time is up; how long until the next deadline."""
        now = time.monotonic()
        soonest: float | None = None
        for i, slot in enumerate(self.slots):
            dl = slot.deadline
            if slot.result is not None or dl is None or slot.prompt:
                continue
            left = dl.at + GRACE - now
            if left <= 0:
                timeout = self.sites[i].timeout
                slot.result = SiteResult(self.sites[i], None, f"timed out after {timeout:g} s (--timeout)")
                self._spawn()  # the stuck worker is lost to the pool: keep it as wide as asked
            else:
                soonest = left if soonest is None else min(soonest, left)
        return soonest

    def _ask(self, i: int) -> None:
        """Ask for a site's password on the terminal (cond is held), then run the site again."""
        slot = self.slots[i]
        slot.prompt = False
        self.cond.release()
        try:
            secret: Secret | None = read_secret(self.sites[i], prompt=True)
            error = None
        except ZvmError as exc:
            secret, error = None, exc.message
        finally:
            self.cond.acquire()
        if error is not None or secret is None:
            slot.result = SiteResult(self.sites[i], None, error or "no password")
            return
        slot.secret = secret
        slot.deadline = None
        self.queue.append(i)
        self._spawn()

    def _spawn(self) -> None:
        threading.Thread(target=self._worker, name="zvpg-site", daemon=True).start()

    def _worker(self) -> None:
        while True:
            with self.cond:
                if not self.queue:
                    return
                i = self.queue.pop()
                slot = self.slots[i]
                deadline = self.exchange.Deadline(self.sites[i].timeout)
                slot.deadline = deadline
                secret = slot.secret
                self.cond.notify_all()
            outcome = self._exchange(self.sites[i], deadline, secret)
            with self.cond:
                if slot.result is None and slot.deadline is deadline:
                    if outcome is None:
                        slot.prompt = True
                    else:
                        slot.result = outcome
                self.cond.notify_all()

    def _exchange(self, site: Site, deadline: Deadline, secret: Secret | None) -> SiteResult | None:
        """The site's result; None when its password must be typed first."""
        try:
            ex = self.exchange.Exchange(site, deadline, max_bytes=self.max_bytes, use_cache=self.use_cache,
                                      secret=secret)
            answers = ex.run(self.gets, partial=self.partial)
            bodies = tuple(a if isinstance(a, bytes) else b"" for a in answers)
            errors = tuple(None if isinstance(a, bytes) else a.message for a in answers)
            return SiteResult(site, bodies[0], None, bodies, errors)
        except NeedPrompt:
            return None
        except ZvmError as exc:
            return SiteResult(site, None, exc.message)
        except Exception as exc:  # a bug must not take the other sites down
            if os.environ.get("ZVPG_DEBUG"):
                import traceback

                traceback.print_exc(file=sys.stderr)
            return SiteResult(site, None, f"internal error: {type(exc).__name__} (set ZVPG_DEBUG=1 for details)")


__all__ = ["ConfigError", "Observer", "SiteResult", "fetch_all", "fetch_each"]
