"""The TLS settings of a site: the system's trust store, or the site's CA
bundle (read by zvpg, outside any shared lock), or none with --insecure."""

from __future__ import annotations

import ssl
import threading

from .sites import ConfigError, Site

_contexts: dict[tuple[str | None, bool], ssl.SSLContext] = {}
_contexts_lock = threading.Lock()


def ssl_context(site: Site) -> ssl.SSLContext:
    """The TLS settings of a site, shared by the sites that have the same.
    The system's trust store by default (as curl and browsers do); with a CA
    bundle, that file only, where a self-signed certificate or an
    intermediate counts as a trust anchor (partial chains). The bundle is
    read outside the lock (a file that cannot be read fails its own site only)."""
    key = (None if site.insecure else site.ca_bundle, site.insecure)
    with _contexts_lock:
        ctx = _contexts.get(key)
    if ctx is None:
        ctx = new_context(site)
        with _contexts_lock:
            ctx = _contexts.setdefault(key, ctx)
    return ctx


#: A CA bundle larger than this is refused unread (the whole Mozilla set is some 220 KB).
MAX_CA_BYTES = 16 * 1024 * 1024


def new_context(site: Site) -> ssl.SSLContext:
    if site.insecure:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx
    if not site.ca_bundle:
        return ssl.create_default_context()
    from ...base.files import FileError, read_file

    try:
        data, _ = read_file(site.ca_bundle, "the CA bundle", MAX_CA_BYTES)
    except FileError as exc:
        raise ConfigError(site.name, str(exc)) from None
    import re

    # the certificates only, as OpenSSL reads a CA file: text around them (comments) is skipped
    blocks = re.findall(rb"-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]*-----END CERTIFICATE-----", data)
    try:
        if not blocks:
            raise ssl.SSLError("no certificate")
        ctx = ssl.create_default_context(cadata=b"\n".join(blocks).decode("ascii"))
    except ssl.SSLError:
        raise ConfigError(site.name, f"{site.ca_bundle}: the CA bundle holds no PEM certificate") from None
    ctx.verify_flags |= getattr(ssl, "VERIFY_X509_PARTIAL_CHAIN", 0)
    return ctx
