"""The connection options that every command reading ZVMs shares (annotate,
triage, and fetch and codes in cli/fetch.py), declared once.

Nothing here imports the network code or the zvm package at start-up: `explain` and
`list` must not pay for them. (No `from __future__ import annotations`: Typer
reads every command's signature on every run, and string annotations cost it
an eval each.)
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import Enum
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

import typer

from .app import fail, options_into
from .exits import EXIT_USAGE

if TYPE_CHECKING:
    from ..output.progress import Progress
    from ..sources.zvm.sites import Site

PANEL = "ZVM connection"


class AuthChoice(str, Enum):
    auto = "auto"
    session = "session"
    keycloak = "keycloak"


#: The connection options, declared once: a command takes them as
#: ``zvm: list[str] | None = ZVM_OPTIONS["zvm"]`` and so on, then calls
#: `sites_from_options`.
ZVM_OPTIONS: dict[str, Any] = {
    "zvm": typer.Option(
        None, "--zvm", metavar="URL", rich_help_panel=PANEL,
        help="Read from this ZVM (https://zvm:9669 for a Windows ZVM, https://zvma for an appliance). "
        "Repeatable."),
    "sites": typer.Option(
        None, "--sites", metavar="FILE", rich_help_panel=PANEL,
        help="A TOML file naming several ZVMs and how to log in to each (see docs/zvm.md)."),
    "auth": typer.Option(
        AuthChoice.auto, "--auth", case_sensitive=False, rich_help_panel=PANEL,
        help="session: a Windows ZVM (x-zerto-session); keycloak: a ZVM Appliance (Bearer token); "
        "auto: find out (and remember it)."),
    "user": typer.Option(
        None, "--user", metavar="NAME", rich_help_panel=PANEL,
        help="Log in as NAME. The password comes from $ZVPG_PASSWORD, --password-file, or a prompt "
        "on the terminal; never from the command line."),
    "password_file": typer.Option(
        None, "--password-file", metavar="FILE", rich_help_panel=PANEL,
        help="Read the password from FILE (its first line)."),
    "client_id": typer.Option(
        None, "--client-id", metavar="ID", rich_help_panel=PANEL,
        help="Log in to an appliance as this Keycloak client (client credentials); the secret comes from "
        "$ZVPG_CLIENT_SECRET or --client-secret-file."),
    "client_secret_file": typer.Option(
        None, "--client-secret-file", metavar="FILE", rich_help_panel=PANEL,
        help="Read the client secret from FILE."),
    "ca_bundle": typer.Option(
        None, "--ca-bundle", metavar="FILE", rich_help_panel=PANEL,
        help="Trust the certificates in FILE (PEM): the ZVM's own CA or its self-signed certificate."),
    "insecure": typer.Option(
        False, "--insecure", rich_help_panel=PANEL,
        help="Do not verify the ZVM's TLS certificate (zvpg says so on every run)."),
    "allow_http": typer.Option(
        False, "--allow-http", rich_help_panel=PANEL,
        help="Allow a plain http:// URL, which sends the credentials unencrypted."),
    "site": typer.Option(
        None, "--site", metavar="NAME", rich_help_panel=PANEL,
        help="With --sites: only the site of that name (a command that reads one ZVM needs one)."),
    "timeout": typer.Option(
        30.0, "--timeout", min=0.1, metavar="SECONDS", rich_help_panel=PANEL,
        help="Give up on a ZVM whose whole exchange (login, retries, answer) takes longer."),
    "vms": typer.Option(
        False, "--vms", rich_help_panel=PANEL,
        help="With --zvm/--sites: read GET /v1/vms (one object per VM) instead of /v1/vpgs."),
    "parallel": typer.Option(
        32, "--parallel", min=1, max=256, metavar="N", rich_help_panel=PANEL,
        help="Read at most N ZVMs at a time."),
    "quiet": typer.Option(
        False, "--quiet", "-q", rich_help_panel=PANEL,
        help="Show no progress while waiting on ZVMs (it is shown only when stderr is a terminal)."),
}


#: The type of each connection option, as a command's signature declares it.
_TYPES: dict[str, Any] = {
    "zvm": list[str] | None, "sites": str | None, "auth": AuthChoice, "user": str | None,
    "password_file": str | None, "client_id": str | None, "client_secret_file": str | None,
    "ca_bundle": str | None, "insecure": bool, "allow_http": bool, "site": str | None, "timeout": float, "vms": bool,
    "parallel": int, "quiet": bool,
}


class Connection(NamedTuple):
    """The connection options a command was given (see `with_connection`)."""

    zvm: list[str] | None
    sites: str | None
    auth: AuthChoice
    user: str | None
    password_file: str | None
    client_id: str | None
    client_secret_file: str | None
    ca_bundle: str | None
    insecure: bool
    allow_http: bool
    timeout: float
    vms: bool = False  # read GET /v1/vms rather than /v1/vpgs (annotate, triage)
    parallel: int = 32
    site: str | None = None  # --site: one entry of the --sites file
    quiet: bool = False  # --quiet: no progress on the terminal

    @property
    def given(self) -> bool:
        """Whether the command is to read from ZVMs (rather than a file)."""
        return bool(self.zvm or self.sites)

    def read_sites(self) -> "list[Site]":
        """The sites these options name; see `sites_from_options`."""
        options = self._asdict()
        for key in ("parallel", "vms", "quiet"):
            del options[key]
        return sites_from_options(**options)


_Command = TypeVar("_Command", bound=Callable[..., Any])


def with_connection(*, parallel: bool = False, payloads: bool = False) -> Callable[[_Command], _Command]:
    """Give a command the shared connection options (`--zvm`, `--sites`,
    `--user`, ... and, with `parallel`, `--parallel`; with `payloads`, `--vms`),
    declared once here: the command takes a `conn: Connection`
    parameter instead of a dozen."""
    return options_into("conn", {n: (option, _TYPES[n]) for n, option in ZVM_OPTIONS.items()
                                 if (parallel or n != "parallel") and (payloads or n != "vms")}, Connection)


def sites_from_options(*, zvm: list[str] | None, sites: str | None, auth: AuthChoice | str = "auto",
                       user: str | None = None, password_file: str | None = None, client_id: str | None = None,
                       client_secret_file: str | None = None, ca_bundle: str | None = None,
                       insecure: bool = False, allow_http: bool = False, timeout: float = 30.0,
                       site: str | None = None, required: bool = True, failer: Any = fail) -> "list[Site]":
    """The sites the connection options name (`zvm.selection.select_sites`),
    or exit 2 with one line. Shows its warnings on stderr, on every run
    (under --nagios they join the plugin's long text: `writer.hold_errors`)."""
    from ..base.sanitize import printable
    from ..base.writer import error
    from ..sources.zvm.selection import select_sites
    from ..sources.zvm.sites import ConfigError

    if not zvm and not sites and not required:
        return []
    try:
        chosen = select_sites(zvm=zvm, sites=sites, auth=auth.value if isinstance(auth, AuthChoice) else str(auth),
                              user=user, password_file=password_file, client_id=client_id,
                              client_secret_file=client_secret_file, ca_bundle=ca_bundle, insecure=insecure,
                              allow_http=allow_http, timeout=timeout, site=site)
    except ConfigError as exc:
        failer(printable(str(exc)), EXIT_USAGE)
    for warning in chosen.warnings:
        error(printable(f"zvpg: warning: {warning}"))
    return chosen.sites


def one_site(found: "list[Site]", command: str) -> "Site":
    """The one site `command` reads (`zvm.selection.one_site`), or exit 2 naming the sites to pick from."""
    from ..sources.zvm.selection import one_site as pick
    from ..sources.zvm.sites import ConfigError

    try:
        return pick(found, command)
    except ConfigError as exc:
        from ..base.sanitize import printable

        fail(printable(str(exc)), EXIT_USAGE)


@contextmanager
def watching(found: "list[Site]", *, quiet: bool = False, nagios: bool = False) -> "Iterator[Progress | None]":
    """The observer to hand to a read of `found` (`zvm.fetch.Observer`): the
    progress display of output/progress.py where stderr is a terminal; None
    elsewhere, with --quiet, or under --nagios (a plugin prints its answer and
    nothing else). Ctrl-C during the read stops it at once: the display says
    how many sites had answered, and the KeyboardInterrupt goes on to the
    entry point, which gives the final answer (exit 130)."""
    if quiet or nagios:
        yield None
        return
    from ..output.progress import Progress, terminal_mode

    mode = terminal_mode()
    if mode is None:
        yield None
        return
    progress = Progress(found, mode)
    try:
        yield progress
    finally:
        progress.close()
