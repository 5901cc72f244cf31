"""A failure to reach or talk to a ZVM, described in one line that names the
real cause and the real remedy (untrusted text clipped and escaped)."""

from __future__ import annotations

from collections.abc import Sequence

from .sites import Site
from .transport import TransportError


def clip(text: str, limit: int = 160) -> str:
    from ...base.sanitize import printable

    text = printable(" ".join(text.split()))
    return text if len(text) <= limit else text[: limit - 1] + "…"


#: What an unlicensed ZVM's error answer says, its `{"Message"}` (zerto-site-health.md
#: section 3, from ZertoApiWrapper issue #95; the HTTP status is not known).
UNLICENSED = "Valid License is not provided"


def unlicensed(message: str) -> bool:
    """Whether an error answer's message is an unlicensed ZVM's, in any case."""
    return message.strip().casefold().startswith(UNLICENSED.casefold())


def _host(site: Site) -> str:
    return site.url.split("://", 1)[1].split("/", 1)[0]


def _hostname(site: Site) -> str:
    from urllib.parse import urlsplit

    return urlsplit(site.url).hostname or _host(site)


def describe(site: Site, exc: TransportError, names: Sequence[str] = ()) -> str:
    """One line saying what went wrong. The host is named where the site's
    name is not already the host; `names` are those of the certificate, for "tls-name"."""
    host = _host(site)
    named = site.name != host
    to, of, peer = (f" to {host}", f" of {host}", host) if named else ("", "", "the ZVM")
    kind, detail = exc.kind, clip(exc.detail)
    if kind == "tls-verify":
        return (f"TLS certificate{of} not verified ({detail}): trust the ZVM's CA or its own certificate with "
                "--ca-bundle FILE, or switch verification off with --insecure")
    if kind == "tls-name":
        hostname = _hostname(site)
        if names:
            more = f" and {len(names) - 5} more" if len(names) > 5 else ""
            shown = ", ".join(clip(n, 80) for n in names[:5]) + more
            return (f"the TLS certificate{of} is not for {hostname}: it names {shown}; use a URL with one of "
                    "these names")
        return f"the TLS certificate{of} is not for {hostname} ({detail})"
    if kind == "tls" and "WRONG_VERSION_NUMBER" in detail:
        return (f"{peer} answered in plain HTTP, not TLS: is the port an http:// one? (give the ZVM's https "
                "port, or an http:// URL with --allow-http)")
    if kind == "tls":
        return f"TLS handshake{to} failed ({detail})"
    if kind == "timeout":
        return "timed out"
    if kind == "proxy":
        return f"proxy error: {detail}"
    if kind == "proxy-connect":
        return f"cannot connect to the proxy {detail}"
    if kind == "incomplete":
        return f"{peer} closed the connection before the answer was complete ({detail})"
    if kind == "malformed":
        return f"{peer} sent an answer that is not valid HTTP ({detail})"
    if kind == "connect":
        return f"cannot connect{to}: {detail}"
    if kind == "broken":
        return f"the connection{to} broke: {detail}"
    return detail


# ---- the exchange ------------------------------------------------------------------------------

