"""One exchange with one ZVM (over `transport`, the standard library's http.client): log in (or reuse the cached session
or token), GET what was asked with retries, keep or end the session.

Imported only by the commands that talk to a ZVM: `ssl` and `http.client`
cost some 17 ms of start-up that `explain` and `list` must not pay.

Choices (documented in the README):
- Redirects are never followed: a 3xx answer is an error naming where it
  points, so credentials never travel to another host.
- GETs are retried on connection errors and 502/503/504, at most twice, after
  0.25 s and 0.75 s, and only while the site's --timeout leaves room.
- Logins (POST) are not retried; a login refused is an error at once.
- One login per cache entry at a time: runs and sites sharing an entry wait
  for the one logging in (`cache.locked`), then reuse what it wrote.
- A session that is not kept (no cache, or refused even after a new login)
  is ended with DELETE /v1/session.
- Nothing from the ZVM is trusted: tokens and session ids must be visible
  ASCII, lifetimes are kept to a day, login answers to 64 KiB, and every
  answer gets the checks a file gets (`hygiene.check_json`).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from ... import __version__
from . import cache
from .failures import clip, describe, unlicensed
from .sites import ConfigError, Secret, Site, ZvmError, read_secret
from .tls import new_context, ssl_context
from .transport import Client, Response, TransportError

RETRY_STATUSES = frozenset({502, 503, 504})
#: The answers that point elsewhere (a 304 Not Modified or a 300 is no redirect).
REDIRECTS = frozenset({301, 302, 303, 307, 308})
BACKOFF = (0.25, 0.75)
SESSION_PATH = "/v1/session/add"
LOGOUT_PATH = "/v1/session"
TOKEN_PATH = "/auth/realms/zerto/protocol/openid-connect/token"
#: The public Keycloak client of a ZVM Appliance for the password grant.
PASSWORD_GRANT_CLIENT = "zerto-client"
LOGOUT_TIMEOUT = 5.0
#: A login's or token endpoint's answer larger than this is refused (a Keycloak
#: token answer is a few kilobytes).
MAX_LOGIN_BYTES = 64 * 1024
#: Lifetimes a token endpoint gives are kept to this range (zvpg's choice: a
#: day at most; Keycloak's defaults are 5 and 30 minutes).
MAX_LIFETIME = 86400.0


class Deadline:
    """When a site's whole exchange must be over (monotonic clock). A site
    whose password had to be typed starts again with a new deadline."""

    __slots__ = ("at", "timeout")

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.at = time.monotonic() + timeout

    def remaining(self) -> float:
        return self.at - time.monotonic()


class _Unauthorized(Exception):
    """An API GET answered 401."""


# ---- TLS ------------------------------------------------------------------------------------

class Exchange:
    """One site's exchange: `run()` returns the bodies of the GETs asked, or
    raises ZvmError (or sites.NeedPrompt when a password must be typed)."""

    def __init__(self, site: Site, deadline: Deadline, *, max_bytes: int, use_cache: bool = True,
                 secret: Secret | None = None) -> None:
        self.site = site
        self.deadline = deadline
        self.max_bytes = max_bytes
        self.secret = secret
        self.kind = site.kind
        self.cache_path = cache.path_for(site) if use_cache else None
        self.state: dict[str, Any] | None = None
        self.dirty = False
        self.client: Client | None = None

    # -- the whole exchange

    def run(self, gets: Sequence[tuple[str, Mapping[str, str]]], *, partial: bool = False) -> list[bytes | ZvmError]:
        """The body of each GET; with `partial`, a GET after the first that fails
        gives its error in its place (the others are still read)."""
        from .sites import is_text

        if not all(is_text(value) for _, params in gets for value in params.values()):
            raise ConfigError(self.site.name, "a filter (--vpg) is not valid UTF-8 text")
        ctx = ssl_context(self.site)
        headers = {"Accept": "application/json", "User-Agent": f"zvpg/{__version__}"}
        try:
            client = Client(self.site.url, ctx, headers)
        except TransportError as exc:
            raise ZvmError(self.site.name, describe(self.site, exc)) from None
        with client:
            self.client = client
            try:
                self._start()
                out: list[bytes | ZvmError] = []
                for path, params in gets:
                    try:
                        out.append(self._get_authorized(path, params, forget=not out))
                    except ZvmError as exc:
                        if not (partial and out) or isinstance(exc, ConfigError):
                            raise
                        out.append(exc)
                return out
            finally:
                self._finish()

    def _start(self) -> None:
        """Use the cached session or token; else refresh or log in, holding the
        cache entry's lock, so that runs sharing the entry log in once."""
        if self._from_cache(refresh=False):
            return
        with cache.locked(self.cache_path, self.deadline.remaining):
            if not self._from_cache(refresh=True):  # (another run may have logged in meanwhile)
                self._login()
            if self.dirty and self.state is not None and cache.save(self.site, self.cache_path, self.state):
                self.dirty = False  # the next run (or the one waiting) finds it

    def _from_cache(self, *, refresh: bool) -> bool:
        cached = cache.load(self.site, self.cache_path)
        if cached is None or self.kind not in (None, cached["kind"]):
            return False
        now = cache.now()
        if cached["kind"] == "session":
            if now - _seconds(cached.get("used"), 0.0) < cache.SESSION_IDLE_SECONDS:
                self.kind, self.state = "session", cached
                return True
            return False
        if now < _seconds(cached.get("access_expires"), 0.0):
            self.kind, self.state = "keycloak", cached
            return True
        if refresh:
            self.kind = "keycloak"
            return self._refresh(cached, now)
        return False

    def _finish(self) -> None:
        """Keep a live session for the next run; end it when it cannot be kept."""
        if self.state is None:
            cache.remove(self.cache_path)
            return
        if self.kind == "session":
            self.state["used"] = cache.now()
            if not cache.save(self.site, self.cache_path, self.state):
                self._logout()  # not kept (no cache): ended now
        elif self.dirty:
            cache.save(self.site, self.cache_path, self.state)

    # -- credentials

    def _secret(self) -> Secret:
        if self.secret is None:
            self.secret = read_secret(self.site, prompt=False)
        return self.secret

    def _auth_headers(self) -> dict[str, str]:
        assert self.state is not None
        if self.kind == "session":
            return {"x-zerto-session": str(self.state["session"])}
        return {"Authorization": f"Bearer {self.state['access_token']}"}

    def _login(self) -> None:
        site = self.site
        self.state = None
        if self.kind in (None, "session"):
            secret = self._secret()
            with self._call("POST", SESSION_PATH, auth=(site.user or "", secret.reveal())) as r:
                status = r.status_code
                session = r.headers.get("x-zerto-session")
            if status == 404 and self.kind is None:
                self.kind = "keycloak"  # a ZVM Appliance: no session API
            elif status == 404:
                raise ZvmError(site.name, f"POST {SESSION_PATH} answered 404: this looks like a ZVM Appliance; "
                               "use --auth keycloak (or auto)")
            elif status in (401, 403):
                raise ZvmError(site.name, f"login refused for user {clip(site.user or '')} "
                               f"({status} {_reason(status)}): wrong user name or password?")
            elif status == 200 and session and not cache.visible_ascii(session):
                raise ZvmError(site.name, f"POST {SESSION_PATH} answered a session id that is not visible ASCII "
                               "text: refused (not shown, not kept)")
            elif status == 200 and session:
                self.kind = "session"
                self.state = {"kind": "session", "session": session, "used": cache.now()}
                self.dirty = True
                return
            elif status == 200:
                raise ZvmError(site.name, f"POST {SESSION_PATH} answered 200 without an x-zerto-session header: "
                               f"is {site.url} a ZVM?")
            else:
                raise ZvmError(site.name, f"login failed: POST {SESSION_PATH} answered {status} {_reason(status)}")
        secret = self._secret()
        if site.client_id:
            form = {"grant_type": "client_credentials", "client_id": site.client_id,
                    "client_secret": secret.reveal()}
        else:
            form = {"grant_type": "password", "client_id": PASSWORD_GRANT_CLIENT, "username": site.user or "",
                    "password": secret.reveal()}
        if not self._token(form, refreshing=False):  # pragma: no cover - _token raises when not refreshing
            raise ZvmError(site.name, "login failed")

    def _refresh(self, cached: Mapping[str, Any], now: float) -> bool:
        token = cached.get("refresh_token")
        expires = cached.get("refresh_expires")
        if not isinstance(token, str) or (expires is not None and now >= _seconds(expires, 0.0)):
            return False
        client_id = self.site.client_id or PASSWORD_GRANT_CLIENT
        form = {"grant_type": "refresh_token", "client_id": client_id, "refresh_token": token}
        if self.site.client_id:  # a confidential client authenticates its refresh too
            try:
                form["client_secret"] = self._secret().reveal()
            except ZvmError:
                return False
        return self._token(form, refreshing=True)

    def _token(self, form: dict[str, str], *, refreshing: bool) -> bool:
        """A Keycloak grant. False when a refresh is refused (log in instead)."""
        site = self.site
        with self._call("POST", TOKEN_PATH, data=form) as r:
            status = r.status_code
            body = self._read(r, TOKEN_PATH, MAX_LOGIN_BYTES) if status in (200, 400, 401) else b""
        answer = _json_object(body)
        if status == 200 and isinstance(answer.get("access_token"), str):
            if not cache.visible_ascii(answer["access_token"]):
                raise ZvmError(site.name, "the token endpoint answered an access token that is not visible ASCII "
                               "text: refused (not shown, not kept)")
            for member in ("expires_in", "refresh_expires_in"):
                if isinstance(answer.get(member), TooLong):
                    raise ZvmError(site.name, f"the token endpoint answered an invalid {member}: a number of "
                                   f"{answer[member].digits} digits, not a lifetime in seconds")
            now = cache.now()
            lifetime = lifetime_seconds(answer.get("expires_in"), 60.0)
            state: dict[str, Any] = {"kind": "keycloak", "access_token": answer["access_token"],
                                     "access_expires": now + lifetime - _margin(lifetime)}
            if cache.visible_ascii(answer.get("refresh_token")):  # one that is not is not kept (log in next time)
                state["refresh_token"] = answer["refresh_token"]
                refresh = lifetime_seconds(answer.get("refresh_expires_in"), 0.0)
                state["refresh_expires"] = now + refresh - _margin(refresh) if refresh > 0 else None
            self.kind, self.state, self.dirty = "keycloak", state, True
            return True
        if refreshing:
            return False
        error = answer.get("error")
        detail = f"{status} {_reason(status)}" + (f", {clip(error, 60)}" if isinstance(error, str) else "")
        if status == 404:
            raise ZvmError(site.name, f"no Keycloak token endpoint ({detail} on {TOKEN_PATH}): is {site.url} a "
                           "ZVM Appliance? A Windows ZVM takes --auth session")
        if status == 200:
            raise ZvmError(site.name, f"the token endpoint answered without an access token: is {site.url} a ZVM?")
        if status in (400, 401, 403):
            who, hint = ((f"client {clip(site.client_id)}", "wrong client id or secret?") if site.client_id
                         else (f"user {clip(site.user or '')}", "wrong user name or password?"))
            raise ZvmError(site.name, f"login refused for {who} ({detail}): {hint}")
        raise ZvmError(site.name, f"login failed: the token endpoint answered {detail}")

    def _relogin(self) -> None:
        if self.kind == "keycloak" and self.state is not None and self._refresh(self.state, cache.now()):
            return
        self._logout()  # a session the ZVM refused is not kept: ended (if it still lives)
        self._login()

    def _logout(self) -> None:
        """End the session (DELETE /v1/session); a Keycloak token is left to expire."""
        if self.state is None or self.client is None or self.kind != "session":
            return
        timeout = min(LOGOUT_TIMEOUT, max(self.deadline.remaining(), 1.0))
        try:
            with self.client.stream("DELETE", LOGOUT_PATH, headers=self._auth_headers(), timeout=timeout):
                pass
        except TransportError:
            pass  # the ZVM ends an unused session after 30 minutes anyway

    # -- requests

    @contextmanager
    def _call(self, method: str, path: str, *, params: Mapping[str, str] | None = None,
              headers: Mapping[str, str] | None = None, auth: tuple[str, str] | None = None,
              data: Mapping[str, str] | None = None) -> Iterator[Response]:
        """One request, streamed, within the deadline; transport errors become ZvmError
        (with `retriable` set on it)."""
        assert self.client is not None
        remaining = self.deadline.remaining()
        if remaining <= 0:
            raise self._timed_out()
        try:
            with self.client.stream(method, path, params=params, headers=headers, auth=auth, data=data,
                                    timeout=remaining) as response:
                if response.status_code in REDIRECTS:
                    raise ZvmError(self.site.name, self._redirect(method, path, response))
                yield response
        except TransportError as exc:
            if exc.kind == "timeout":
                raise self._timed_out() from None
            names: list[str] = []
            if exc.kind == "tls-name" and self.deadline.remaining() > 0:
                ctx = new_context(self.site)
                ctx.check_hostname = False  # the chain is still verified
                names = self.client.certificate_names(ctx, self.deadline.remaining())
            err = ZvmError(self.site.name, describe(self.site, exc, names))
            err.retriable = exc.retriable  # type: ignore[attr-defined]
            raise err from None

    def _timed_out(self) -> ZvmError:
        return ZvmError(self.site.name, f"timed out after {self.deadline.timeout:g} s (--timeout)")

    def _redirect(self, method: str, path: str, response: Response) -> str:
        from urllib.parse import urlsplit

        location = response.headers.get("location", "")
        try:
            target = urlsplit(location)
            where = f"{target.scheme}://{target.hostname}" + (f":{target.port}" if target.port else "") \
                if target.hostname else "a path on the same host"
        except ValueError:
            where = "an invalid location"
        return (f"{method} {path} answered {response.status_code} {_reason(response.status_code)}, a redirect to "
                f"{clip(where, 100)}: zvpg follows no redirects (give the ZVM's own URL)")

    def _get_authorized(self, path: str, params: Mapping[str, str], forget: bool = True) -> bytes:
        """GET `path`, logging in again once on a 401. `forget`: a 401 after the
        new login ends the session, and the next run logs in anew (not for a
        GET after one the session answered: that session works, the path is refused)."""
        try:
            return self._get(path, params)
        except _Unauthorized:
            pass
        self._relogin()
        try:
            return self._get(path, params)
        except _Unauthorized:
            if forget:
                self._logout()
                self.state = None  # forget it: the next run logs in anew
            who = f"client {self.site.client_id}" if self.site.client_id else f"user {self.site.user}"
            raise ZvmError(self.site.name, f"GET {path} answered 401 Unauthorized again after a new login: "
                           f"may {clip(who)} use the REST API?") from None

    def _get(self, path: str, params: Mapping[str, str]) -> bytes:
        last: ZvmError | None = None
        tries = 0
        for pause in (0.0, *BACKOFF):
            if pause:
                if self.deadline.remaining() < pause + 0.05:
                    break  # no room left for another try
                time.sleep(pause)
            tries += 1
            try:
                with self._call("GET", path, params=params, headers=self._auth_headers()) as r:
                    status = r.status_code
                    said = self._said(r, path) if status != 200 else None
                    answered = f"GET {path} answered {status} {_reason(status)}"
                    if said is not None and unlicensed(said):  # whatever the status: no retry, no new login
                        raise ZvmError(self.site.name, f'the ZVM has no valid licence: {answered}: "{said}"')
                    if status == 401:
                        raise _Unauthorized
                    if status in RETRY_STATUSES:
                        last = ZvmError(self.site.name, answered)
                        continue
                    if status != 200:
                        hint = " (is this a ZVM?)" if status == 404 else f': "{said}"' if said else ""
                        raise ZvmError(self.site.name, answered + hint)
                    content_type = r.headers.get("content-type", "")
                    body = self._read(r, path)
            except ZvmError as exc:
                if not getattr(exc, "retriable", False):
                    raise
                last = exc
                continue
            self._check_json(path, body, content_type)
            return body
        assert last is not None
        plural = "try" if tries == 1 else "tries"
        raise ZvmError(self.site.name, f"{last.message} ({tries} {plural})")

    def _read(self, response: Response, path: str, limit: int | None = None) -> bytes:
        """The body, cut off at `limit` (--max-bytes by default) and at the deadline. An
        answer cut off ends its connection (the rest is never read: a ZVM that sends
        slowly would hold the next request, of a part, beyond the deadline)."""
        limit = self.max_bytes if limit is None else limit
        length = response.headers.get("content-length", "")
        chunks = []
        total = 0
        try:
            if length.isascii() and length.isdigit() and int(length) > limit:  # ("²".isdigit() is true)
                raise self._too_large(path, limit)
            for chunk in response.iter_bytes():
                total += len(chunk)
                if total > limit:
                    raise self._too_large(path, limit)
                if self.deadline.remaining() <= 0:
                    raise self._timed_out()
                chunks.append(chunk)
        except ZvmError:
            if self.client is not None:
                self.client.close()
            raise
        return b"".join(chunks)

    def _said(self, response: Response, path: str) -> str | None:
        """What an error answer says, where it is the API's `{"Message": "..."}` (an unlicensed
        ZVM answers `{"Message":"Valid License is not provided "}`): its text, clipped; else None."""
        import msgspec

        try:
            said = msgspec.json.decode(self._read(response, path, limit=SAID_LIMIT))
        except (ZvmError, TransportError, msgspec.DecodeError, RecursionError):
            return None
        if not isinstance(said, dict) or not isinstance(said.get("Message"), str) or not said["Message"].strip():
            return None
        return clip(said["Message"].strip(), 120)

    def _too_large(self, path: str, limit: int) -> ZvmError:
        hint = " (raise the limit with --max-bytes)" if limit == self.max_bytes else ""
        return ZvmError(self.site.name, f"the answer to {path} is larger than {limit} bytes: cut off{hint}")

    def _check_json(self, path: str, body: bytes, content_type: str) -> None:
        """The checks every input gets (`hygiene.check_json`), whatever its source."""
        from ..hygiene import PayloadError, check_json

        try:
            check_json(body)
        except PayloadError as exc:
            message = str(exc)
            if message.startswith("input "):  # input is nested too deeply, is not UTF-8 text ...
                raise ZvmError(self.site.name, f"the answer to GET {path} {clip(message[6:], 200)}") from None
            what = clip(content_type.split(";")[0].strip(), 60) or "no content type"
            raise ZvmError(self.site.name, f"the answer to GET {path} is not JSON ({what}; {clip(message, 80)}): "
                           f"is {self.site.url} a ZVM?") from None


#: The most of an error answer read for its message.
SAID_LIMIT = 4096


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


class TooLong:
    """A JSON integer of more digits than Python converts (4,300), kept as its
    count of digits (not a number: nothing takes it for one), so that the
    answer can say which member is wrong."""

    def __init__(self, digits: int) -> None:
        self.digits = digits


def _int(text: str) -> int | TooLong:
    return int(text) if len(text) <= 4300 else TooLong(len(text.lstrip("-")))


def _json_object(body: bytes) -> dict[str, Any]:
    import json

    try:
        value = json.loads(body, parse_int=_int) if body else None
    except (ValueError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}


def lifetime_seconds(value: Any, default: float) -> float:
    """A lifetime a token endpoint gave, in seconds: `default` when it is not
    a number (or negative, or not finite), at most MAX_LIFETIME."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value or value < 0:
        return default
    return float(min(value, MAX_LIFETIME))  # (min first: a 400-digit integer does not fit a float)


def _seconds(value: Any, default: float) -> float:
    """A time read back from the cache: a finite non-negative number, else `default`."""
    import math

    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        return default
    return float(value)


def _margin(lifetime: float) -> float:
    """Renew this much before a token expires (a small margin, at most 15 s)."""
    return min(15.0, lifetime / 4)
