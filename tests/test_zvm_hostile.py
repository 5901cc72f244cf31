"""What a hostile ZVM sends can never crash zvpg, hang it, leak a secret or
poison its cache: the fake ZVM's hostile modes (tests/fakezvm.py) against the
installed CLI, in real subprocesses over real HTTPS on localhost."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from fakezvm import FakeZvm
from test_zvm import CLIENT_SECRET, PASSWORD, assert_no_secret, cache_files, err, fetch, one_line_error, zvpg

pytest_plugins = ["fakezvm"]


def _strict_json(data: bytes) -> object:
    def refuse(name: str) -> object:
        raise AssertionError(f"not JSON: {name}")

    return json.loads(data, parse_constant=refuse)


# ---- tokens and lifetimes --------------------------------------------------------------

@pytest.mark.parametrize("token", [b"tok\\nX-Evil: 1", "t\u20acok".encode(), b"tok en", b"", b"\\u0000"])
def test_a_token_that_is_not_visible_ascii_is_refused_unshown_and_never_cached(
        appliance_zvm: FakeZvm, ca_file: str, token: bytes) -> None:
    appliance_zvm.bad_token = token
    line = one_line_error(fetch(appliance_zvm, ca_file))
    assert "access token" in line and "not visible ASCII" in line, line
    assert "Evil" not in line and "Bearer" not in line and "\u20ac" not in line
    assert not cache_files()
    appliance_zvm.bad_token = None  # the ZVM is fixed: the next run works at once
    p = fetch(appliance_zvm, ca_file)
    assert p.returncode == 0, err(p)


@pytest.mark.parametrize("session", [b"t\xe2\x82\xacok", b"tok\x01en"])
def test_a_session_id_that_is_not_visible_ascii_is_refused(windows_zvm: FakeZvm, ca_file: str,
                                                            session: bytes) -> None:
    windows_zvm.bad_token = session
    line = one_line_error(fetch(windows_zvm, ca_file))
    assert "session id that is not visible ASCII" in line and "tok" not in line
    assert not cache_files()


def test_a_cached_token_that_cannot_be_sent_is_ignored(appliance_zvm: FakeZvm, ca_file: str) -> None:
    """A cache entry written by a zvpg that kept any token: a fresh login, not an error on every run."""
    assert fetch(appliance_zvm, ca_file).returncode == 0
    [entry] = cache_files()
    record = json.loads(entry.read_bytes())
    record["access_token"] = "tok\nX-Evil: 1"
    entry.write_text(json.dumps(record))
    p = fetch(appliance_zvm, ca_file)
    assert p.returncode == 0, err(p)
    assert appliance_zvm.logins == 2 and b"Evil" not in p.stderr


@pytest.mark.parametrize("lifetime", [b"1e999", b"-1e999", b"9" * 400, b"-5", b'"300"', b"null", b"true",
                                      b"1e-999", b"300.5"])
def test_any_lifetime_gives_a_working_run_and_a_cache_of_valid_json(appliance_zvm: FakeZvm, ca_file: str,
                                                                    lifetime: bytes) -> None:
    appliance_zvm.access_token_lifetime = 3600
    real = appliance_zvm._tokens

    def answer(client_id: str) -> dict[str, object]:
        tokens = real(client_id)
        appliance_zvm.token_answer = (b'{"access_token":"%s","expires_in":%s,"refresh_token":"%s",'
                                      b'"refresh_expires_in":%s}' % (tokens["access_token"].encode(), lifetime,
                                                                      tokens["refresh_token"].encode(), lifetime))
        return tokens

    appliance_zvm._tokens = answer  # type: ignore[method-assign]
    p = fetch(appliance_zvm, ca_file)
    assert p.returncode == 0, err(p)
    assert b"internal error" not in p.stderr
    [entry] = cache_files()
    record = _strict_json(entry.read_bytes())
    assert isinstance(record, dict)
    assert record["access_expires"] <= time.time() + 86400  # a day at most
    refresh = record.get("refresh_expires")
    assert refresh is None or refresh <= time.time() + 86400


@pytest.mark.parametrize("member", ["expires_in", "refresh_expires_in"])
def test_a_lifetime_of_more_digits_than_python_reads_is_named_not_called_a_missing_token(
        appliance_zvm: FakeZvm, ca_file: str, member: str) -> None:
    other = "refresh_expires_in" if member == "expires_in" else "expires_in"
    appliance_zvm.token_answer = (b'{"access_token":"abc","refresh_token":"def","%s":%s,"%s":300}'
                                  % (member.encode(), b"9" * 5000, other.encode()))
    line = one_line_error(zvpg("fetch", "vpgs", "--zvm", appliance_zvm.url, "--client-id", "zvpg-monitor",
                               "--ca-bundle", ca_file, env={"ZVPG_CLIENT_SECRET": CLIENT_SECRET}))
    assert f"the token endpoint answered an invalid {member}: a number of 5000 digits" in line, line
    assert "without an access token" not in line and "internal error" not in line
    assert not cache_files()


@pytest.mark.parametrize("size_line", [b"-10", b"-1", b"-ff;ext=1"])
def test_a_negative_chunk_size_fails_at_once_and_says_so(windows_zvm: FakeZvm, ca_file: str,
                                                         size_line: bytes) -> None:
    """The fake ZVM keeps the connection open after the bad size line: a client
    that took it as a size would wait for bytes until --timeout (600 s here,
    far beyond the subprocess's own 60 s limit)."""
    windows_zvm.bad_chunking = size_line
    line = one_line_error(fetch(windows_zvm, ca_file, "--timeout", "600"))
    assert "sent an answer that is not valid HTTP (a negative chunk size (" in line, line
    assert "timed out" not in line


def test_a_chunk_size_that_is_not_a_number_is_named(windows_zvm: FakeZvm, ca_file: str) -> None:
    windows_zvm.bad_chunking = True
    line = one_line_error(fetch(windows_zvm, ca_file))
    assert "a chunk size that is not a hexadecimal number" in line, line


def test_a_huge_token_answer_is_cut_off_small(appliance_zvm: FakeZvm, ca_file: str) -> None:
    appliance_zvm.oversized = 2 * 1024 * 1024  # 2 MB of spaces after the token: far below --max-bytes
    line = one_line_error(zvpg("fetch", "vpgs", "--zvm", appliance_zvm.url, "--client-id", "zvpg-monitor",
                               "--ca-bundle", ca_file, env={"ZVPG_CLIENT_SECRET": CLIENT_SECRET}))
    assert "larger than 65536 bytes" in line and "--max-bytes" not in line
    assert_no_secret(line)


# ---- payloads: the same checks as a file's ----------------------------------------------

def test_deep_nesting_from_a_zvm_gets_the_message_a_file_gets(windows_zvm: FakeZvm, ca_file: str,
                                                              tmp_path: Path) -> None:
    windows_zvm.deep_nesting = 1000
    deep = b"[" * 1000 + b"]" * 1000
    from_file = zvpg("annotate", input=deep)
    assert b"nested too deeply" in from_file.stderr
    for args in (["fetch", "vpgs"], ["annotate"], ["annotate", "-f", "ndjson"]):
        p = zvpg(*args, "--zvm", windows_zvm.url, "--user", "monitor", "--ca-bundle", ca_file)
        text = err(p)
        assert p.returncode == 2 and "nested too deeply to read safely" in text, (args, text)
        assert "internal error" not in text and "Traceback" not in text


@pytest.mark.parametrize("mode", ["bad_chunking", "truncate", "endless", "drip", "deep_nesting"])
def test_every_hostile_answer_is_one_line(windows_zvm: FakeZvm, ca_file: str, mode: str) -> None:
    setattr(windows_zvm, mode, {"drip": 1.0, "deep_nesting": 100_000}.get(mode, True))
    p = fetch(windows_zvm, ca_file, "--timeout", "3", "--max-bytes", "100000")
    line = one_line_error(p)
    assert "internal error" not in line
    assert_no_secret(p.stdout, p.stderr)


# ---- logins only when needed, sessions always ended --------------------------------------

def test_runs_starting_at_once_with_a_cold_cache_log_in_once(windows_zvm: FakeZvm, ca_file: str) -> None:
    import subprocess
    import sys

    windows_zvm.login_latency = 0.5  # every run arrives while the first login is still under way
    args = [sys.executable, "-m", "zvpg_cli", "fetch", "vpgs", "--zvm", windows_zvm.url, "--user", "monitor",
            "--ca-bundle", ca_file]
    env = {**os.environ, "ZVPG_PASSWORD": PASSWORD}
    runs = [subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for _ in range(6)]
    for run in runs:
        _, stderr = run.communicate(timeout=60)
        assert run.returncode == 0, stderr
    assert windows_zvm.logins == 1


def test_many_sites_sharing_one_entry_log_in_once(appliance_zvm: FakeZvm, ca_file: str, tmp_path: Path) -> None:
    appliance_zvm.login_latency = 0.3
    sites = tmp_path / "sites.toml"
    sites.write_text("".join(f'[sites.s{i}]\nurl = "{appliance_zvm.url}"\nuser = "monitor"\n'
                             f'ca_bundle = "{ca_file}"\n\n' for i in range(20)))
    p = zvpg("triage", "--sites", str(sites), "--format", "json")
    assert p.returncode != 2 and b"internal error" not in p.stderr, err(p)
    assert appliance_zvm.logins == 1


@pytest.mark.parametrize("cache_dir", [None, ""])
def test_a_session_the_zvm_keeps_refusing_is_ended(windows_zvm: FakeZvm, ca_file: str,
                                                    cache_dir: str | None) -> None:
    windows_zvm.unauthorized_forever = True
    env = {} if cache_dir is None else {"ZVPG_CACHE_DIR": cache_dir}
    line = one_line_error(fetch(windows_zvm, ca_file, env=env))
    assert "401 Unauthorized again after a new login" in line
    assert windows_zvm.logins == 2 and windows_zvm.logouts == 2
    assert not cache_files()


def test_without_a_cache_every_session_is_ended(windows_zvm: FakeZvm, ca_file: str) -> None:
    for _ in range(2):
        assert fetch(windows_zvm, ca_file, env={"ZVPG_CACHE_DIR": ""}).returncode == 0
    assert windows_zvm.logins == 2 and windows_zvm.logouts == 2
