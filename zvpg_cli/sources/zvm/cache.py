"""Sessions and tokens kept between runs, so that a check running every
minute does not log in every minute.

One file per ZVM URL and principal (user or client id) in
``<cache folder>/zvm/``, written and read through `zvpg_cli.base.cachefs` (folder
0700, files 0600, owner and mode checked, no symlinks followed, atomic
writes). A file holds the kind of ZVM, the session id or the Keycloak tokens
and their expiry times: never a password or client secret. Beside each, an
empty ``.lock`` file serialises the logins of the runs that share the entry.
Only valid JSON is written, and an entry whose token could not be sent in a
header is ignored.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from ...base import cachefs
from .sites import Site

FORMAT = 1
MAX_BYTES = 64 * 1024
#: A Windows ZVM ends a session after 30 minutes without use; one unused for
#: longer than this is not worth a request.
SESSION_IDLE_SECONDS = 29 * 60


def folder() -> str | None:
    base = cachefs.cache_dir()
    if base is None:
        return None
    path = os.path.join(base, "zvm")
    if not cachefs.private_dir(base) or not cachefs.private_dir(path):
        if not os.path.isdir(path):  # (a folder that is there but unsafe was named already)
            cachefs.warn_once(f"no session cache: {path} cannot be created, so every run logs in and out "
                              "(set ZVPG_CACHE_DIR to a folder this user can write)")
        return None
    return path


def path_for(site: Site) -> str | None:
    """The cache file of this site's URL and principal, or None when the cache is off or unsafe."""
    where = folder()
    if where is None:
        return None
    key = hashlib.sha256(f"{site.url}\n{site.principal}".encode("utf-8", "surrogatepass")).hexdigest()
    return os.path.join(where, key[:40] + ".json")


def load(site: Site, path: str | None) -> dict[str, Any] | None:
    """What the cache holds for this site, if it is for this URL and principal."""
    if path is None:
        return None
    raw = cachefs.read_private(path, MAX_BYTES)
    if raw is None:
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    if (not isinstance(data, dict) or data.get("format") != FORMAT or data.get("url") != site.url
            or data.get("principal") != site.principal or data.get("kind") not in ("session", "keycloak")):
        return None
    token = data.get("session" if data["kind"] == "session" else "access_token")
    if not visible_ascii(token) or not all(visible_ascii(data[k]) for k in ("refresh_token",) if k in data):
        return None  # written by a zvpg that kept any token it was given: not one to send
    return data


def visible_ascii(value: Any) -> bool:
    """Whether `value` is a token or session id that can go into a header: a
    non-empty string of visible ASCII characters (no space, no control, no newline)."""
    return isinstance(value, str) and bool(value) and value.isascii() and all(" " < c < "\x7f" for c in value)


def save(site: Site, path: str | None, data: dict[str, Any]) -> bool:
    if path is None:
        return False
    record = {"format": FORMAT, "url": site.url, "principal": site.principal, **data}
    try:
        text = json.dumps(record, separators=(",", ":"), allow_nan=False)  # JSON only: no Infinity, no NaN
    except ValueError:
        return False
    return cachefs.write_private(path, text.encode("utf-8"))


def remove(path: str | None) -> None:
    if path is not None:
        cachefs.remove(path)


#: How often a run waiting for another's login looks again.
LOCK_POLL_SECONDS = 0.05


@contextmanager
def locked(path: str | None, remaining: Callable[[], float]) -> Iterator[None]:
    """Hold the lock of a cache entry (``<entry>.lock``, flock) while logging in,
    so that runs and sites sharing the entry log in once: the others wait for
    it while `remaining()` (their own deadline) leaves time, then read the
    entry the first one wrote. Without a cache, or where there is no flock
    (Windows), nothing is locked."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        fcntl = None  # type: ignore[assignment]
    if path is None or fcntl is None:
        yield
        return
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path + ".lock", flags, 0o600)
    except OSError:
        yield  # a lock that cannot be had costs a login, nothing more
        return
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                left = remaining()
                if left <= 0:
                    break  # the caller's own deadline says "timed out"
                time.sleep(min(LOCK_POLL_SECONDS, left))
            except OSError:
                break
        yield
    finally:
        os.close(fd)  # (releases the lock)


def now() -> float:
    return time.time()
