"""The HTTP layer under the exchange (zvpg_cli/sources/zvm/transport.py, the standard
library's http.client): one connection per exchange, proxies from the
environment through a real CONNECT proxy on localhost, and what the ZVM
cannot make it do. Real subprocesses of the installed CLI against the fake
ZVM; nothing is mocked."""

from __future__ import annotations

import base64
import json
import select
import socket
import socketserver
import subprocess
import threading
from collections.abc import Iterator

import pytest
from conftest import run_zvpg
from fakezvm import FakeZvm

from zvpg_cli.sources.zvm.transport import TransportError, proxy_for

pytest_plugins = ["fakezvm"]

PASSWORD = "pa55-W0rd!x"
PROXY_PASSWORD = "pr0xy-S3cret"


def fetch(zvm: FakeZvm, ca_file: str, *extra: str, env: dict[str, str] | None = None
          ) -> subprocess.CompletedProcess[bytes]:
    return run_zvpg("fetch", "vpgs", "--zvm", zvm.url, "--user", "monitor", "--ca-bundle", ca_file, *extra,
                    env={"ZVPG_PASSWORD": PASSWORD, **(env or {})})


class ConnectProxy:
    """An HTTP proxy that only tunnels (CONNECT), as corporate proxies do for
    https://; with `credentials`, it wants Proxy-Authorization first (407)."""

    def __init__(self, credentials: str | None = None) -> None:
        self.credentials = credentials
        self.garbage = False  # answer CONNECT with bytes that are not HTTP
        self.tunnels: list[str] = []
        self.refused = 0
        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                proxy._handle(self.request)

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def _handle(self, client: socket.socket) -> None:
        client.settimeout(5)
        head = b""
        while b"\r\n\r\n" not in head:
            data = client.recv(4096)
            if not data:
                return
            head += data
        lines = head.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        if self.garbage:
            client.sendall(b"\x16\x03garbage\r\n\r\n")
            return
        if method != "CONNECT":
            client.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            return
        if self.credentials is not None:
            wanted = "Basic " + base64.b64encode(self.credentials.encode()).decode()
            if headers.get("proxy-authorization") != wanted:
                self.refused += 1
                client.sendall(b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                               b"Proxy-Authenticate: Basic realm=\"test\"\r\nContent-Length: 0\r\n\r\n")
                return
        host, _, port = target.rpartition(":")
        upstream = socket.create_connection((host, int(port)), timeout=5)
        self.tunnels.append(target)
        client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        with upstream:
            ends = [client, upstream]
            while True:
                ready, _, _ = select.select(ends, [], [], 5)
                if not ready:
                    return
                for end in ready:
                    data = end.recv(65536)
                    if not data:
                        return
                    (upstream if end is client else client).sendall(data)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def proxy() -> Iterator[ConnectProxy]:
    p = ConnectProxy()
    yield p
    p.stop()


@pytest.fixture
def auth_proxy() -> Iterator[ConnectProxy]:
    p = ConnectProxy(credentials=f"squid:{PROXY_PASSWORD}")
    yield p
    p.stop()


def host_port(zvm: FakeZvm) -> str:
    return zvm.url.split("://", 1)[1]


def test_one_connection_carries_login_get_and_logout(windows_zvm: FakeZvm, ca_file: str) -> None:
    p = fetch(windows_zvm, ca_file, env={"ZVPG_CACHE_DIR": ""})  # no cache: log in, GET, log out
    assert p.returncode == 0, p.stderr
    assert (windows_zvm.logins, windows_zvm.logouts) == (1, 1)
    assert windows_zvm.connections == 1  # keep-alive: one TCP connection, one TLS handshake


def test_https_proxy_from_the_environment_tunnels_to_the_zvm(windows_zvm: FakeZvm, ca_file: str,
                                                             proxy: ConnectProxy) -> None:
    p = fetch(windows_zvm, ca_file, env={"HTTPS_PROXY": proxy.url})
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)  # the ZVM's answer, through the tunnel (TLS end to end: --ca-bundle verified it)
    assert proxy.tunnels == [host_port(windows_zvm)]


def test_no_proxy_bypasses_the_proxy(windows_zvm: FakeZvm, ca_file: str, proxy: ConnectProxy) -> None:
    p = fetch(windows_zvm, ca_file, env={"https_proxy": proxy.url, "NO_PROXY": "localhost,127.0.0.1"})
    assert p.returncode == 0, p.stderr
    assert proxy.tunnels == []


def test_proxy_credentials_from_the_url_are_sent_and_never_shown(windows_zvm: FakeZvm, ca_file: str,
                                                                 auth_proxy: ConnectProxy) -> None:
    host = auth_proxy.url.split("://", 1)[1]
    good = fetch(windows_zvm, ca_file, env={"HTTPS_PROXY": f"http://squid:{PROXY_PASSWORD}@{host}"})
    assert good.returncode == 0, good.stderr
    assert auth_proxy.tunnels == [host_port(windows_zvm)]
    bad = fetch(windows_zvm, ca_file, env={"HTTPS_PROXY": f"http://squid:wrong-{PROXY_PASSWORD}@{host}"})
    text = bad.stderr.decode()
    assert bad.returncode == 2 and text.count("\n") == 1, text
    assert "proxy error" in text and "407" in text
    for out in (bad.stdout, bad.stderr, good.stderr):
        assert PROXY_PASSWORD.encode() not in out


def test_a_dead_proxy_is_named(windows_zvm: FakeZvm, ca_file: str) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once closed
    p = fetch(windows_zvm, ca_file, "--timeout", "3", env={"HTTPS_PROXY": f"http://127.0.0.1:{port}"})
    text = p.stderr.decode()
    assert p.returncode == 2, text
    assert f"cannot connect to the proxy 127.0.0.1:{port}: Connection refused" in text  # (a login is not retried)


@pytest.mark.parametrize("url", ["https://127.0.0.1:3128", "socks5://127.0.0.1:1080"])
def test_an_unsupported_proxy_is_a_clear_error(windows_zvm: FakeZvm, ca_file: str, url: str) -> None:
    p = fetch(windows_zvm, ca_file, env={"HTTPS_PROXY": url})
    text = p.stderr.decode()
    assert p.returncode == 2 and text.count("\n") == 1, text
    assert "proxy error" in text and "only http:// proxies are supported" in text


def test_proxy_for_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert proxy_for("https", "zvm01") is None  # conftest removed every proxy variable
    monkeypatch.setenv("HTTPS_PROXY", "proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", ".lab.example")
    found = proxy_for("https", "zvm01")
    assert found is not None and (found.host, found.port, found.headers) == ("proxy.example", 3128, {})
    assert proxy_for("https", "zvm01.lab.example") is None
    assert proxy_for("http", "zvm01") is None  # HTTPS_PROXY is for https:// only
    monkeypatch.setenv("ALL_PROXY", "http://u%40corp:p%3Aw@all.example")
    found = proxy_for("http", "zvm01")
    assert found is not None and found.host == "all.example" and found.port == 80
    assert base64.b64decode(found.headers["Proxy-Authorization"].split()[1]) == b"u@corp:p:w"
    monkeypatch.setenv("HTTPS_PROXY", "https://proxy.example:3128")
    with pytest.raises(TransportError) as info:
        proxy_for("https", "zvm01")
    assert info.value.kind == "proxy" and not info.value.retriable


def test_a_proxys_garbage_is_blamed_on_the_proxy(windows_zvm: FakeZvm, ca_file: str, proxy: ConnectProxy) -> None:
    proxy.garbage = True
    p = fetch(windows_zvm, ca_file, env={"HTTPS_PROXY": proxy.url})
    text = p.stderr.decode()
    assert p.returncode == 2 and text.count("\n") == 1, text
    assert f"the proxy {proxy.url.split('//')[1]} sent an answer that is not valid HTTP" in text
    assert "the ZVM" not in text


@pytest.mark.parametrize("url", ["http://u:p@[::1", "http://u:pr0xy-S3cret@[::1]:x", "http://pr0xy host:1"])
def test_a_proxy_url_that_cannot_be_read_is_a_usage_error_that_hides_it(windows_zvm: FakeZvm, ca_file: str,
                                                                        url: str) -> None:
    for args in (["fetch", "vpgs"], ["triage"], ["annotate"]):
        p = run_zvpg(*args, "--zvm", windows_zvm.url, "--user", "monitor", "--ca-bundle", ca_file,
                     env={"ZVPG_PASSWORD": PASSWORD, "HTTPS_PROXY": url, "ZVPG_DEBUG": "1"})
        text = p.stderr.decode()
        assert p.returncode == 2 and text == "zvpg: proxy error: the proxy URL in HTTPS_PROXY is not a valid URL\n", \
            (args, text)
        assert b"pr0xy" not in p.stderr and b":p@" not in p.stderr
