"""HTTP/1.1 to one ZVM over the standard library's `http.client` and `ssl`.

Why not httpx: everything a ZVM exchange needs (TLS with zvpg's own
SSLContext, keep-alive, chunked answers, per-operation timeouts, CONNECT
through a proxy) is in `http.client`, which costs some 17 ms to import;
httpx with httpcore, h11 and anyio cost some 55 ms, on every run of a check
that monitoring starts every minute. What zvpg adds on top is its own policy,
which it had to write with httpx too: the site's deadline, retries,
refusing redirects, the size limit, and one-line errors.

A `Client` keeps one connection to its ZVM for the whole exchange (login,
GETs, logout), and opens a new one when the ZVM closed it. Proxies come from
the environment as curl and httpx read them (`HTTPS_PROXY`, `HTTP_PROXY`,
`ALL_PROXY`, `NO_PROXY`, via `urllib.request`): an https:// ZVM is reached
through a CONNECT tunnel, so TLS still runs from zvpg to the ZVM.
"""

from __future__ import annotations

import http.client
import os
import ssl
from base64 import b64encode
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit

#: Bytes asked from the socket at a time while an answer is read.
CHUNK = 64 * 1024
#: OpenSSL's X509_V_ERR_HOSTNAME_MISMATCH: a trusted certificate, for another name.
HOSTNAME_MISMATCH = 62


class TransportError(Exception):
    """No (complete) answer. `kind` says what failed: "tls-verify", "tls-name"
    (a certificate for another name), "tls",
    "timeout", "proxy" (the proxy refused), "proxy-connect" (it cannot be
    reached), "incomplete" (the ZVM closed the connection early), "malformed",
    "connect" (nothing was sent), "broken" (the connection broke later) or
    "other"; `detail` is one line (the OS's or OpenSSL's words)."""

    RETRIABLE = frozenset({"incomplete", "malformed", "connect", "proxy-connect", "broken"})

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail

    @property
    def retriable(self) -> bool:
        """Whether a GET may be tried again."""
        return self.kind in self.RETRIABLE


class ChunkSizeError(http.client.HTTPException):
    """A chunked answer's size line that is not a chunk size (RFC 9112 7.1: a
    hexadecimal number; `http.client` also takes `-10`, then waits for bytes
    that never come, until the timeout)."""


class _HTTPResponse(http.client.HTTPResponse):
    """`http.client`'s answer, refusing a chunk size that is negative or not
    a number at once, with what is wrong."""

    def _read_next_chunk_size(self) -> int:
        try:
            size: int = super()._read_next_chunk_size()  # type: ignore[misc]
        except ValueError:
            raise ChunkSizeError("a chunk size that is not a hexadecimal number") from None
        if size < 0:
            self._close_conn()  # type: ignore[attr-defined]
            raise ChunkSizeError(f"a negative chunk size ({size})")
        return size


class Response:
    """An answer whose body is read as it arrives (`iter_bytes`)."""

    __slots__ = ("_client", "_raw", "headers", "status_code")

    def __init__(self, client: Client, raw: http.client.HTTPResponse) -> None:
        self._client = client
        self._raw = raw
        self.status_code = raw.status
        self.headers = raw.headers  # case-insensitive .get()

    def iter_bytes(self) -> Iterator[bytes]:
        """The body as it arrives: each piece after one read from the socket
        (a ZVM that sends slowly is seen sending, and the caller can stop it)."""
        raw = self._raw
        while True:
            try:
                chunk = raw.read1(CHUNK)
            except Exception as exc:
                self._client.close()
                raise self._client.failure(exc, connected=True) from None
            if chunk:
                yield chunk
                continue
            if raw.length:  # Content-Length announced more than came before the ZVM closed the connection
                self._client.close()
                raise TransportError("incomplete", f"{raw.length} of the announced bytes never came")
            raw.close()  # the whole body was read: the connection can carry the next request
            return


class Client:
    """Requests to one ZVM (`base_url`: scheme, host, port and path prefix)."""

    def __init__(self, base_url: str, context: ssl.SSLContext | None, headers: Mapping[str, str]) -> None:
        parts = urlsplit(base_url)
        self.https = parts.scheme == "https"
        self.host = parts.hostname or ""
        self.port = parts.port or (443 if self.https else 80)
        self.prefix = parts.path.rstrip("/")
        self.context = context
        self.headers = dict(headers)
        self.proxy = proxy_for(parts.scheme, self.host)
        self.conn: http.client.HTTPConnection | None = None

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    @contextmanager
    def stream(self, method: str, path: str, *, timeout: float, params: Mapping[str, str] | None = None,
               headers: Mapping[str, str] | None = None, auth: tuple[str, str] | None = None,
               data: Mapping[str, str] | None = None) -> Iterator[Response]:
        """Send one request and give its answer, body unread. Raises
        `TransportError` for anything but an HTTP answer."""
        target = self.prefix + path + ("?" + urlencode(params) if params else "")
        sent = {**self.headers, **(headers or {})}
        if auth is not None:
            sent["Authorization"] = "Basic " + b64encode(f"{auth[0]}:{auth[1]}".encode()).decode("ascii")
        body = None
        if data is not None:
            body = urlencode(data).encode("ascii")
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        if self.proxy is not None and not self.https:  # plain http:// through a proxy: the absolute URL
            target = f"http://{_authority(self.host, self.port, 80)}{target}"
            sent.update(self.proxy.headers)
        conn = self._connect(timeout)
        try:
            conn.request(method, target, body=body, headers=sent)
            raw = conn.getresponse()
        except Exception as exc:
            self.close()
            raise self.failure(exc, connected=True) from None
        try:
            yield Response(self, raw)
        finally:
            if not raw.isclosed() and not raw.will_close and raw.length is not None and raw.length <= CHUNK:
                try:  # a short body left unread (a login's answer): read it, and keep the connection
                    raw.read()
                except Exception:
                    self.close()
            if raw.will_close or not raw.isclosed():  # the ZVM ends it, or the body was left unread
                self.close()

    def _connect(self, timeout: float) -> http.client.HTTPConnection:
        if self.conn is not None and self.conn.sock is not None:
            self.conn.sock.settimeout(timeout)
            return self.conn
        self.close()
        proxy = self.proxy
        host, port = (proxy.host, proxy.port) if proxy is not None else (self.host, self.port)
        conn: http.client.HTTPConnection
        if self.https:
            conn = http.client.HTTPSConnection(host, port, timeout=timeout, context=self.context)
            if proxy is not None:
                conn.set_tunnel(self.host, self.port, headers=proxy.headers)
        else:
            conn = http.client.HTTPConnection(host, port, timeout=timeout)
        conn.response_class = _HTTPResponse
        try:
            conn.connect()
        except Exception as exc:
            conn.close()
            raise self.failure(exc, connected=False) from None
        self.conn = conn
        return conn

    def failure(self, exc: BaseException, *, connected: bool) -> TransportError:
        """What went wrong, as a TransportError."""
        if isinstance(exc, ssl.SSLCertVerificationError):
            kind = "tls-name" if exc.verify_code == HOSTNAME_MISMATCH else "tls-verify"
            return TransportError(kind, _one_line(exc.verify_message or exc.reason or "not trusted"))
        if isinstance(exc, ssl.SSLError):
            return TransportError("tls", _one_line(exc.reason or exc))
        if isinstance(exc, TimeoutError):
            return TransportError("timeout", "timed out")
        if self.proxy is not None and not connected and isinstance(exc, OSError) and not exc.strerror:
            return TransportError("proxy", _one_line(exc))  # "Tunnel connection failed: 407 ..."
        if isinstance(exc, http.client.RemoteDisconnected):
            return TransportError("incomplete", "no answer at all")
        if isinstance(exc, http.client.IncompleteRead):
            return TransportError("incomplete", "part of a chunked answer never came")
        if isinstance(exc, ChunkSizeError):
            return TransportError("malformed", str(exc))
        if isinstance(exc, http.client.HTTPException):  # a malformed status line, header or chunk
            name = type(exc).__name__
            if self.proxy is not None and not connected:  # the proxy's answer to CONNECT
                where = _authority(self.proxy.host, self.proxy.port, 80)
                return TransportError("proxy", f"the proxy {where} sent an answer that is not valid HTTP ({name})")
            if self.proxy is not None and not self.https:  # whose garbage it is cannot be told
                name += f"; it came through the proxy {_authority(self.proxy.host, self.proxy.port, 80)}"
            return TransportError("malformed", _one_line(name))
        if isinstance(exc, OSError):
            why = _one_line(exc.strerror or str(exc) or type(exc).__name__)
            if self.proxy is not None and not connected:
                return TransportError("proxy-connect", f"{_authority(self.proxy.host, self.proxy.port, 80)}: {why}")
            return TransportError("broken" if connected else "connect", why)
        return TransportError("other", _one_line(str(exc) or type(exc).__name__))


    def certificate_names(self, context: ssl.SSLContext, timeout: float) -> list[str]:
        """The names the ZVM's certificate holds (DNS names and IP addresses),
        read over a connection of its own with `context` (which must not check
        the host name); [] when they cannot be read."""
        proxy = self.proxy
        host, port = (proxy.host, proxy.port) if proxy is not None else (self.host, self.port)
        conn = http.client.HTTPSConnection(host, port, timeout=timeout, context=context)
        if proxy is not None:
            conn.set_tunnel(self.host, self.port, headers=proxy.headers)
        try:
            conn.connect()
            cert = conn.sock.getpeercert() if isinstance(conn.sock, ssl.SSLSocket) else None
        except (OSError, http.client.HTTPException):
            return []
        finally:
            conn.close()
        found: dict[str, Any] = dict(cert or {})
        names = [str(pair[1]) for pair in found.get("subjectAltName", ()) if pair[0] in ("DNS", "IP Address")]
        if not names:
            names = [str(pair[1]) for rdn in found.get("subject", ()) for pair in rdn if pair[0] == "commonName"]
        return names


class Proxy:
    __slots__ = ("headers", "host", "port")

    def __init__(self, host: str, port: int, headers: dict[str, str]) -> None:
        self.host, self.port, self.headers = host, port, headers


def proxy_for(scheme: str, host: str) -> Proxy | None:
    """The proxy the environment names for `scheme` (http/https) and `host`,
    or None (none set, or NO_PROXY covers the host)."""
    if not any(name.lower().endswith("_proxy") for name in os.environ):
        return None  # the common case, without importing urllib.request
    import urllib.request

    proxies = urllib.request.getproxies_environment()
    url = proxies.get(scheme) or proxies.get("all")
    # (proxy_bypass_environment: what urllib's own ProxyHandler uses for NO_PROXY; not in typeshed)
    if not url or urllib.request.proxy_bypass_environment(host, proxies):  # type: ignore[attr-defined]
        return None
    if "://" not in url:
        url = "http://" + url
    try:
        parts = urlsplit(url)
        port = parts.port or 80
        bad = any(ord(c) <= 0x20 or c == "\x7f" for c in parts.hostname or "")
    except ValueError:
        bad = True
    if bad:  # (never shown: it may hold the proxy's password)
        names = [n for n in os.environ if n.lower() in (f"{scheme}_proxy", "all_proxy")]
        raise TransportError("proxy", f"the proxy URL in {' or '.join(sorted(names)) or 'the environment'} is "
                             "not a valid URL") from None
    if parts.scheme != "http" or not parts.hostname:
        raise TransportError("proxy", f"{parts.scheme}://{parts.hostname or ''}: only http:// proxies are supported")
    headers = {}
    if parts.username is not None:
        who = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        headers["Proxy-Authorization"] = "Basic " + b64encode(who.encode()).decode("ascii")
    return Proxy(parts.hostname, port, headers)


def _authority(host: str, port: int, default: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return shown if port == default else f"{shown}:{port}"


def _one_line(value: Any) -> str:
    return " ".join(str(value).split())
