"""Reading VPGs straight from ZVMs (Windows ZVMs and ZVM Appliances).

A source layer that knows nothing about rendering::

    from zvpg_cli.sources.zvm import fetch_all, load_sites, site_from_url

    sites = [site_from_url("https://zvm01:9669")]      # + the command line's options
    for r in fetch_all(sites, "/v1/vpgs", {}):
        r.site.name, r.body, r.error                    # exact bytes, or one line

`sites` (Site, load_sites, ZvmError) imports nothing heavy; `fetch` imports
the network code (`ssl`, `http.client`) when it runs. The names here are imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .fetch import SiteResult, fetch_all, fetch_each
    from .sites import (
        ConfigError,
        Secret,
        SecretSource,
        Site,
        ZvmError,
        build_site,
        command_line_layer,
        load_sites,
        site_from_url,
    )

__all__ = ["ConfigError", "Secret", "SecretSource", "Site", "SiteResult", "ZvmError", "build_site",
           "command_line_layer", "fetch_all", "fetch_each", "load_sites", "site_from_url"]

_FETCH = ("SiteResult", "fetch_all", "fetch_each")


def __getattr__(name: str) -> Any:
    if name in _FETCH:
        from . import fetch

        return getattr(fetch, name)
    if name in __all__:
        from . import sites

        return getattr(sites, name)
    raise AttributeError(name)
