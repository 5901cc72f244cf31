"""`zvpg fetch alerts|vras|peers` against the fake ZVM (tests/fakezvm.py: real HTTPS,
both kinds of login), byte for byte as `fetch vpgs`; an endpoint's error answer is
one line naming the part and the site; what fetch saved is recognised by its shape
(`sources.shape`), and so is every other part."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import run_zvpg
from fakezvm import UNLICENSED, FakeZvm

from zvpg_cli.sources.shape import PARTS, part_of, part_of_file

pytest_plugins = ["fakezvm"]  # zvm_ca, ca_file, windows_zvm, appliance_zvm

PASSWORD = "pa55-W0rd!x"
CLIENT_SECRET = "cl13nt-S3cr3t"


def fetch(zvm: FakeZvm, ca_file: str, what: str, *extra: str) -> subprocess.CompletedProcess[bytes]:
    """`zvpg fetch WHAT`: by user and password on a Windows ZVM, by client id (Keycloak) on an appliance."""
    login = ["--user", "monitor"] if zvm.flavour == "windows" else ["--client-id", "zvpg-monitor"]
    return run_zvpg("fetch", what, "--zvm", zvm.url, *login, "--ca-bundle", ca_file, *extra,
                    env={"ZVPG_PASSWORD": PASSWORD, "ZVPG_CLIENT_SECRET": CLIENT_SECRET})


def one_line_error(p: subprocess.CompletedProcess[bytes]) -> str:
    text = p.stderr.decode("utf-8", "replace")
    assert p.returncode == 2, text
    assert p.stdout == b""
    assert text.startswith("zvpg: ") and text.count("\n") == 1 and "Traceback" not in text, text
    return text


def site(zvm: FakeZvm) -> str:
    """The name zvpg gives a site read by --zvm URL: its host and port."""
    return zvm.url.split("://", 1)[1]


@pytest.fixture(params=["windows", "appliance"])
def zvm(request: Any, windows_zvm: FakeZvm, appliance_zvm: FakeZvm) -> FakeZvm:
    return windows_zvm if request.param == "windows" else appliance_zvm


@pytest.mark.parametrize("what", list(PARTS))
def test_each_part_is_saved_byte_for_byte_and_recognised_by_its_shape(
        zvm: FakeZvm, ca_file: str, what: str, tmp_path: Path) -> None:
    p = fetch(zvm, ca_file, what)
    assert p.returncode == 0, p.stderr
    assert p.stderr == b""
    assert p.stdout == zvm.body_of(PARTS[what])
    assert zvm.requests[-1][:2] == ("GET", PARTS[what])
    saved = tmp_path / f"{what}.json"
    saved.write_bytes(p.stdout)
    assert part_of_file(str(saved), 1 << 20) == what


def test_undismissed_alerts_are_asked_for_with_the_apis_filter(windows_zvm: FakeZvm, ca_file: str) -> None:
    everything = json.loads(fetch(windows_zvm, ca_file, "alerts").stdout)
    assert {a["IsDismissed"] for a in everything} == {True, False}  # the example has one of each
    p = fetch(windows_zvm, ca_file, "alerts", "--undismissed")
    assert p.returncode == 0, p.stderr
    assert windows_zvm.requests[-1][1] == "/v1/alerts?isDismissed=false"
    assert [a["IsDismissed"] for a in json.loads(p.stdout)] == [False]


@pytest.mark.parametrize(("what", "option"), [("alerts", ["--vpg", "ERP"]), ("vras", ["--vpg", "ERP"]),
                                              ("vpgs", ["--undismissed"]), ("peers", ["--undismissed"])])
def test_a_filter_for_another_part_is_a_usage_error(windows_zvm: FakeZvm, ca_file: str, what: str,
                                                    option: list[str]) -> None:
    before = len(windows_zvm.requests)
    line = one_line_error(fetch(windows_zvm, ca_file, what, *option))
    assert option[0] in line and what in line
    assert windows_zvm.requests[before:] == []  # refused before asking the ZVM anything


@pytest.mark.parametrize("what", ["alerts", "vras", "peers"])
def test_an_unlicensed_answer_names_the_licence_the_part_the_site_and_the_zvms_message(
        zvm: FakeZvm, ca_file: str, what: str) -> None:
    zvm.errors[PARTS[what]] = (403, UNLICENSED)
    line = one_line_error(fetch(zvm, ca_file, what))
    assert line == (f'zvpg: {site(zvm)}: the ZVM has no valid licence: GET {PARTS[what]} answered 403 Forbidden: '
                    '"Valid License is not provided"\n')


def test_an_error_answer_without_a_message_still_names_the_part_and_the_site(
        windows_zvm: FakeZvm, ca_file: str) -> None:
    windows_zvm.errors["/v1/peersites"] = (400, b"<html>\x1b[31mno</html>")
    line = one_line_error(fetch(windows_zvm, ca_file, "peers"))
    assert line == f"zvpg: {site(windows_zvm)}: GET /v1/peersites answered 400 Bad Request\n"


def test_a_hostile_message_reaches_no_terminal_as_control_codes(windows_zvm: FakeZvm, ca_file: str) -> None:
    windows_zvm.errors["/v1/vras"] = (403, json.dumps({"Message": "x\x1b[2J\x07" + "y" * 500}).encode())
    line = one_line_error(fetch(windows_zvm, ca_file, "vras"))
    assert "\x1b" not in line and "\x07" not in line and len(line) < 300


def test_the_reference_examples_each_say_their_part() -> None:
    """The reference's own payloads (the fake ZVM's), including both spellings of VPGs and VMs."""
    from fakezvm import EXAMPLE_ALERTS, EXAMPLE_PEERSITES, EXAMPLE_VRAS

    assert part_of(json.dumps(EXAMPLE_ALERTS).encode()) == "alerts"
    assert part_of(json.dumps(EXAMPLE_VRAS[0]).encode()) == "vras"  # one object, not an array
    assert part_of(json.dumps({"value": EXAMPLE_PEERSITES, "Count": 1}).encode()) == "peers"  # PowerShell
    assert part_of(b'[{"vpgName": "ERP", "status": 1}]') == "vpgs"
    assert part_of(b'[{"vmName": "erp-db", "vpgName": "ERP", "status": 1}]') == "vms"
    assert part_of(b'[{"VmName": "erp-db", "VpgName": "ERP"}, {"VmIdentifier": "x"}]') == "vms"
