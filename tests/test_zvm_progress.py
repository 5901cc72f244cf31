"""Progress while zvpg waits on ZVMs: shown on a terminal (a real pseudo-terminal,
real subprocesses, the fake ZVMs of tests/fakezvm.py made slow), gone when the
read is done, plain under TERM=dumb, without colour under NO_COLOR, never through
pipes, under --nagios or with --quiet; Ctrl-C stops the read at once and says how
many sites had answered. The observer the ZVM layer calls is tested directly too."""

from __future__ import annotations

import contextlib
import os
import re
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import trustme
from fakezvm import FakeZvm
from hypothesis import given, settings
from hypothesis import strategies as st
from test_zvm import PASSWORD, zvpg

from zvpg_cli.output.progress import Progress
from zvpg_cli.sources.zvm.fetch import SiteResult, fetch_each
from zvpg_cli.sources.zvm.sites import Site, build_site

pytest_plugins = ["fakezvm"]
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")

ESC = re.compile(rb"\x1b")
COLOR = re.compile(rb"\x1b\[[0-9;]*(3[0-9]|9[0-7]|38;)[0-9;]*m")


def _dead_url() -> str:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"https://127.0.0.1:{s.getsockname()[1]}"


def _sites_file(tmp_path: Path, ca_file: str, urls: dict[str, str], timeout: float = 20) -> str:
    text = f'[defaults]\nuser = "monitor"\nca_bundle = "{ca_file}"\ntimeout = {timeout}\n\n'
    text += "".join(f'[sites.{name}]\nurl = "{url}"\n\n' for name, url in urls.items())
    path = tmp_path / "sites.toml"
    path.write_text(text)
    path.chmod(0o600)
    return str(path)


@pytest.fixture
def slow_sites(zvm_ca: trustme.CA, ca_file: str, tmp_path: Path) -> Iterator[str]:
    """A sites file: paris answers after 0.3 s, lyon after 1.5 s, lab cannot be reached."""
    with FakeZvm("windows", ca=zvm_ca) as paris, FakeZvm("appliance", ca=zvm_ca) as lyon:
        paris.latency, lyon.latency = 0.3, 1.5
        yield _sites_file(tmp_path, ca_file, {"paris": paris.url, "lyon": lyon.url, "lab": _dead_url()})


class Pty:
    """`zvpg ARGS` with stdin, stdout and stderr (unless `stderr` is given) on a pseudo-terminal."""

    def __init__(self, args: Sequence[str], stderr: Any = None, **env: str) -> None:
        import pty

        self.master, slave = pty.openpty()
        clean = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "COLUMNS", "TERM")}
        env = {**clean, "ZVPG_PASSWORD": PASSWORD, "COLUMNS": "100", **env}
        self.proc = subprocess.Popen([sys.executable, "-m", "zvpg_cli", *args], stdin=slave, stdout=slave,
                                     stderr=slave if stderr is None else stderr, env=env)
        os.close(slave)
        self.out = b""

    def read_until(self, pattern: bytes, limit: float = 60) -> bool:
        """Read until `pattern` has been printed (True) or the output ends (False)."""
        end = time.monotonic() + limit
        while pattern not in self.out and time.monotonic() < end:
            ready, _, _ = select.select([self.master], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:  # the other end is closed
                    return pattern in self.out
                if not chunk:
                    break
                self.out += chunk
        return pattern in self.out

    def finish(self) -> tuple[int, bytes]:
        self.read_until(b"\x00 never printed \x00")
        code = self.proc.wait(timeout=60)
        os.close(self.master)
        return code, self.out


def on_pty(args: Sequence[str], **env: str) -> tuple[int, bytes]:
    return Pty(args, **env).finish()


def screen(raw: bytes) -> list[str]:
    """What a terminal shows after `raw`: printable text, CR, LF, cursor up
    (CSI n A) and erase in line (CSI n K); other escape sequences change nothing here."""
    lines, row, col = [""], 0, 0
    for m in re.finditer(rb"\x1b\[([0-9;?]*)([A-Za-z])|\r|\n|[^\x1b\r\n]+", raw):
        token = m.group()
        if token == b"\r":
            col = 0
        elif token == b"\n":
            row += 1
            if row == len(lines):
                lines.append("")
        elif m.group(2) == b"A":
            row = max(0, row - int(m.group(1) or b"1"))
        elif m.group(2) == b"K":
            lines[row] = lines[row][:col] if m.group(1) in (b"", b"0") else ""
        elif not token.startswith(b"\x1b"):
            text = token.decode("utf-8", "replace")
            lines[row] = lines[row][:col].ljust(col) + text + lines[row][col + len(text):]
            col += len(text)
    return [line.rstrip() for line in lines if line.strip()]


# ---- on a terminal ---------------------------------------------------------------------

def test_shown_while_waiting_and_gone_when_done(slow_sites: str) -> None:
    code, out = on_pty(["triage", "--sites", slow_sites, "--limit", "2"], TERM="xterm-256color")
    text = out.decode()
    assert "Reading ZVMs: 0 of 3 answered" in text  # at once: more than one site
    assert "Waiting for paris, lyon" in text
    # the failure is named as it happens, in the final report's words, while lyon is still waited for
    during = text[:text.index("Triage:")]
    assert re.search(r"site lab could not be read: cannot connect to 127\.0\.0\.1:\d+: Connection refused", during)
    assert re.search(r"1 of 3 answered, 1 could not be read \(\d+ s\)\S*\r?\n\S*Waiting for lyon", during)
    shown = screen(out)
    assert not any("Reading ZVMs" in line or "Waiting for" in line for line in shown), shown
    assert shown[0].startswith("zvpg: site lab could not be read: cannot connect")  # the final report
    assert any(line.startswith("Triage: ") for line in shown)
    assert code in (0, 1) and "Traceback" not in text


def test_one_site_is_shown_only_once_it_keeps_zvpg_waiting(zvm_ca: trustme.CA, ca_file: str) -> None:
    with FakeZvm("appliance", ca=zvm_ca) as zvm:
        zvm.latency = 2.5
        code, out = on_pty(["fetch", "vpgs", "--zvm", zvm.url, "--user", "monitor", "--ca-bundle", ca_file],
                           TERM="xterm-256color")
        body = zvm.body_of("/v1/vpgs")
    assert code == 0 and b"Reading ZVMs: 0 of 1 answered" in out and b"Waiting for 127.0.0.1:" in out
    shown = screen(out)
    assert not any("Reading ZVMs" in line for line in shown)
    assert "".join(shown).replace(" ", "") == body.decode().replace(" ", "")  # the answer, and nothing else


def test_term_dumb_gets_plain_lines_and_a_summary(slow_sites: str) -> None:
    code, out = on_pty(["triage", "--sites", slow_sites, "--format", "json"], TERM="dumb")
    assert not ESC.search(out)
    lines = [line for line in out.decode().splitlines() if line.startswith("zvpg: ")]
    assert re.fullmatch(r"zvpg: reading ZVMs: [01] of 3 answered(, 1 could not be read)? \(\d+ s\); "
                        r"waiting for paris, lyon(, lab)?", lines[0]), lines
    summary = [i for i, line in enumerate(lines) if line.startswith("zvpg: read ZVMs: ")]
    failure = [i for i, line in enumerate(lines) if line.startswith("zvpg: site lab could not be read: ")]
    assert len(summary) == 1 and re.fullmatch(r"zvpg: read ZVMs: 2 of 3 answered, 1 could not be read, in \d+\.\d s",
                                              lines[summary[0]])
    assert len(failure) == 2 and failure[0] < summary[0] and failure[1] == len(lines) - 1  # as it happened; the report
    assert code == 0


def test_no_color_means_no_colour(slow_sites: str) -> None:
    _, out = on_pty(["triage", "--sites", slow_sites], TERM="xterm-256color", NO_COLOR="1")
    assert b"Reading ZVMs" in out and b"site lab could not be read" in out
    assert not COLOR.search(out)


@pytest.mark.parametrize("flag", [["--nagios"], ["--quiet"], ["-q", "--format", "checkmk"]])
def test_nothing_under_nagios_or_quiet(slow_sites: str, flag: list[str]) -> None:
    _, out = on_pty(["triage", "--sites", slow_sites, *flag], TERM="xterm-256color")
    assert b"Reading ZVMs" not in out and b"Waiting for" not in out and b"\x1b[?25l" not in out


def test_ctrl_c_stops_at_once_and_says_how_many_had_answered(zvm_ca: trustme.CA, ca_file: str,
                                                             tmp_path: Path) -> None:
    with FakeZvm("windows", ca=zvm_ca) as fast, FakeZvm("appliance", ca=zvm_ca) as slow:
        slow.latency = 300  # far beyond the test's own limits: only Ctrl-C can end this read
        sites = _sites_file(tmp_path, ca_file, {"fast": fast.url, "slow": slow.url}, timeout=600)
        run = Pty(["triage", "--sites", sites, "--json"], TERM="xterm-256color")
        assert run.read_until(b"1 of 2 answered"), run.out
        run.proc.send_signal(signal.SIGINT)
        code, out = run.finish()
    assert code == 130
    shown = screen(out)  # the display gone, no report half-written: how far the read got, then the entry's answer
    assert re.fullmatch(r"(\^C)?zvpg: reading stopped after \d+ s: 1 of 2 ZVMs had answered; still waiting for slow",
                        shown[0]), shown
    assert shown[1:] in ([], ["zvpg: interrupted"]), shown
    assert b"\x1b[?25h" in out  # the cursor is shown again


# ---- through pipes ---------------------------------------------------------------------

def test_through_pipes_nothing_is_added(slow_sites: str) -> None:
    piped = zvpg("triage", "--sites", slow_sites, "--format", "json")
    quiet = zvpg("triage", "--sites", slow_sites, "--format", "json", "--quiet")
    lines = piped.stderr.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith("zvpg: site lab could not be read: cannot connect"), lines
    assert (piped.returncode, piped.stdout, piped.stderr) == (quiet.returncode, quiet.stdout, quiet.stderr)


def test_stderr_a_file_stdout_a_terminal_shows_nothing(slow_sites: str, tmp_path: Path) -> None:
    log = tmp_path / "stderr.log"
    with log.open("wb") as fh:
        run = Pty(["triage", "--sites", slow_sites, "--format", "json"], stderr=fh, TERM="xterm-256color")
        code, out = run.finish()
    assert code == 0 and out.startswith(b"{")
    assert log.read_bytes().startswith(b"zvpg: site lab could not be read: ") and log.read_bytes().count(b"\n") == 1


@pytest.mark.parametrize("quiet", [False, True])
def test_ctrl_c_through_pipes_is_as_before(zvm_ca: trustme.CA, ca_file: str, tmp_path: Path, quiet: bool) -> None:
    """Off a terminal the read adds nothing, not even on Ctrl-C: the entry point's answer alone, exit 130."""
    with FakeZvm("windows", ca=zvm_ca) as fast, FakeZvm("appliance", ca=zvm_ca) as slow:
        slow.latency = 300
        sites = _sites_file(tmp_path, ca_file, {"fast": fast.url, "slow": slow.url}, timeout=600)
        p = subprocess.Popen([sys.executable, "-m", "zvpg_cli", "triage", "--sites", sites, "--json",
                              *(["--quiet"] if quiet else [])], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env={**os.environ, "ZVPG_PASSWORD": PASSWORD})
        end = time.monotonic() + 60
        while not any(target.startswith("/v1/vpgs") for _, target, _ in slow.requests) and time.monotonic() < end:
            time.sleep(0.05)  # until zvpg waits on the slow site
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=60)
    assert (p.returncode, out) == (130, b"")
    assert err in (b"", b"zvpg: interrupted\n"), err


# ---- the observer, directly ------------------------------------------------------------

class Recorder:
    """An observer that records what it hears; with `ctrl_c`, Ctrl-C comes once the first site has answered."""

    def __init__(self, ctrl_c: bool = False) -> None:
        self.updates: list[list[SiteResult | None]] = []
        self.stopped: list[SiteResult | None] | None = None
        self.ctrl_c = ctrl_c

    def update(self, results: Sequence[SiteResult | None]) -> None:
        self.updates.append(list(results))
        if self.ctrl_c and results[0] is not None:
            raise KeyboardInterrupt

    def pause(self) -> None:
        pass

    def interrupted(self, results: Sequence[SiteResult | None]) -> None:
        self.stopped = list(results)


def _site(name: str, url: str, ca_file: str) -> Site:
    return build_site(name, [{"url": url, "user": "monitor", "password_env": "ZVPG_PASSWORD", "ca_bundle": ca_file,
                              "timeout": 600}])


@contextlib.contextmanager
def fast_and_slow(zvm_ca: trustme.CA, ca_file: str, latency: float) -> Iterator[list[Site]]:
    """Two sites for the library: "fast" answers at once, "slow" after `latency` seconds."""
    with FakeZvm("windows", ca=zvm_ca) as fast, FakeZvm("appliance", ca=zvm_ca) as slow:
        slow.latency = latency
        yield [_site("fast", fast.url, ca_file), _site("slow", slow.url, ca_file)]


def test_the_observer_hears_each_answer_and_the_end(zvm_ca: trustme.CA, ca_file: str,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZVPG_PASSWORD", PASSWORD)
    seen = Recorder()
    with fast_and_slow(zvm_ca, ca_file, 0.8) as sites:
        results = fetch_each(sites, [("/v1/vpgs", {})], observer=seen)
    assert seen.updates[0] == [None, None]
    assert any(u[0] is not None and u[1] is None for u in seen.updates)  # fast answered, slow still waited for
    assert seen.updates[-1] == results and all(r.ok for r in results) and seen.stopped is None


def test_ctrl_c_is_reported_then_raised_again(zvm_ca: trustme.CA, ca_file: str,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZVPG_PASSWORD", PASSWORD)
    seen = Recorder(ctrl_c=True)
    with fast_and_slow(zvm_ca, ca_file, 300) as sites, pytest.raises(KeyboardInterrupt):
        fetch_each(sites, [("/v1/vpgs", {})], observer=seen)
    assert seen.stopped is not None and seen.stopped[0] is not None and seen.stopped[1] is None


def _result(site: Site, error: str | None = None) -> SiteResult:
    return SiteResult(site, None if error else b"[]", error)


def test_the_interruption_line_counts_answers_failures_and_the_waiting(
        ca_file: str, capsys: pytest.CaptureFixture[str]) -> None:
    sites = [_site(f"site{i}", f"https://zvm{i}", ca_file) for i in range(7)]
    progress = Progress(sites, "plain")
    results: list[SiteResult | None] = [_result(sites[0]), _result(sites[1], "timed out"), None, None, None, None,
                                        _result(sites[6])]
    progress.update(results)
    capsys.readouterr()
    progress.interrupted(results)
    assert re.fullmatch(r"zvpg: reading stopped after \d+ s: 2 of 7 ZVMs had answered \(1 could not be read\); "
                        r"still waiting for site2, site3, site4 and 1 more\n", capsys.readouterr().err)
    progress.close()
    assert capsys.readouterr().err == ""  # no summary after an interruption


def test_one_site_waits_a_second_before_it_is_shown(ca_file: str, capsys: pytest.CaptureFixture[str]) -> None:
    site = _site("zvm01", "https://zvm01", ca_file)
    progress = Progress([site], "plain")
    progress.update([None])
    assert capsys.readouterr().err == ""
    progress.started -= 1.0  # as if a second had passed
    progress.update([None])
    assert capsys.readouterr().err.startswith("zvpg: reading ZVMs: 0 of 1 answered (1 s); waiting for zvm01\n")


def test_untrusted_names_and_errors_cannot_steer_the_terminal(ca_file: str, capsys: pytest.CaptureFixture[str]) -> None:
    evil = _site("evil\x1b[2J\u202e", "https://zvm01", ca_file)
    progress = Progress([evil, _site("ok", "https://zvm02", ca_file)], "plain")
    progress.update([None, None])
    progress.update([_result(evil, "boom\x1b]0;title\x07"), None])
    progress.interrupted([_result(evil, "boom\x1b]0;title\x07"), None])
    err: Any = capsys.readouterr().err
    assert "\x1b" not in err and "\u202e" not in err and "\x07" not in err and "evil\\x1b[2J" in err


def test_the_documented_example_has_the_shapes_zvpg_prints() -> None:
    page = (Path(__file__).resolve().parent.parent / "docs" / "zvm.md").read_text(encoding="utf-8")
    section = page.split("### Progress on a terminal", 1)[1].split("\n### ", 1)[0]
    frame, interrupted = re.findall(r"```text\n(.*?)```", section, re.S)
    assert re.fullmatch(r"Reading ZVMs: \d+ of \d+ answered, \d+ could not be read \(\d+ s\)\n"
                        r"Waiting for [\w, -]+\n(site \S+ could not be read: .+\n)+", frame)
    assert re.fullmatch(r"\$ zvpg triage .*\nzvpg: reading stopped after \d+ s: \d+ of \d+ ZVMs had answered "
                        r"\(\d+ could not be read\); still waiting for [\w, -]+\n", interrupted)
    assert re.search(r"`zvpg: read ZVMs: \d+ of \d+\s+answered, \d+ could not be read, in \d+\.\d s`", section)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.text(max_size=30), st.one_of(st.none(), st.text(max_size=60))), min_size=1, max_size=6))
def test_any_names_and_errors_stay_single_safe_lines(sites_and_errors: list[tuple[str, str | None]]) -> None:
    import io

    sites = [Site(name=name, url=f"https://zvm{i}") for i, (name, _) in enumerate(sites_and_errors)]
    results = [None if why is None else SiteResult(site, None, why)
               for site, (_, why) in zip(sites, sites_and_errors, strict=True)]
    buffer = io.StringIO()
    with contextlib.redirect_stderr(buffer):
        progress = Progress(sites, "plain")
        progress.started -= 2.0
        progress.update([None] * len(sites))
        progress.update(results)
        progress.interrupted(results)
    lines = buffer.getvalue().split("\n")
    assert lines.pop() == ""
    for line in lines:
        assert line.startswith("zvpg: ")
        assert not re.search(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]", line)


def test_a_terminal_that_goes_away_does_not_stop_the_read(ca_file: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    class Gone:
        def isatty(self) -> bool:
            return True

        def write(self, text: str) -> int:
            raise OSError(errno.EIO, "Input/output error")

        def flush(self) -> None:
            raise OSError(errno.EIO, "Input/output error")

    gone = Gone()
    monkeypatch.setattr(sys, "stderr", gone)
    sites = [_site("a", "https://zvm1", ca_file), _site("b", "https://zvm2", ca_file)]
    progress = Progress(sites, "live")
    progress.update([None, None])
    assert progress.mode is None and progress.live is None  # given up, quietly
    assert sys.stderr is gone  # (rich's stand-in for stderr, while it draws, is gone with it)
    progress.update([_result(sites[0]), None])
    progress.interrupted([_result(sites[0]), None])
    progress.close()
