"""Reading many ZVMs at once (zvpg_cli.sources.zvm.fetch_all), in-process against
fake ZVMs: results in input order, one line per failed site, concurrency
bounded by `parallel`, every site bounded by its timeout."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
from fakezvm import FakeZvm, InFlight

from zvpg_cli.sources.zvm import Site, fetch_all, site_from_url
from zvpg_cli.sources.zvm.sites import command_line_layer

pytest_plugins = ["fakezvm"]


@pytest.fixture(autouse=True)
def _password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZVPG_PASSWORD", "pa55-W0rd!x")


@pytest.fixture
def fleet(zvm_ca: trustme.CA) -> Iterator[list[FakeZvm]]:
    zvms = [FakeZvm("appliance" if i % 2 else "windows", ca=zvm_ca).start() for i in range(6)]
    try:
        yield zvms
    finally:
        for z in zvms:
            z.stop()


def sites_of(zvms: list[FakeZvm], ca_file: str, **options: object) -> list[Site]:
    base = command_line_layer(user="monitor", ca_bundle=ca_file, **options)  # type: ignore[arg-type]
    return [site_from_url(z.url, base, name=f"site{i}") for i, z in enumerate(zvms)]


def dead_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"https://127.0.0.1:{s.getsockname()[1]}"


def test_sites_are_read_at_the_same_time_and_reported_in_order(fleet: list[FakeZvm], ca_file: str) -> None:
    gauge = InFlight(until=6)
    for z in fleet:
        z.in_flight = gauge
    results = fetch_all(sites_of(fleet, ca_file), "/v1/vpgs", {})
    assert [r.site.name for r in results] == [f"site{i}" for i in range(6)]
    assert [r.body for r in results] == [z.body_of("/v1/vpgs") for z in fleet]
    assert all(r.error is None and r.ok for r in results)
    assert gauge.peak == 6  # all six asked at once, not one after another


def test_parallel_bounds_the_pool(fleet: list[FakeZvm], ca_file: str) -> None:
    gauge = InFlight(until=3, patience=1.0)  # a third at once would be over the bound: never seen
    for z in fleet[:4]:
        z.in_flight = gauge
    results = fetch_all(sites_of(fleet[:4], ca_file), "/v1/vpgs", {}, parallel=2)
    assert all(r.ok for r in results)
    assert gauge.peak == 2  # two rounds of two


def test_a_dead_site_is_named_and_the_others_are_read(fleet: list[FakeZvm], ca_file: str) -> None:
    sites = sites_of(fleet[:2], ca_file)
    base = command_line_layer(user="monitor", ca_bundle=ca_file)
    sites.insert(1, site_from_url(dead_url(), base, name="dead"))
    results = fetch_all(sites, "/v1/vms", {"vpgName": fleet[0].vpgs[0]["VpgName"]})
    assert [r.site.name for r in results] == ["site0", "dead", "site1"]
    assert results[1].body is None and results[1].error is not None
    assert results[1].error.startswith("cannot connect to 127.0.0.1:") and "\n" not in results[1].error
    assert results[0].body == fleet[0].body_of(f"/v1/vms?vpgName={fleet[0].vpgs[0]['VpgName']}")
    assert results[2].ok


def test_a_site_that_never_answers_is_given_up_at_its_timeout(fleet: list[FakeZvm], ca_file: str) -> None:
    fleet[0].latency = 30
    sites = sites_of(fleet[:2], ca_file, timeout=0.7)
    started = time.monotonic()
    slow, fast = fetch_all(sites, "/v1/vpgs", {})
    assert time.monotonic() - started < 0.7 + 1.0
    assert slow.error == "timed out after 0.7 s (--timeout)"
    assert fast.ok


def test_many_failures_at_once_never_raise(fleet: list[FakeZvm], ca_file: str) -> None:
    fleet[0].not_zvm = True
    fleet[1].fail_next = [500]
    fleet[2].endless = True
    fleet[3].redirect_to = "https://127.0.0.2:1"
    fleet[4].truncate = True
    fleet[5].password = "changed"
    results = fetch_all(sites_of(fleet, ca_file), "/v1/vpgs", {}, max_bytes=100_000)
    errors = [r.error or "" for r in results]
    assert "a ZVM?" in errors[0]
    assert "500 Internal Server Error" in errors[1]
    assert "larger than 100000 bytes" in errors[2]
    assert "redirect to https://127.0.0.2:1" in errors[3]
    assert "before the answer was complete" in errors[4]
    assert "login refused for user monitor" in errors[5]
    assert all(r.body is None and "\n" not in (r.error or "") for r in results)


def test_a_tls_failure_names_the_host_of_a_named_site(fleet: list[FakeZvm]) -> None:
    [r] = fetch_all([site_from_url(fleet[0].url, command_line_layer(user="monitor"), name="paris")], "/v1/vpgs")
    host = fleet[0].url.removeprefix("https://")
    assert r.error is not None and r.error.startswith(f"TLS certificate of {host} not verified (")
    assert "--ca-bundle FILE" in r.error and "--insecure" in r.error


def test_no_sites_no_results() -> None:
    assert fetch_all([], "/v1/vpgs", {}) == []


def test_benchmark_script_runs() -> None:
    """benchmarks/zvm.py works (a smoke run: 3 sites, one run each; no timing is judged here)."""
    script = Path(__file__).resolve().parent.parent / "benchmarks" / "zvm.py"
    p = subprocess.run([sys.executable, str(script), "--smoke"], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert "Warm run over 3 sites: 12 HTTP requests (4-4 per site), no login" in p.stdout
    assert "Warm zvpg fetch: 1 HTTP request(s)" in p.stdout
