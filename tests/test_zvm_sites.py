"""The configuration side of reading ZVMs, in-process: URLs, secret sources,
the --sites TOML file, the comparison of a ZVM's lists with the knowledge
base. Open-ended input is checked with hypothesis."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zvpg_cli.knowledge.model import KnowledgeBase
from zvpg_cli.sources.zvm.codes import compare, kb_codes, parse_names
from zvpg_cli.sources.zvm.sites import (
    ConfigError,
    Secret,
    SecretSource,
    Site,
    build_site,
    command_line_layer,
    load_sites,
    normalize_url,
    read_secret,
    site_from_url,
)

SECRET = "s3cr3t-Value"


@pytest.mark.parametrize(("raw", "url", "name"), [
    ("https://zvm01:9669", "https://zvm01:9669", "zvm01:9669"),
    ("zvm01:9669", "https://zvm01:9669", "zvm01:9669"),
    ("HTTPS://ZVMA.Example.COM/", "https://zvma.example.com", "zvma.example.com"),
    ("https://zvma/v1/", "https://zvma", "zvma"),
    ("https://proxy/zerto/v1", "https://proxy/zerto", "proxy/zerto"),
    ("https://[::1]:9669", "https://[::1]:9669", "[::1]:9669"),
])
def test_normalize_url(raw: str, url: str, name: str) -> None:
    assert normalize_url(raw) == (url, name)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80), st.text(min_size=6, max_size=30).filter(lambda s: s.strip() == s and "@" not in s))
def test_a_url_never_leaks_a_password(rest: str, password: str) -> None:
    raw = f"https://monitor:{password}@{rest}"
    with pytest.raises(ConfigError, match="credentials in the URL are not accepted") as info:
        normalize_url(raw)
    shown = str(info.value).split(": credentials in the URL are not accepted")[0]
    assert password not in shown or password in rest or password in "https://***@"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=120))
def test_any_url_text_is_either_a_url_or_a_config_error(raw: str) -> None:
    try:
        url, name = normalize_url(raw)
    except ConfigError as exc:
        assert "\n" not in str(exc) and "\x1b" not in str(exc)
    else:
        assert url.startswith(("https://", "http://")) and name and "@" not in url


def test_secrets_are_never_shown(tmp_path: Path) -> None:
    s = Secret(SECRET)
    src = SecretSource("inline", "", s)
    site = Site("paris", "https://zvm", user="monitor", secret=src)
    for text in (repr(s), str(s), repr(src), str(src), repr(site), str(site), f"{site}", f"{s!r}"):
        assert SECRET not in text
    assert s.reveal() == SECRET
    with pytest.raises(TypeError):
        pickle.dumps(s)


def test_where_the_password_comes_from(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("ZVPG_PASSWORD", raising=False)
    assert site_from_url("https://z", command_line_layer(user="u")).secret == SecretSource("prompt")
    monkeypatch.setenv("ZVPG_PASSWORD", SECRET)
    site = site_from_url("https://z", command_line_layer(user="u"))
    assert site.secret == SecretSource("env", "ZVPG_PASSWORD")
    assert read_secret(site).reveal() == SECRET
    pw = tmp_path / "pw"
    pw.write_bytes(b"\xef\xbb\xbf" + SECRET.encode() + b"\n")
    site = site_from_url("https://z", command_line_layer(user="u", password_file=str(pw)))
    assert read_secret(site).reveal() == SECRET  # the file wins over the environment; BOM and newline dropped
    pw.write_text("one\ntwo\n")
    with pytest.raises(ConfigError, match="more than one line"):
        read_secret(site)
    client = site_from_url("https://z", command_line_layer(client_id="c"))
    assert client.secret == SecretSource("env", "ZVPG_CLIENT_SECRET") and client.kind == "keycloak"
    with pytest.raises(ConfigError, match="ZVPG_CLIENT_SECRET is not set"):
        read_secret(client)


def write(path: Path, text: str, mode: int = 0o600) -> str:
    path.write_text(text)
    path.chmod(mode)
    return str(path)


def test_sites_file_layers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ZVPG_PASSWORD", raising=False)
    path = write(tmp_path / "sites.toml", """
[defaults]
user = "monitor"
password_file = "pw/monitor"
ca_bundle = "ca.pem"
timeout = 12

[sites.paris]
url = "https://zvm-paris:9669"
auth = "session"

[sites.lyon]
url = "zvma-lyon"
client_id = "zvpg"
client_secret_env = "LYON_SECRET"
insecure = true
timeout = 5.5

[sites."new york"]
url = "https://zvma-ny"
user = "other"
""")
    base = command_line_layer(timeout=30, ca_bundle="/etc/cli-ca.pem")
    paris, lyon, ny = load_sites(path, base)
    assert paris == Site("paris", "https://zvm-paris:9669", "session", "monitor", None,
                         SecretSource("file", str(tmp_path / "pw" / "monitor")), str(tmp_path / "ca.pem"),
                         False, False, 12.0)
    assert (lyon.client_id, lyon.user, lyon.secret, lyon.insecure, lyon.timeout, lyon.kind) == \
        ("zvpg", None, SecretSource("env", "LYON_SECRET"), True, 5.5, "keycloak")
    assert (ny.name, ny.user, ny.secret.kind) == ("new york", "other", "file")


@pytest.mark.parametrize(("text", "needle"), [
    ("[sites.a]\nurl = 'https://a'\nuser = 'u'\ntimeout = 'x'\n", "timeout must be a number"),
    ("[sites.a]\nurl = 'https://a'\nuser = 'u'\ninsecure = 'yes'\n", "insecure must be true or false"),
    ("[sites.a]\nurl = 'https://a'\nuser = 'u'\npassword_env = 'A'\npassword_file = 'b'\n", "only one of"),
    ("[sites.a]\nurl = 'https://a'\nuser = 'u'\nclient_id = 'c'\n", "either user or client_id"),
    ("[sites.a]\nuser = 'u'\n", "no url"),
    ("[sites.a]\nurl = 'http://a'\nuser = 'u'\n", "--allow-http"),
    ("[sites.a]\nurl = 'https://a'\nuser = 'u'\nauth = 'ntlm'\n", "auth must be one of"),
    ("[defaults]\nurl = 'https://a'\n[sites.a]\nuser = 'u'\n", "[defaults]: unknown key 'url'"),
    ("[site.a]\nurl = 'https://a'\n", "unknown top-level key 'site'"),
    ("[sites]\n", "no sites"),
    ("sites = 3\n", "no sites"),
    ("[sites.a\n", "not valid TOML"),
])
def test_sites_file_errors(tmp_path: Path, text: str, needle: str) -> None:
    path = write(tmp_path / "s.toml", text)
    with pytest.raises(ConfigError) as info:
        load_sites(path)
    assert needle in str(info.value) and str(info.value).startswith(path)


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_inline_secret_needs_a_private_file(tmp_path: Path) -> None:
    text = f"[defaults]\nclient_secret = '{SECRET}'\n[sites.a]\nurl = 'https://a'\nclient_id = 'c'\n"
    for mode in (0o640, 0o604, 0o620):
        path = write(tmp_path / "s.toml", text, mode)
        with pytest.raises(ConfigError, match="holds a secret") as info:
            load_sites(path)
        assert SECRET not in str(info.value)
    [site] = load_sites(write(tmp_path / "s.toml", text, 0o600))
    assert read_secret(site).reveal() == SECRET
    assert load_sites(write(tmp_path / "t.toml", "[sites.a]\nurl = 'https://a'\nuser = 'u'\n", 0o644))


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.text(min_size=1, max_size=12),
                       st.one_of(st.text(max_size=12), st.booleans(), st.integers(), st.floats(allow_nan=False)),
                       max_size=6))
def test_any_site_table_is_a_site_or_a_config_error(table: dict[str, object]) -> None:
    try:
        site = build_site("x", [command_line_layer(), {"url": "https://zvm", "user": "u", **table}])
    except ConfigError as exc:
        assert "\n" not in str(exc)
    else:
        assert site.url.startswith("https://") and site.timeout > 0


# ---- codes ----------------------------------------------------------------------------

def zvm_lists(kb: KnowledgeBase, kind: str) -> list[str]:
    pairs = [(code, name) for name, code in kb_codes(kb, kind) if code is not None]
    names = [""] * (1 + max(code for code, _ in pairs))
    for code, name in pairs:
        names[code] = name
    return names


def test_the_knowledge_base_agrees_with_itself(kb: KnowledgeBase) -> None:
    for kind in ("status", "substatus"):
        assert compare(kb, kind, zvm_lists(kb, kind)).agree


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_every_difference_is_reported(kb: KnowledgeBase, data: st.DataObject) -> None:
    kind = data.draw(st.sampled_from(["status", "substatus"]))
    known = {n.casefold(): c for n, c in kb_codes(kb, kind)}
    pool = [n for n, _ in kb_codes(kb, kind)] + ["JournalOrRecoveryMissingError", "AddedVmsInInitialSync", "Zz"]
    names = data.draw(st.lists(st.sampled_from(pool), unique=True, max_size=len(pool)))
    result = compare(kb, kind, names)
    by_kind = {k: [d for d in result.differences if d.kind == k] for k in ("moved", "zvm_only", "kb_only")}
    for code, name in enumerate(names):
        expected = known.get(name.casefold(), "missing")
        if expected == "missing":
            assert any(d.name == name and d.zvm_code == code for d in by_kind["zvm_only"])
        elif expected != code:
            assert any(d.name == name and (d.zvm_code, d.kb_code) == (code, expected) for d in by_kind["moved"])
    listed = {n.casefold() for n in names}
    coded = {n for n, c in known.items() if c is not None}  # names known without a code claim no position
    assert {d.name.casefold() for d in by_kind["kb_only"]} == coded - listed
    assert result.agree == (not result.differences)


def test_parse_names() -> None:
    assert parse_names(b'["None","InitialSync"]') == ["None", "InitialSync"]
    assert parse_names(b"\xef\xbb\xbf[]") == []
    for bad in (b"<html>", b'[1,2]', b'{"a":1}', b"", b'["a"'):
        assert parse_names(bad) is None


def test_cache_dir_env_isolated() -> None:
    assert os.environ["ZVPG_CACHE_DIR"]  # conftest gives every test its own cache folder


def test_the_example_sites_file_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ZVPG_PASSWORD", raising=False)
    example = Path(__file__).resolve().parent.parent / "examples" / "sites.toml"
    paris, lyon, ny, lab = load_sites(str(example))
    folder = str(example.parent)
    assert (paris.name, paris.auth, paris.user, paris.secret, paris.timeout) == \
        ("paris", "session", "svc-zvpg", SecretSource("env", "ZVPG_PASSWORD"), 20.0)
    assert paris.ca_bundle == os.path.join(folder, "certs/corporate-ca.pem")
    assert (lyon.secret, lyon.ca_bundle) == (SecretSource("file", os.path.join(folder, "secrets/lyon.password")),
                                             os.path.join(folder, "certs/zvma-lyon.pem"))
    assert (ny.name, ny.client_id, ny.user, ny.secret, ny.timeout, ny.kind) == \
        ("new-york", "zvpg-monitor", None, SecretSource("env", "NY_CLIENT_SECRET"), 45.0, "keycloak")
    assert (lab.insecure, lab.auth, lab.user) == (True, "auto", "svc-zvpg")


def test_a_fifo_as_password_or_sites_file_is_refused_at_once(tmp_path: Path) -> None:
    """Opening a FIFO for reading blocks until a writer comes: zvpg must not wait for one."""
    from conftest import run_zvpg

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for args in (["--zvm", "https://127.0.0.1:1", "--user", "m", "--password-file", str(fifo)],
                 ["--sites", str(fifo)]):
        p = run_zvpg("fetch", "vpgs", *args, timeout=20)
        assert p.returncode == 2 and b"not a regular file" in p.stderr and p.stderr.count(b"\n") == 1
