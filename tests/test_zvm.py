"""zvpg fetch / codes against the fake ZVM (tests/fakezvm.py): real HTTPS on
localhost, real subprocesses running the installed CLI, no mocking.

Every test gets its own cache folder (conftest's autouse fixture sets
ZVPG_CACHE_DIR), and the password comes from ZVPG_PASSWORD unless a test says
otherwise."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import trustme
from conftest import KB_FILE, run_zvpg
from fakezvm import FakeZvm

from zvpg_cli.knowledge.kb import load_kb

pytest_plugins = ["fakezvm"]  # zvm_ca, ca_file, windows_zvm, appliance_zvm

PASSWORD = "pa55-W0rd!x"
CLIENT_SECRET = "cl13nt-S3cr3t"
SECRETS = (PASSWORD, CLIENT_SECRET)


def zvpg(*args: str, env: dict[str, str] | None = None, **kw: Any) -> subprocess.CompletedProcess[bytes]:
    return run_zvpg(*args, env={"ZVPG_PASSWORD": PASSWORD, **(env or {})}, **kw)


def fetch(zvm: FakeZvm, ca_file: str, *extra: str, what: str = "vpgs",
          env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    return zvpg("fetch", what, "--zvm", zvm.url, "--user", "monitor", "--ca-bundle", ca_file, *extra, env=env)


def err(p: subprocess.CompletedProcess[bytes]) -> str:
    return p.stderr.decode("utf-8", "replace")


def one_line_error(p: subprocess.CompletedProcess[bytes]) -> str:
    text = err(p)
    assert p.returncode == 2, text
    assert p.stdout == b""
    assert text.startswith("zvpg: ") and text.count("\n") == 1, text
    assert "Traceback" not in text
    return text


def cache_files() -> list[Path]:
    """The cache's files, without the (empty) lock files logins are serialised with."""
    return [p for p in Path(os.environ["ZVPG_CACHE_DIR"]).rglob("*") if p.is_file() and p.suffix != ".lock"]


def assert_no_secret(*texts: bytes | str) -> None:
    for text in texts:
        data = text.encode() if isinstance(text, str) else text
        for secret in SECRETS:
            assert secret.encode() not in data
    for path in cache_files():
        data = path.read_bytes()
        for secret in SECRETS:
            assert secret.encode() not in data, path


# ---- both kinds of ZVM, sessions reused ------------------------------------------------

def test_windows_fetch_is_byte_for_byte_and_the_second_run_reuses_the_session(
        windows_zvm: FakeZvm, ca_file: str) -> None:
    first = fetch(windows_zvm, ca_file)
    assert first.returncode == 0, err(first)
    assert first.stdout == windows_zvm.body_of("/v1/vpgs")
    assert first.stderr == b""
    before = len(windows_zvm.requests)
    second = fetch(windows_zvm, ca_file)
    assert second.returncode == 0 and second.stdout == first.stdout
    assert windows_zvm.logins == 1 and windows_zvm.logouts == 0
    warm = windows_zvm.requests[before:]
    assert [(m, t) for m, t, _ in warm] == [("GET", "/v1/vpgs")]  # exactly one request in the warm run
    files = cache_files()
    assert len(files) == 1 and stat.S_IMODE(files[0].stat().st_mode) == 0o600
    assert stat.S_IMODE(files[0].parent.stat().st_mode) == 0o700


def test_appliance_is_detected_and_remembered(appliance_zvm: FakeZvm, ca_file: str) -> None:
    first = fetch(appliance_zvm, ca_file, what="vms")
    assert first.returncode == 0, err(first)
    assert first.stdout == appliance_zvm.body_of("/v1/vms")
    methods = [(m, t.split("?")[0]) for m, t, _ in appliance_zvm.requests]
    assert methods[:2] == [("POST", "/v1/session/add"),  # 404 on an appliance ...
                           ("POST", "/auth/realms/zerto/protocol/openid-connect/token")]  # ... so Keycloak
    assert appliance_zvm.requests[-1][2]["authorization"].startswith("Bearer ")
    before = len(appliance_zvm.requests)
    second = fetch(appliance_zvm, ca_file, what="vms")
    assert second.returncode == 0 and second.stdout == first.stdout
    assert [(m, t) for m, t, _ in appliance_zvm.requests[before:]] == [("GET", "/v1/vms")]
    assert appliance_zvm.logins == 1


def test_vpg_filter_passes_through(windows_zvm: FakeZvm, ca_file: str) -> None:
    name = windows_zvm.vpgs[1]["VpgName"]  # not ASCII: Zürich-Fileserver-002
    p = fetch(windows_zvm, ca_file, "--vpg", name.upper())
    assert p.returncode == 0, err(p)
    assert json.loads(p.stdout)[0]["VpgName"] == name
    assert windows_zvm.requests[-1][1].lower().startswith("/v1/vpgs?name=")
    p = fetch(windows_zvm, ca_file, "--vpg", name, what="vms")
    assert p.returncode == 0, err(p)
    assert {vm["VpgName"] for vm in json.loads(p.stdout)} == {name}
    assert windows_zvm.requests[-1][1].startswith("/v1/vms?vpgName=")


def test_client_credentials_from_env_and_from_file(appliance_zvm: FakeZvm, ca_file: str, tmp_path: Path) -> None:
    p = zvpg("fetch", "vpgs", "--zvm", appliance_zvm.url, "--client-id", "zvpg-monitor", "--ca-bundle", ca_file,
             env={"ZVPG_CLIENT_SECRET": CLIENT_SECRET})
    assert p.returncode == 0, err(p)
    assert not any(t.startswith("/v1/session") for _, t, _ in appliance_zvm.requests)  # --client-id: Keycloak
    secret_file = tmp_path / "secret"
    secret_file.write_text(CLIENT_SECRET + "\n")
    p = zvpg("fetch", "vpgs", "--zvm", appliance_zvm.url, "--client-id", "zvpg-monitor", "--ca-bundle", ca_file,
             "--client-secret-file", str(secret_file), env={"ZVPG_CACHE_DIR": ""})
    assert p.returncode == 0, err(p)
    assert appliance_zvm.logins == 2
    p = zvpg("fetch", "vpgs", "--zvm", appliance_zvm.url, "--client-id", "zvpg-monitor", "--ca-bundle", ca_file,
             env={"ZVPG_CACHE_DIR": "", "ZVPG_CLIENT_SECRET": ""})
    assert "ZVPG_CLIENT_SECRET" in one_line_error(p)


def test_wrong_password_is_a_clear_error(windows_zvm: FakeZvm, appliance_zvm: FakeZvm, ca_file: str) -> None:
    for zvm in (windows_zvm, appliance_zvm):
        p = fetch(zvm, ca_file, env={"ZVPG_PASSWORD": "wrong-Passw0rd"})
        line = one_line_error(p)
        assert "login refused for user monitor" in line and "wrong user name or password" in line
        assert zvm.failed_logins == 1 and zvm.api_requests == 0
    assert cache_files() == []


def test_auth_session_against_an_appliance_says_what_it_is(appliance_zvm: FakeZvm, ca_file: str) -> None:
    line = one_line_error(fetch(appliance_zvm, ca_file, "--auth", "session"))
    assert "ZVM Appliance" in line and "--auth keycloak" in line


def test_expired_session_logs_in_once_more(windows_zvm: FakeZvm, appliance_zvm: FakeZvm, ca_file: str) -> None:
    assert fetch(windows_zvm, ca_file).returncode == 0
    windows_zvm.expire_all()
    p = fetch(windows_zvm, ca_file)
    assert p.returncode == 0, err(p)
    assert p.stdout == windows_zvm.body_of("/v1/vpgs")
    assert windows_zvm.logins == 2
    # the appliance: the access token is refused, the refresh token gets a new one
    assert fetch(appliance_zvm, ca_file).returncode == 0
    appliance_zvm.expire_all()
    p = fetch(appliance_zvm, ca_file)
    assert p.returncode == 0, err(p)
    assert (appliance_zvm.logins, appliance_zvm.refreshes) == (1, 1)


def test_refresh_token_is_used_when_the_access_token_has_expired(appliance_zvm: FakeZvm, ca_file: str) -> None:
    appliance_zvm.access_token_lifetime = 1  # renewed 0.25 s early: stale after 0.75 s
    assert fetch(appliance_zvm, ca_file).returncode == 0
    time.sleep(0.8)
    before = len(appliance_zvm.requests)
    p = fetch(appliance_zvm, ca_file)
    assert p.returncode == 0, err(p)
    assert (appliance_zvm.logins, appliance_zvm.refreshes) == (1, 1)
    warm = [(m, t) for m, t, _ in appliance_zvm.requests[before:]]
    assert warm == [("POST", "/auth/realms/zerto/protocol/openid-connect/token"), ("GET", "/v1/vpgs")]


def test_a_second_401_is_a_clear_error(windows_zvm: FakeZvm, ca_file: str) -> None:
    windows_zvm.session_idle_timeout = 0  # every session is dead at once: 401 after each login
    line = one_line_error(fetch(windows_zvm, ca_file))
    assert "401 Unauthorized again after a new login" in line
    assert windows_zvm.logins == 2


def test_without_a_cache_the_session_is_ended(windows_zvm: FakeZvm, ca_file: str) -> None:
    p = fetch(windows_zvm, ca_file, env={"ZVPG_CACHE_DIR": ""})
    assert p.returncode == 0, err(p)
    assert (windows_zvm.logins, windows_zvm.logouts) == (1, 1)
    assert windows_zvm.requests[-1][0] == "DELETE"


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_an_unsafe_cache_file_is_ignored_with_a_warning(windows_zvm: FakeZvm, ca_file: str) -> None:
    assert fetch(windows_zvm, ca_file).returncode == 0
    [path] = cache_files()
    path.chmod(0o666)
    p = fetch(windows_zvm, ca_file)
    assert p.returncode == 0, err(p)
    assert "is ignored: it is writable by group or others" in err(p)
    assert windows_zvm.logins == 2


# ---- TLS and the network -----------------------------------------------------------------

def test_certificates_are_verified_by_default(windows_zvm: FakeZvm, ca_file: str) -> None:
    p = zvpg("fetch", "vpgs", "--zvm", windows_zvm.url, "--user", "monitor")
    line = one_line_error(p)
    host = windows_zvm.url.removeprefix("https://")
    assert line.startswith(f"zvpg: {host}: TLS certificate not verified (")
    assert "--ca-bundle" in line and "--insecure" in line
    assert windows_zvm.requests == []  # nothing was sent: the handshake failed
    assert fetch(windows_zvm, ca_file).returncode == 0


def test_insecure_works_and_says_so_on_every_run(windows_zvm: FakeZvm) -> None:
    for _ in range(2):
        p = zvpg("fetch", "vpgs", "--zvm", windows_zvm.url, "--user", "monitor", "--insecure")
        assert p.returncode == 0, err(p)
        assert "TLS certificate verification is off (--insecure)" in err(p)
    assert windows_zvm.logins == 1


def test_plain_http_is_refused_unless_allowed(zvm_ca: trustme.CA) -> None:
    with FakeZvm("windows", ca=zvm_ca, tls=False) as zvm:
        line = one_line_error(zvpg("fetch", "vpgs", "--zvm", zvm.url, "--user", "monitor"))
        assert "http:// would send the credentials unencrypted" in line and "--allow-http" in line
        assert zvm.requests == []
        p = zvpg("fetch", "vpgs", "--zvm", zvm.url, "--user", "monitor", "--allow-http")
        assert p.returncode == 0, err(p)
        assert p.stdout == zvm.body_of("/v1/vpgs") and "unencrypted" in err(p)


def test_503_twice_then_success(windows_zvm: FakeZvm, ca_file: str) -> None:
    windows_zvm.fail_next = [503, 503]
    started = time.monotonic()
    p = fetch(windows_zvm, ca_file)
    assert p.returncode == 0, err(p)
    assert p.stdout == windows_zvm.body_of("/v1/vpgs")
    assert windows_zvm.api_requests == 3
    assert time.monotonic() - started >= 1.0  # backed off 0.25 s, then 0.75 s


def test_three_503s_are_an_error_within_the_timeout(windows_zvm: FakeZvm, ca_file: str) -> None:
    windows_zvm.fail_next = [503, 503, 503, 503]
    started = time.monotonic()
    line = one_line_error(fetch(windows_zvm, ca_file, "--timeout", "5"))
    assert "GET /v1/vpgs answered 503 Service Unavailable (3 tries)" in line
    assert windows_zvm.api_requests == 3
    assert time.monotonic() - started < 5


def test_retries_stop_where_the_timeout_leaves_no_room(windows_zvm: FakeZvm, ca_file: str) -> None:
    windows_zvm.fail_next = [503, 503, 503]
    windows_zvm.latency = 0.2  # 1st try ends at ~0.25 s, the 2nd at ~0.75 s: no room for a 0.75 s pause
    line = one_line_error(fetch(windows_zvm, ca_file, "--timeout", "1.2"))
    assert "503" in line and "(2 tries)" in line


def test_connection_resets_are_retried(windows_zvm: FakeZvm, ca_file: str) -> None:
    windows_zvm.reset_next = 1
    p = fetch(windows_zvm, ca_file)
    assert p.returncode == 0, err(p)
    assert p.stdout == windows_zvm.body_of("/v1/vpgs")


def test_the_timeout_bounds_the_whole_exchange(windows_zvm: FakeZvm, ca_file: str) -> None:
    assert fetch(windows_zvm, ca_file).returncode == 0  # log in first: the slow part is the answer
    windows_zvm.latency = 10
    started = time.monotonic()
    line = one_line_error(fetch(windows_zvm, ca_file, "--timeout", "1"))
    assert "timed out after 1 s" in line
    assert time.monotonic() - started < 3


def test_an_endless_answer_is_cut_off(windows_zvm: FakeZvm, ca_file: str) -> None:
    windows_zvm.endless = True
    line = one_line_error(fetch(windows_zvm, ca_file, "--max-bytes", "200000"))
    assert "larger than 200000 bytes: cut off" in line and "--max-bytes" in line


def test_a_truncated_answer_is_an_error(windows_zvm: FakeZvm, ca_file: str) -> None:
    windows_zvm.truncate = True
    line = one_line_error(fetch(windows_zvm, ca_file))
    assert "the ZVM closed the connection before the answer was complete" in line and "(3 tries)" in line


def test_a_redirect_to_another_host_is_not_followed(windows_zvm: FakeZvm, zvm_ca: trustme.CA,
                                                    ca_file: str) -> None:
    with FakeZvm("windows", ca=zvm_ca, host="127.0.0.2") as other:
        windows_zvm.redirect_to = other.url
        line = one_line_error(fetch(windows_zvm, ca_file))
        assert f"a redirect to {other.url}" in line and "follows no redirects" in line
        assert other.requests == []


def test_a_web_server_that_is_not_a_zvm(windows_zvm: FakeZvm, ca_file: str) -> None:
    windows_zvm.not_zvm = True
    line = one_line_error(fetch(windows_zvm, ca_file))
    assert f"is {windows_zvm.url} a ZVM?" in line


def test_an_answer_that_is_not_json(windows_zvm: FakeZvm, ca_file: str) -> None:
    assert fetch(windows_zvm, ca_file).returncode == 0
    windows_zvm.vpgs = []
    windows_zvm.truncate = False
    # a proxy's error page instead of the API's answer
    windows_zvm.redirect_to = None
    windows_zvm.not_zvm = True  # every answer, the cached session's GET included, is HTML now
    line = one_line_error(fetch(windows_zvm, ca_file))
    assert "not JSON (text/html" in line and "a ZVM?" in line


def test_a_dead_site_is_a_clear_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once the socket is closed
    line = one_line_error(zvpg("fetch", "vpgs", "--zvm", f"https://127.0.0.1:{port}", "--user", "monitor"))
    assert line == f"zvpg: 127.0.0.1:{port}: cannot connect: Connection refused\n"


# ---- credentials never shown --------------------------------------------------------------

def test_no_secret_in_any_output_or_file(windows_zvm: FakeZvm, appliance_zvm: FakeZvm, ca_file: str,
                                         tmp_path: Path) -> None:
    debug = {"ZVPG_DEBUG": "1"}
    outputs: list[bytes] = []
    runs = [
        fetch(windows_zvm, ca_file, env=debug),
        fetch(appliance_zvm, ca_file, env=debug),
        zvpg("fetch", "vpgs", "--zvm", appliance_zvm.url, "--client-id", "zvpg-monitor", "--ca-bundle", ca_file,
             env={**debug, "ZVPG_CLIENT_SECRET": CLIENT_SECRET}),
        zvpg("fetch", "vpgs", "--zvm", appliance_zvm.url, "--client-id", "zvpg-monitor", "--ca-bundle", ca_file,
             env={**debug, "ZVPG_CLIENT_SECRET": CLIENT_SECRET + "x", "ZVPG_CACHE_DIR": ""}),
        zvpg("fetch", "vpgs", "--zvm", windows_zvm.url, "--user", "monitor", env=debug),  # TLS failure
        zvpg("fetch", "vpgs", "--zvm", f"https://monitor:{PASSWORD}@127.0.0.1:1", env=debug),  # URL credentials
    ]
    windows_zvm.expire_all()
    runs.append(fetch(windows_zvm, ca_file, env=debug))
    runs.append(fetch(windows_zvm, ca_file, env={**debug, "ZVPG_PASSWORD": PASSWORD + "!", "ZVPG_CACHE_DIR": ""}))
    assert [p.returncode for p in runs] == [0, 0, 0, 2, 2, 2, 0, 2]
    assert "credentials in the URL are not accepted" in err(runs[5])
    for p in runs:
        outputs += [p.stdout, p.stderr]
    assert_no_secret(*outputs)


@pytest.mark.skipif(sys.platform == "win32", reason="a POSIX pseudo-terminal")
def test_password_prompt_on_a_terminal(windows_zvm: FakeZvm, ca_file: str) -> None:
    """With no ZVPG_PASSWORD and stdin a terminal, zvpg asks (echo off), then fetches."""
    import pty

    env = {k: v for k, v in os.environ.items() if k != "ZVPG_PASSWORD"}
    argv = [sys.executable, "-m", "zvpg_cli", "fetch", "vpgs", "--zvm", windows_zvm.url, "--user", "monitor",
            "--ca-bundle", ca_file]
    pid, fd = pty.fork()
    if pid == 0:  # the child: a new session whose controlling terminal is the pty
        os.execve(sys.executable, argv, env)
    seen = b""
    deadline = time.monotonic() + 20
    try:
        while b"Password for monitor at " not in seen and time.monotonic() < deadline:
            seen += os.read(fd, 4096)
        assert b"Password for monitor at 127.0.0.1:" in seen
        os.write(fd, PASSWORD.encode() + b"\n")
        while time.monotonic() < deadline:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # EIO: the child has exited
                break
            if not chunk:
                break
            seen += chunk
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 0, seen
    assert PASSWORD.encode() not in seen  # not echoed
    assert windows_zvm.logins == 1 and b'"VpgName"' in seen


def test_no_terminal_no_password_says_where_to_put_it(windows_zvm: FakeZvm, ca_file: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "ZVPG_PASSWORD"}
    p = subprocess.run([sys.executable, "-m", "zvpg_cli", "fetch", "vpgs", "--zvm", windows_zvm.url, "--user",
                        "monitor", "--ca-bundle", ca_file], capture_output=True, env=env, stdin=subprocess.DEVNULL,
                       timeout=60)
    line = one_line_error(p)
    assert "no password for user monitor" in line and "ZVPG_PASSWORD" in line and "--password-file" in line
    assert windows_zvm.requests == []


def test_password_file(windows_zvm: FakeZvm, ca_file: str, tmp_path: Path) -> None:
    pw = tmp_path / "pw"
    pw.write_text(PASSWORD + "\r\n")
    pw.chmod(0o600)
    p = fetch(windows_zvm, ca_file, "--password-file", str(pw), env={"ZVPG_PASSWORD": "wrong"})
    assert p.returncode == 0, err(p)  # the file wins over the environment
    assert p.stderr == b""
    if os.name == "posix":
        pw.chmod(0o644)
        p = fetch(windows_zvm, ca_file, "--password-file", str(pw), env={"ZVPG_CACHE_DIR": ""})
        assert p.returncode == 0, err(p)
        assert f"warning: {pw} (the password for user monitor) can be read or changed by group or others: " \
            f"chmod 600 {pw}" in err(p)
    line = one_line_error(fetch(windows_zvm, ca_file, "--password-file", str(tmp_path / "missing"),
                                env={"ZVPG_CACHE_DIR": ""}))
    assert f"{tmp_path / 'missing'}: cannot read the password for user monitor: No such file" in line


# ---- the sites file ---------------------------------------------------------------------

def test_sites_file_with_both_kinds(windows_zvm: FakeZvm, appliance_zvm: FakeZvm, ca_file: str,
                                    tmp_path: Path) -> None:
    secret = tmp_path / "client.secret"
    secret.write_text(CLIENT_SECRET)
    sites = tmp_path / "sites.toml"
    sites.write_text(f"""
[defaults]
user = "monitor"
password_env = "PARIS_PASSWORD"
ca_bundle = "{ca_file}"
timeout = 20

[sites.paris]
url = "{windows_zvm.url}"
auth = "session"

[sites.lyon]
url = "{appliance_zvm.url}"
client_id = "zvpg-monitor"
client_secret_file = "client.secret"
""")
    for name, zvm in (("paris", windows_zvm), ("lyon", appliance_zvm)):
        only = tmp_path / f"{name}.toml"
        text = sites.read_text()
        other = "lyon" if name == "paris" else "paris"
        start = text.index(f"[sites.{other}]")
        end = text.find("[sites.", start + 1)
        only.write_text(text[:start] + (text[end:] if end > 0 else ""))
        p = zvpg("fetch", "vpgs", "--sites", str(only), env={"PARIS_PASSWORD": PASSWORD})
        assert p.returncode == 0, err(p)
        assert p.stdout == zvm.body_of("/v1/vpgs")
    line = one_line_error(zvpg("fetch", "vpgs", "--sites", str(sites)))
    assert "fetch reads one ZVM, not 2" in line


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_sites_file_with_an_inline_secret_must_be_private(windows_zvm: FakeZvm, ca_file: str,
                                                           tmp_path: Path) -> None:
    sites = tmp_path / "sites.toml"
    sites.write_text(f'[sites.paris]\nurl = "{windows_zvm.url}"\nuser = "monitor"\npassword = "{PASSWORD}"\n'
                     f'ca_bundle = "{ca_file}"\n')
    sites.chmod(0o644)
    line = one_line_error(zvpg("fetch", "vpgs", "--sites", str(sites)))
    assert "holds a secret (site 'paris' password)" in line and "chmod 600" in line
    assert windows_zvm.requests == []
    assert PASSWORD not in line
    sites.chmod(0o600)
    p = zvpg("fetch", "vpgs", "--sites", str(sites), env={"ZVPG_PASSWORD": "wrong"})
    assert p.returncode == 0, err(p)


def test_sites_file_unknown_key_names_the_site(tmp_path: Path) -> None:
    sites = tmp_path / "sites.toml"
    sites.write_text('[sites.paris]\nurl = "https://zvm-paris:9669"\nuser = "monitor"\npasword_env = "X"\n')
    line = one_line_error(zvpg("fetch", "vpgs", "--sites", str(sites)))
    assert "site 'paris': unknown key 'pasword_env'" in line


# ---- codes ------------------------------------------------------------------------------

def kb_lists() -> tuple[list[str], list[str]]:
    kb = load_kb()
    statuses = [""] * (1 + max(s.api_code for s in kb.statuses if s.api_code is not None))
    for s in kb.statuses:
        if s.api_code is not None and s.api_name:
            statuses[s.api_code] = s.api_name
    subs = [""] * (1 + max(s.api_code for s in kb.substatuses if s.api_code is not None))
    for sub in kb.substatuses:
        if sub.api_code is not None and sub.api_name:
            subs[sub.api_code] = sub.api_name
    assert kb.no_substatus is not None
    subs[0] = kb.no_substatus.api_name
    return statuses, subs


def test_codes_agree(zvm_ca: trustme.CA, ca_file: str) -> None:
    statuses, subs = kb_lists()
    with FakeZvm("appliance", ca=zvm_ca, statuses=statuses, substatuses=subs) as zvm:
        p = zvpg("codes", "--zvm", zvm.url, "--user", "monitor", "--ca-bundle", ca_file)
        assert p.returncode == 0, err(p)
        out = p.stdout.decode()
        assert "position = code" in out
        assert "Statuses: 9 on the ZVM, 9 in the knowledge base: they agree." in out
        assert "Substatuses: 36 on the ZVM, 36 in the knowledge base: they agree." in out
        assert zvm.logins == 1 and zvm.api_requests == 2  # both lists in one exchange


def test_codes_report_every_difference(zvm_ca: trustme.CA, ca_file: str) -> None:
    statuses, subs = kb_lists()
    statuses[1], statuses[2] = statuses[2], statuses[1]  # two names in each other's place
    subs = [*subs[:32], "JournalOrRecoveryMissingError"]  # a name at another code, codes 32, 34 and 35 gone
    with FakeZvm("windows", ca=zvm_ca, statuses=statuses, substatuses=subs) as zvm:
        p = zvpg("codes", "--zvm", zvm.url, "--user", "monitor", "--ca-bundle", ca_file, "--json")
        assert p.returncode == 1, err(p)
        doc = json.loads(p.stdout)
        assert doc["agree"] is False and "position = code" in doc["reading"]
        assert doc["statuses"]["differences"] == [
            {"difference": "moved", "name": statuses[1], "zvm_code": 1, "kb_code": 2},
            {"difference": "moved", "name": statuses[2], "zvm_code": 2, "kb_code": 1},
        ]
        kb_subs = kb_lists()[1]
        assert doc["substatuses"]["differences"] == [
            {"difference": "moved", "name": "JournalOrRecoveryMissingError", "zvm_code": 32, "kb_code": 33},
            *({"difference": "kb_only", "name": kb_subs[code], "zvm_code": None, "kb_code": code}
              for code in (32, 34, 35)),
        ]
        text = zvpg("codes", "--zvm", zvm.url, "--user", "monitor", "--ca-bundle", ca_file, env={"COLUMNS": "200"})
        assert text.returncode == 1
        assert "JournalOrRecoveryMissingError: code 32 on the ZVM, 33 in the knowledge base" in text.stdout.decode()


def test_codes_name_a_name_the_knowledge_base_knows_without_a_code(zvm_ca: trustme.CA, ca_file: str,
                                                                   tmp_path: Path) -> None:
    statuses, subs = kb_lists()
    own = tmp_path / "statuses.yaml"  # a knowledge base that knows JournalOrRecoveryMissingError by name only
    text = KB_FILE.read_text(encoding="utf-8")
    start = text.index('  - name: "JournalOrRecoveryMissingError"')
    entry = text[start:text.index("\n\n", start)]
    lines = [line for line in entry.splitlines() if "code_source" not in line]
    own.write_text(text.replace(entry, "\n".join(lines).replace("api_code: 33", "api_code: null")), encoding="utf-8")
    with FakeZvm("windows", ca=zvm_ca, statuses=statuses, substatuses=subs) as zvm:
        p = zvpg("codes", "--zvm", zvm.url, "--user", "monitor", "--ca-bundle", ca_file, "--data", str(own),
                 env={"COLUMNS": "200"})  # (the line is wrapped to the terminal)
        assert p.returncode == 1, err(p)
        assert ("JournalOrRecoveryMissingError: code 33 on the ZVM; the knowledge base knows the name but no code"
                in p.stdout.decode())


def test_codes_compare_the_list_they_could_read_and_say_which_they_could_not(zvm_ca: trustme.CA,
                                                                             ca_file: str) -> None:
    statuses, subs = kb_lists()
    with FakeZvm("appliance", ca=zvm_ca, statuses=statuses, substatuses=subs) as zvm:
        zvm.missing = {"/v1/vpgs/substatuses"}
        p = zvpg("codes", "--zvm", zvm.url, "--user", "monitor", "--ca-bundle", ca_file)
        assert p.returncode == 1, err(p)
        out = p.stdout.decode()
        assert "Statuses: 9 on the ZVM, 9 in the knowledge base: they agree." in out
        assert "Substatuses: not compared: GET /v1/vpgs/substatuses answered 404 Not Found" in out
        assert "warning" in err(p) and err(p).count("\n") == 1
        doc = json.loads(zvpg("codes", "--zvm", zvm.url, "--user", "monitor", "--ca-bundle", ca_file,
                              "--json").stdout)
        assert doc["agree"] is False and doc["statuses"]["agree"] is True
        assert "404" in doc["substatuses"]["error"]
        zvm.missing = {"/v1/vpgs/substatuses", "/v1/vpgs/statuses"}
        line = one_line_error(zvpg("codes", "--zvm", zvm.url, "--user", "monitor", "--ca-bundle", ca_file))
        assert "GET /v1/vpgs/statuses answered 404" in line


def test_site_picks_one_entry_of_a_sites_file(windows_zvm: FakeZvm, appliance_zvm: FakeZvm, ca_file: str,
                                             tmp_path: Path) -> None:
    sites = tmp_path / "sites.toml"
    sites.write_text(f'[defaults]\nuser = "monitor"\nca_bundle = "{ca_file}"\n\n'
                     f'[sites.win]\nurl = "{windows_zvm.url}"\n\n[sites.zvma]\nurl = "{appliance_zvm.url}"\n')
    line = one_line_error(zvpg("fetch", "vpgs", "--sites", str(sites)))
    assert "fetch reads one ZVM, not 2: pick one with --site NAME" in line
    p = zvpg("fetch", "vpgs", "--sites", str(sites), "--site", "zvma")
    assert p.returncode == 0, err(p)
    assert p.stdout == appliance_zvm.body_of("/v1/vpgs") and windows_zvm.logins == 0
    p = zvpg("annotate", "--sites", str(sites), "--site", "win")
    assert p.returncode == 0 and len(json.loads(p.stdout)) == len(windows_zvm.vpgs), err(p)
    line = one_line_error(zvpg("fetch", "vpgs", "--sites", str(sites), "--site", "nope"))
    assert "--site nope: no site of that name (there are: win, zvma)" in line


def test_codes_of_a_dead_zvm_exit_2() -> None:
    line = one_line_error(zvpg("codes", "--zvm", "https://127.0.0.1:1", "--user", "monitor"))
    assert "cannot connect" in line


# ---- usage ------------------------------------------------------------------------------

@pytest.mark.parametrize(("args", "needle"), [
    (["fetch", "vpgs"], "give the ZVM to read: --zvm URL"),
    (["fetch", "vpgs", "--zvm", "https://zvm:9669"], "no user: give --user NAME"),
    (["fetch", "vpgs", "--zvm", "https://zvm:9669?x=1", "--user", "u"], "without a query"),
    (["fetch", "vpgs", "--zvm", "ftp://zvm", "--user", "u"], "not an https:// URL"),
    (["fetch", "vpgs", "--zvm", "https://zvm", "--client-id", "c", "--auth", "session"], "needs --auth keycloak"),
    (["fetch", "vpgs", "--zvm", "https://zvm", "--user", "u", "--client-id", "c"], "either a user or a client id"),
    (["fetch", "vpgs", "--zvm", "https://a", "--zvm", "https://a/", "--user", "u"], "named twice"),
])
def test_usage_errors(cli: Any, args: list[str], needle: str) -> None:
    r = cli(*args)
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr.startswith("zvpg: ") and needle in r.stderr and r.stderr.count("\n") == 1


@pytest.mark.parametrize("argv", [["explain", "Bitmap Syncing", "--json"], ["list"]])
def test_explain_and_list_do_not_import_the_network_code(argv: list[str]) -> None:
    code = ("import sys, runpy\n"
            f"sys.argv = ['zvpg', *{argv!r}]\n"
            "try:\n    runpy.run_module('zvpg_cli', run_name='__main__')\n"
            "except SystemExit:\n    pass\n"
            "sys.stdout.flush()\n"
            "sys.stderr.write(' '.join(sorted(sys.modules)))\n")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    mods = set(p.stderr.split())
    assert "zvpg_cli.cli.reference" in mods  # the command ran
    for heavy in ("http.client", "ssl", "urllib.request", "zvpg_cli.sources.zvm", "zvpg_cli.sources.zvm.sites",
                  "tomllib", "zvpg_cli.cli.zvm", "zvpg_cli.cli.payloads", "zvpg_cli.cli.history"):
        assert heavy not in mods, heavy


def test_a_damaged_cache_file_means_a_new_login(windows_zvm: FakeZvm, ca_file: str) -> None:
    assert fetch(windows_zvm, ca_file).returncode == 0
    [path] = cache_files()
    record = json.loads(path.read_bytes())
    for damaged in ({**record, "used": "yesterday"}, {**record, "session": None}, {**record, "format": 99}):
        path.write_text(json.dumps(damaged))
        p = fetch(windows_zvm, ca_file)
        assert p.returncode == 0 and p.stderr == b"", err(p)
    path.write_bytes(b"\x00garbage")
    assert fetch(windows_zvm, ca_file).returncode == 0
    assert windows_zvm.logins == 5
