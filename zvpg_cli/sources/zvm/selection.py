"""Which sites a command reads: the --sites file's, then each --zvm, only
the one --site names; one site for a command that reads one. Usage errors
are a `ConfigError` (one line); what to say on every run (no TLS
verification, plain http://) comes back as data, for the caller to show."""

from __future__ import annotations

from typing import NamedTuple

from .sites import ConfigError, Site, command_line_layer, load_sites, site_from_url


class Selection(NamedTuple):
    sites: list[Site]
    #: one line each, to show on every run (without "zvpg: warning: ")
    warnings: tuple[str, ...] = ()


def select_sites(*, zvm: list[str] | None, sites: str | None, auth: str = "auto", user: str | None = None,
                 password_file: str | None = None, client_id: str | None = None,
                 client_secret_file: str | None = None, ca_bundle: str | None = None, insecure: bool = False,
                 allow_http: bool = False, timeout: float = 30.0, site: str | None = None) -> Selection:
    """The sites the connection options name (the --sites file's first, then
    each --zvm; only the one named `site` with --site), and the warnings
    about sites read without TLS verification or over plain http://.
    Raises `ConfigError` (none named: "give the ZVM to read")."""
    if not zvm and not sites:
        raise ConfigError("", "give the ZVM to read: --zvm URL (or --sites FILE)")
    base = command_line_layer(auth=auth, user=user, password_file=password_file, client_id=client_id,
                              client_secret_file=client_secret_file, ca_bundle=ca_bundle, insecure=insecure,
                              allow_http=allow_http, timeout=timeout)
    found = load_sites(sites, base) if sites else []
    found += [site_from_url(url, base) for url in zvm or []]
    if site is not None:
        picked = [s for s in found if s.name == site]
        if not picked:
            shown = ", ".join(s.name for s in found[:10]) + (", ..." if len(found) > 10 else "")
            raise ConfigError("", f"--site {site}: no site of that name (there are: {shown})")
        found = picked
    _check_proxies(found)
    names = [s.name for s in found]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ConfigError("", f"{twice[0]} is named twice: every site needs its own name")
    warnings = []
    for s in found:
        if s.insecure:
            warnings.append(f"{s.name}: TLS certificate verification is off (--insecure): anyone on the network "
                            "path can read or change the password and the answers")
        if s.url.startswith("http://"):
            warnings.append(f"{s.name}: plain http:// (--allow-http): the credentials and the answers travel "
                            "unencrypted")
    return Selection(found, tuple(warnings))


def _check_proxies(found: list[Site]) -> None:
    """A proxy URL in the environment that cannot be used is a usage error, never shown."""
    import os

    if not any(name.lower().endswith("_proxy") for name in os.environ):
        return
    from urllib.parse import urlsplit

    from .transport import TransportError, proxy_for

    for site in found:
        parts = urlsplit(site.url)
        try:
            proxy_for(parts.scheme, parts.hostname or "")
        except TransportError as exc:
            raise ConfigError("", f"proxy error: {exc.detail}") from None


def one_site(found: list[Site], command: str) -> Site:
    """The one site `command` reads; a `ConfigError` naming the sites to pick from when there are several."""
    if len(found) != 1:
        names = ", ".join(s.name[:100] for s in found[:10]) + (", ..." if len(found) > 10 else "")
        raise ConfigError("", f"{command} reads one ZVM, not {len(found)}: pick one with --site NAME ({names}); "
                          "triage reads several")
    return found[0]
