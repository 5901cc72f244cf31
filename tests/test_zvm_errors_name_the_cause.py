"""Local input never becomes an internal error, one site never stalls the
others, and each error names the real cause and the real remedy (the fake ZVM
of tests/fakezvm.py, real subprocesses)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import trustme
from conftest import run_zvpg
from fakezvm import FakeZvm
from test_zvm import PASSWORD, assert_no_secret, err, fetch, one_line_error, zvpg

pytest_plugins = ["fakezvm"]

BAD_BYTE = os.fsdecode(b"\xff")  # what Python makes of a byte that is not UTF-8 (a lone surrogate)


# ---- local input --------------------------------------------------------------------------

@pytest.mark.parametrize("where", ["ZVPG_PASSWORD", "ZVPG_CLIENT_SECRET", "--user", "--vpg"])
def test_a_byte_that_is_not_utf8_is_a_clear_error_that_shows_nothing_of_a_secret(
        windows_zvm: FakeZvm, appliance_zvm: FakeZvm, ca_file: str, where: str) -> None:
    secret = "s3cr3t" + BAD_BYTE + "tail"
    env = {"ZVPG_DEBUG": "1", "ZVPG_CACHE_DIR": ""}
    if where == "ZVPG_CLIENT_SECRET":
        args = ["--zvm", appliance_zvm.url, "--client-id", "zvpg-monitor"]
        env[where] = secret
    else:
        args = ["--zvm", windows_zvm.url, "--user", "monitor" + (BAD_BYTE if where == "--user" else "")]
        env["ZVPG_PASSWORD"] = secret if where == "ZVPG_PASSWORD" else PASSWORD
        if where == "--vpg":
            args += ["--vpg", "ERP" + BAD_BYTE]
    p = run_zvpg("fetch", "vpgs", *args, "--ca-bundle", ca_file, env=env)
    line = one_line_error(p)
    assert "not valid UTF-8 text" in line and "internal error" not in line, line
    assert b"s3cr3t" not in p.stderr and b"tail" not in p.stderr and b"\\xff" not in p.stderr


@pytest.mark.parametrize("url, needle", [
    ("https://local host:1", "not a valid host name"),
    ("https://zvm\x01:9669", "not a valid host name"),
    ("https://zvm:9669/a b", "cannot hold a space or a control character"),
    ("https://zvm:9669/a\x7fb", "cannot hold a space or a control character"),
])
def test_a_url_that_cannot_be_sent_is_a_usage_error(url: str, needle: str) -> None:
    p = zvpg("fetch", "vpgs", "--zvm", url, "--user", "monitor", env={"ZVPG_DEBUG": "1"})
    line = one_line_error(p)
    assert needle in line and "internal error" not in line


def test_a_non_ascii_url_path_is_sent_percent_escaped(windows_zvm: FakeZvm, ca_file: str) -> None:
    p = zvpg("fetch", "vpgs", "--zvm", windows_zvm.url + "/zürich", "--user", "monitor", "--ca-bundle", ca_file)
    assert "internal error" not in err(p)
    assert windows_zvm.requests and windows_zvm.requests[0][1].startswith("/z%C3%BCrich/")


# ---- one site can never stall the others ---------------------------------------------------

def test_a_fifo_as_one_sites_ca_bundle_fails_that_site_only(windows_zvm: FakeZvm, ca_file: str,
                                                            tmp_path: Path) -> None:
    fifo = tmp_path / "ca.fifo"
    os.mkfifo(fifo)
    sites = tmp_path / "sites.toml"
    sites.write_text(f'[defaults]\nuser = "monitor"\ntimeout = 20\n\n'
                     f'[sites.good]\nurl = "{windows_zvm.url}"\nca_bundle = "{ca_file}"\n\n'
                     f'[sites.fifo]\nurl = "{windows_zvm.url}/other"\nca_bundle = "{fifo}"\n')
    p = zvpg("triage", "--sites", str(sites), "--format", "json", timeout=60)
    doc = json.loads(p.stdout)
    by_name = {s["name"]: s for s in doc["sites"]}
    assert by_name["good"]["up"] is True, by_name
    assert by_name["fifo"]["up"] is False and "not a regular file" in by_name["fifo"]["error"]


@pytest.mark.parametrize("bundle", ["key", "/dev/null", "empty"])
def test_a_ca_bundle_without_a_certificate_says_so(windows_zvm: FakeZvm, zvm_ca: trustme.CA, tmp_path: Path,
                                                   bundle: str) -> None:
    path = {"key": tmp_path / "key.pem", "/dev/null": Path("/dev/null"), "empty": tmp_path / "empty.pem"}[bundle]
    if bundle == "key":
        zvm_ca.private_key_pem.write_to_path(str(path))
    elif bundle == "empty":
        path.write_text("# nothing here\n")
    line = one_line_error(fetch(windows_zvm, str(path)))
    expected = "not a regular file" if bundle == "/dev/null" else "the CA bundle holds no PEM certificate"
    assert expected in line and "SSL" not in line, line


def test_a_ca_bundle_with_comments_around_its_certificates_is_read(windows_zvm: FakeZvm, zvm_ca: trustme.CA,
                                                                   tmp_path: Path) -> None:
    path = tmp_path / "ca.pem"
    path.write_bytes("# Zürich's CA\n".encode() + zvm_ca.cert_pem.bytes() + b"\n# end\n")
    p = fetch(windows_zvm, str(path))
    assert p.returncode == 0, err(p)


# ---- errors that name the real cause ------------------------------------------------------

def test_a_certificate_for_another_name_names_the_names_it_holds(windows_zvm: FakeZvm, ca_file: str) -> None:
    url = windows_zvm.url.replace("127.0.0.1", "localhost")
    line = one_line_error(zvpg("fetch", "vpgs", "--zvm", url, "--user", "monitor", "--ca-bundle", ca_file))
    assert "the TLS certificate is not for localhost: it names 127.0.0.1" in line
    assert "--ca-bundle" not in line and "--insecure" not in line


def test_https_to_a_plain_http_server_says_it_answered_in_plain_http(zvm_ca: trustme.CA, ca_file: str) -> None:
    with FakeZvm("windows", ca=zvm_ca, tls=False) as plain:
        url = plain.url.replace("http://", "https://")
        line = one_line_error(zvpg("fetch", "vpgs", "--zvm", url, "--user", "monitor", "--ca-bundle", ca_file))
    assert "answered in plain HTTP, not TLS" in line and "WRONG_VERSION_NUMBER" not in line


@pytest.mark.parametrize("status", [304, 300])
def test_a_3xx_that_is_no_redirect_is_not_called_one(windows_zvm: FakeZvm, ca_file: str, status: int) -> None:
    windows_zvm.fail_next = [status]
    line = one_line_error(fetch(windows_zvm, ca_file))
    assert f"answered {status}" in line and "redirect" not in line


def test_a_timeout_above_a_day_says_the_limit(tmp_path: Path) -> None:
    sites = tmp_path / "sites.toml"
    sites.write_text('[sites.a]\nurl = "https://zvm:9669"\nuser = "monitor"\ntimeout = 86401\n')
    line = one_line_error(zvpg("fetch", "vpgs", "--sites", str(sites)))
    assert "at most 86400" in line


def test_site_names_that_share_their_first_100_characters_are_two_sites(windows_zvm: FakeZvm, ca_file: str,
                                                                         tmp_path: Path) -> None:
    stem = "s" * 100
    sites = tmp_path / "sites.toml"
    sites.write_text("".join(f'[sites.{stem}{end}]\nurl = "{windows_zvm.url}"\nuser = "monitor"\n'
                             f'ca_bundle = "{ca_file}"\n\n' for end in ("a", "b")))
    p = zvpg("triage", "--sites", str(sites), "--format", "json")
    assert "named twice" not in err(p) and p.returncode != 2, err(p)


def test_a_missing_client_secret_names_both_ways_to_give_it(appliance_zvm: FakeZvm, ca_file: str) -> None:
    assert "ZVPG_CLIENT_SECRET" not in os.environ
    p = run_zvpg("fetch", "vpgs", "--zvm", appliance_zvm.url, "--client-id", "zvpg-monitor", "--ca-bundle", ca_file)
    line = one_line_error(p)
    assert "ZVPG_CLIENT_SECRET" in line and "--client-secret-file" in line
    assert_no_secret(p.stderr)
