"""Which ZVMs to read and how to log in to them: `Site`, where a site's
password or client secret comes from (`SecretSource`), the --sites TOML file.

Nothing here talks to the network or imports an HTTP client. A secret is only
ever held in a `Secret`, whose repr and str hide it, so that no Site, error
message or traceback can show it.
"""

from __future__ import annotations

import os
import re
import stat
import sys
from collections.abc import Mapping
from typing import Any, NamedTuple

AUTH_KINDS = ("auto", "session", "keycloak")
DEFAULT_TIMEOUT = 30.0
#: A sites file or a secret file larger than this is refused unread.
MAX_CONFIG_BYTES = 1024 * 1024
#: Where the command line's credentials come from, when no file names them.
PASSWORD_ENV = "ZVPG_PASSWORD"
CLIENT_SECRET_ENV = "ZVPG_CLIENT_SECRET"


class ZvmError(Exception):
    """A ZVM that cannot be read, or a configuration that cannot be used.
    `str()` is one line naming the site (or file); it never holds a secret."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(where, message)
        self.where = where
        self.message = message

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class ConfigError(ZvmError):
    """Options, a sites file or a secret source that cannot be used (exit 2)."""


class Secret:
    """A password, client secret or token. Shown as ``Secret(hidden)``."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret(hidden)"

    __str__ = __repr__

    def __reduce__(self) -> Any:  # never pickled with its value
        raise TypeError("a Secret cannot be pickled")


class SecretSource(NamedTuple):
    """Where a site's password (for `user`) or client secret (for `client_id`)
    comes from: ``env`` (an environment variable's name), ``file`` (a path),
    ``prompt`` (asked on the terminal), ``inline`` (written in the sites file),
    or ``none``."""

    kind: str = "none"
    where: str = ""
    value: Secret | None = None

    def __repr__(self) -> str:
        if self.kind in ("env", "file"):
            return f"SecretSource({self.kind}={self.where!r})"
        return f"SecretSource({self.kind})"

    def __str__(self) -> str:
        return self.__repr__()


class Site(NamedTuple):
    """One ZVM and how to log in to it. Holds where the secret comes from, never the secret."""

    name: str
    url: str
    auth: str = "auto"
    user: str | None = None
    client_id: str | None = None
    secret: SecretSource = SecretSource()
    ca_bundle: str | None = None
    insecure: bool = False
    allow_http: bool = False
    timeout: float = DEFAULT_TIMEOUT

    @property
    def principal(self) -> str:
        """Who logs in: ``user:NAME`` or ``client:ID`` (the cache is kept per URL and principal)."""
        return f"client:{self.client_id}" if self.client_id else f"user:{self.user}"

    @property
    def kind(self) -> str | None:
        """``session`` or ``keycloak`` when known before talking to the ZVM, else None."""
        if self.auth != "auto":
            return self.auth
        return "keycloak" if self.client_id else None


# ---- URLs ---------------------------------------------------------------------------------

def normalize_url(raw: str) -> tuple[str, str]:
    """(base URL, display name) of a ZVM URL given by the user. ``zvm:9669`` means
    ``https://zvm:9669``; a trailing ``/`` or ``/v1`` is dropped. Credentials,
    queries and fragments in the URL are refused (and never echoed)."""
    from urllib.parse import quote, urlsplit

    from ...base.sanitize import printable

    text = raw.strip()
    if not text:
        raise ConfigError("", "empty ZVM URL")
    shown = printable(_without_userinfo(text))[:200]
    if not is_text(text):
        raise ConfigError("", f"{shown}: not valid UTF-8 text")
    if "@" in text:  # user:password@host, however malformed: refused, and never echoed
        raise ConfigError("", f"{shown}: credentials in the URL are not accepted "
                          "(use --user with ZVPG_PASSWORD, --password-file or the prompt)")
    if "://" not in text:
        text = "https://" + text
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise ConfigError("", f"not a valid URL: {shown}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise ConfigError("", f"{shown}: not an https:// URL")
    host = (parts.hostname or "").lower()
    if not host:
        raise ConfigError("", f"{shown}: no host name")
    if _UNSENDABLE.search(host):
        raise ConfigError("", f"{shown}: not a valid host name (a space or a control character)")
    if _UNSENDABLE.search(parts.path):
        raise ConfigError("", f"{shown}: a URL's path cannot hold a space or a control character "
                          "(write a space as %20)")
    if parts.query or parts.fragment:
        raise ConfigError("", f"{shown}: give the ZVM's base URL, without a query or fragment "
                          "(e.g. https://zvm:9669)")
    path = quote(parts.path.rstrip("/"), safe=_VISIBLE)  # non-ASCII as %-escaped UTF-8, as browsers send it
    if path.lower().endswith("/v1"):
        path = path[:-3]
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    return f"{scheme}://{netloc}{path}", netloc + path


#: What cannot go into a request line or a Host header: spaces and control characters.
_UNSENDABLE = re.compile(r"[\x00-\x20\x7f-\x9f]")
_VISIBLE = "".join(map(chr, range(0x21, 0x7F)))


def is_text(value: str) -> bool:
    """Whether `value` is valid Unicode text: a command-line argument or an
    environment variable holding a byte that is not UTF-8 arrives with a lone
    surrogate in it (Python's surrogateescape), which no request can carry."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _without_userinfo(raw: str) -> str:
    """`raw` with everything between the scheme and the last ``@`` hidden, so
    that no password can be shown, however the URL is malformed."""
    if "@" not in raw:
        return raw
    scheme, sep, _ = raw.partition("://")
    head = f"{scheme}{sep}" if sep and "@" not in scheme else ""
    return f"{head}***@{raw.rsplit('@', 1)[1]}"


# ---- secrets -------------------------------------------------------------------------------

def read_secret(site: Site, *, prompt: bool = True) -> Secret:
    """The site's password or client secret. Raises ConfigError (naming the
    source, never the value), or `NeedPrompt` when it must be asked on the
    terminal and `prompt` is False."""
    src = site.secret
    what = f"client secret for client {site.client_id}" if site.client_id else f"password for user {site.user}"
    if src.kind == "inline" and src.value is not None:
        return src.value
    if src.kind == "env":
        value = os.environ.get(src.where, "")
        if not value:
            hint = {PASSWORD_ENV: " (or give --password-file FILE)",
                    CLIENT_SECRET_ENV: " (or give --client-secret-file FILE)"}.get(src.where, "")
            raise ConfigError(site.name, f"no {what}: the environment variable {src.where} is not set{hint}")
        if not is_text(value):
            raise ConfigError(site.name, f"the {what} in the environment variable {src.where} is not valid UTF-8 "
                              "text")
        return Secret(value)
    if src.kind == "file":
        return Secret(_read_secret_file(site.name, src.where, what))
    if src.kind == "prompt":
        if not _stdin_is_terminal():
            raise ConfigError(site.name, f"no {what}: set {PASSWORD_ENV} or use --password-file "
                              "(zvpg asks on the terminal only when stdin is one)")
        if not prompt:
            raise NeedPrompt(site.name)
        import getpass

        value = getpass.getpass(f"Password for {site.user} at {site.name}: ")
        if not value:
            raise ConfigError(site.name, f"no {what}: nothing was typed")
        if not is_text(value):
            raise ConfigError(site.name, f"the {what} typed is not valid UTF-8 text")
        return Secret(value)
    hint = (f"set {CLIENT_SECRET_ENV} or use --client-secret-file" if site.client_id
            else f"set {PASSWORD_ENV} or use --password-file")
    raise ConfigError(site.name, f"no {what}: {hint}")


class NeedPrompt(Exception):
    """The password must be asked on the terminal (by the main thread)."""


def _stdin_is_terminal() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


def _read_secret_file(site: str, path: str, what: str) -> str:
    from ...base.files import FileError, read_file

    try:
        data, st = read_file(path, f"the {what}", MAX_CONFIG_BYTES)
    except FileError as exc:
        raise ConfigError(site, str(exc)) from None
    if os.name == "posix" and st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        from ...base.cachefs import warn_once

        warn_once(f"{path} (the {what}) can be read or changed by group or others: chmod 600 {path}")
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        raise ConfigError(site, f"{path}: the {what} is not UTF-8 text") from None
    text = text.removesuffix("\n").removesuffix("\r")
    if not text:
        raise ConfigError(site, f"{path} is empty: it should hold the {what}")
    if "\n" in text or "\r" in text:
        raise ConfigError(site, f"{path} holds more than one line: it should hold only the {what}")
    return text


# ---- building sites ------------------------------------------------------------------------

#: Keys of a site's table (and of [defaults]) in a sites file.
SITE_KEYS = ("url", "auth", "user", "client_id", "password_env", "password_file", "password",
             "client_secret_env", "client_secret_file", "client_secret", "ca_bundle", "insecure",
             "allow_http", "timeout")
_PASSWORD_KEYS = ("password_env", "password_file", "password")
_CLIENT_SECRET_KEYS = ("client_secret_env", "client_secret_file", "client_secret")
_STRINGS = ("url", "auth", "user", "client_id", "password_env", "password_file", "password",
            "client_secret_env", "client_secret_file", "client_secret", "ca_bundle")


def command_line_layer(*, auth: str = "auto", user: str | None = None, password_file: str | None = None,
                       client_id: str | None = None, client_secret_file: str | None = None,
                       ca_bundle: str | None = None, insecure: bool = False, allow_http: bool = False,
                       timeout: float = DEFAULT_TIMEOUT) -> dict[str, Any]:
    """The command line's connection options as the lowest layer of a site's
    settings. The password comes from --password-file, else $ZVPG_PASSWORD,
    else the terminal; a client secret from --client-secret-file, else
    $ZVPG_CLIENT_SECRET."""
    layer: dict[str, Any] = {"auth": auth, "insecure": insecure, "allow_http": allow_http, "timeout": timeout}
    if user is not None:
        layer["user"] = user
    if client_id is not None:
        layer["client_id"] = client_id
    if password_file is not None:
        layer["password_file"] = password_file
    elif os.environ.get(PASSWORD_ENV):
        layer["password_env"] = PASSWORD_ENV
    else:
        layer["password_prompt"] = True
    if client_secret_file is not None:
        layer["client_secret_file"] = client_secret_file
    else:
        layer["client_secret_env"] = CLIENT_SECRET_ENV
    if ca_bundle is not None:
        layer["ca_bundle"] = ca_bundle
    return layer


def site_from_url(url: str, base: Mapping[str, Any] | None = None, *, name: str | None = None) -> Site:
    """A Site for a --zvm URL with the command line's options (`command_line_layer`)."""
    return build_site(name, [dict(base or command_line_layer()), {"url": url}])


def build_site(name: str | None, layers: list[Mapping[str, Any]]) -> Site:
    """A Site from layers of settings, least specific first (command line,
    [defaults], the site's own table). Who logs in (user or client_id) and each
    secret source come whole from the most specific layer that sets them."""
    label = name or ""
    merged: dict[str, Any] = {}
    for layer in layers:
        merged.update({k: v for k, v in layer.items() if k in ("url", "auth", "ca_bundle", "insecure",
                                                                "allow_http", "timeout")})
    url = merged.get("url")
    if not url:
        raise ConfigError(label, "no url")
    base_url, shown = normalize_url(str(url))
    label = name or shown
    auth = str(merged.get("auth", "auto")).lower()
    if auth not in AUTH_KINDS:
        raise ConfigError(label, f"auth must be one of {', '.join(AUTH_KINDS)}, not {auth[:40]!r}")
    user = client_id = None
    for layer in reversed(layers):
        if layer.get("user") is not None and layer.get("client_id") is not None:
            raise ConfigError(label, "give either a user or a client id, not both")
        if layer.get("client_id") is not None:
            client_id = str(layer["client_id"])
            break
        if layer.get("user") is not None:
            user = str(layer["user"])
            break
    if client_id is not None and auth == "session":
        raise ConfigError(label, "a client id (Keycloak client credentials) needs --auth keycloak or auto; "
                          "a Windows ZVM's session login takes --user")
    if user is None and client_id is None:
        raise ConfigError(label, "no user: give --user NAME (or --client-id ID for a Keycloak client)")
    if not is_text(user or client_id or ""):
        raise ConfigError(label, f"the {'client id' if client_id else 'user name'} is not valid UTF-8 text")
    secret = _secret_source(layers, _CLIENT_SECRET_KEYS if client_id else _PASSWORD_KEYS)
    timeout = merged.get("timeout", DEFAULT_TIMEOUT)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout <= 86400:
        raise ConfigError(label, "timeout must be a number of seconds above 0 and at most 86400 (a day)")
    insecure, allow_http = bool(merged.get("insecure", False)), bool(merged.get("allow_http", False))
    if base_url.startswith("http://") and not allow_http:
        raise ConfigError(label, "http:// would send the credentials unencrypted: use https://, "
                          "or --allow-http (allow_http = true) if you really mean it")
    ca_bundle = merged.get("ca_bundle")
    return Site(name=label, url=base_url, auth=auth, user=user, client_id=client_id, secret=secret,
                ca_bundle=str(ca_bundle) if ca_bundle else None, insecure=insecure, allow_http=allow_http,
                timeout=float(timeout))


def _secret_source(layers: list[Mapping[str, Any]], keys: tuple[str, ...]) -> SecretSource:
    env_key, file_key, inline_key = keys
    for layer in reversed(layers):  # each layer names at most one (checked where it is read)
        if layer.get(file_key) is not None:
            return SecretSource("file", str(layer[file_key]))
        if layer.get(env_key) is not None:
            return SecretSource("env", str(layer[env_key]))
        if layer.get(inline_key) is not None:
            return SecretSource("inline", "", Secret(str(layer[inline_key])))
        if inline_key == "password" and layer.get("password_prompt"):
            return SecretSource("prompt")
    return SecretSource()


# ---- the sites file ------------------------------------------------------------------------

def load_sites(path: str, base: Mapping[str, Any] | None = None) -> list[Site]:
    """The sites of a --sites TOML file, in the file's order. `base` is the
    command line's layer (`command_line_layer`); the file's [defaults] table
    and each site's own table override it. Raises ConfigError."""
    data = _read_sites_file(path)
    try:
        from ...base.tomltext import parse_toml

        doc = parse_toml(data)
    except UnicodeDecodeError:
        raise ConfigError(path, "not UTF-8 text") from None
    except ValueError as exc:  # tomllib.TOMLDecodeError
        from ...base.sanitize import printable

        raise ConfigError(path, f"not valid TOML: {printable(str(exc))}") from None
    unknown = sorted(set(doc) - {"defaults", "sites"})
    if unknown:
        raise ConfigError(path, f"unknown top-level key {unknown[0]!r} (expected [defaults] and [sites.NAME] tables)")
    defaults = doc.get("defaults", {})
    sites = doc.get("sites")
    if not isinstance(defaults, dict):
        raise ConfigError(path, "defaults must be a table: [defaults]")
    if not isinstance(sites, dict) or not sites:
        raise ConfigError(path, "no sites: add a [sites.NAME] table with url = \"https://...\" for each ZVM")
    _check_table(path, "[defaults]", defaults, allow_url=False)
    folder = os.path.dirname(os.path.abspath(path))
    defaults = _resolve_paths(defaults, folder)
    inline: list[str] = [f"[defaults] {k}" for k in ("password", "client_secret") if k in defaults]
    out = []
    for name, table in sites.items():
        from ...base.sanitize import printable

        label = printable(str(name))  # the site's name: whole (names that differ after 100 characters differ)
        shown = label if len(label) <= 100 else label[:99] + "…"  # in messages
        if not isinstance(table, dict):
            raise ConfigError(path, f"site {shown!r}: must be a table, [sites.{shown}]")
        _check_table(path, f"site {shown!r}", table, allow_url=True)
        inline += [f"site {shown!r} {k}" for k in ("password", "client_secret") if k in table]
        try:
            out.append(build_site(label, [dict(base or command_line_layer()), defaults,
                                          _resolve_paths(table, folder)]))
        except ConfigError as exc:
            raise ConfigError(path, f"site {shown!r}: {exc.message}") from None
    if inline:
        _refuse_readable_secrets(path, inline[0])
    return out


def _read_sites_file(path: str) -> str:
    from ...base.files import FileError, read_file

    try:
        raw, _ = read_file(path, "the sites file", MAX_CONFIG_BYTES)
    except FileError as exc:
        raise ConfigError(path, exc.reason) from None
    try:
        return raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        raise ConfigError(path, "not UTF-8 text") from None


def _check_table(path: str, where: str, table: Mapping[str, Any], *, allow_url: bool) -> None:
    from ...base.sanitize import printable

    for key, value in table.items():
        if key not in SITE_KEYS or (key == "url" and not allow_url):
            raise ConfigError(path, f"{where}: unknown key {printable(key)[:60]!r} "
                              f"(known: {', '.join(k for k in SITE_KEYS if allow_url or k != 'url')})")
        if key in _STRINGS and not (isinstance(value, str) and value):
            raise ConfigError(path, f"{where}: {key} must be a non-empty string")
        if key in ("insecure", "allow_http") and not isinstance(value, bool):
            raise ConfigError(path, f"{where}: {key} must be true or false")
    for group in (_PASSWORD_KEYS, _CLIENT_SECRET_KEYS):
        given = [k for k in group if k in table]
        if len(given) > 1:
            raise ConfigError(path, f"{where}: give only one of {', '.join(given)}")
    if "user" in table and "client_id" in table:
        raise ConfigError(path, f"{where}: give either user or client_id, not both")


def _resolve_paths(table: Mapping[str, Any], folder: str) -> dict[str, Any]:
    """Relative file names in a sites file are relative to the file's folder."""
    out = dict(table)
    for key in ("password_file", "client_secret_file", "ca_bundle"):
        if isinstance(out.get(key), str):
            out[key] = os.path.join(folder, os.path.expanduser(out[key]))
    return out


def _refuse_readable_secrets(path: str, first: str) -> None:
    """ssh's rule for private keys: a file holding a secret is used only when
    no one else can read it."""
    if os.name != "posix":
        return
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        raise ConfigError(path, f"cannot read: {exc.strerror or exc}") from None
    if mode & (stat.S_IRGRP | stat.S_IROTH | stat.S_IWGRP | stat.S_IWOTH):
        raise ConfigError(path, f"holds a secret ({first}) and is readable or writable by group or others "
                          f"(mode {stat.S_IMODE(mode):04o}): chmod 600 {path}, or keep the secret in a file "
                          "or an environment variable (password_file, password_env)")
