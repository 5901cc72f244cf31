"""`triage --output FILE` writes only a regular file or a new path, never
replaces what is not one (a FIFO, a device node, a folder), writes through a
symbolic link, keeps an existing file's mode, leaves no temporary file behind
when SIGINT or SIGTERM ends the run, sweeps the ones a SIGKILL left, and
`-o -` is stdout. FIFOs and device nodes are made in a temporary folder (the
tests run as root: /dev/null itself is never touched); a second user comes
from `setpriv`."""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import FIXTURES, ROOT, run_zvpg

VMS = str(FIXTURES / "payloads" / "vms.json")
root_only = pytest.mark.skipif(os.geteuid() != 0, reason="makes device nodes and a second user: needs root")


def triage_to(output: str, *extra: str, cwd: str | None = None) -> subprocess.CompletedProcess[bytes]:
    return run_zvpg("triage", VMS, "--format", "prometheus", "--output", output, *extra, cwd=cwd)


def temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".zvpg-"))


def refused(p: subprocess.CompletedProcess[bytes], what: str) -> str:
    text = p.stderr.decode()
    assert p.returncode == 2 and p.stdout == b"", text
    assert text.count("\n") == 1 and text.startswith("zvpg: cannot write "), text
    assert f"it is {what}; --output writes a regular file (or - for stdout)" in text, text
    return text


# ---- what is written, and what is refused ---------------------------------------------------

def test_a_fifo_is_refused_before_anything_is_read(tmp_path: Path) -> None:
    fifo = tmp_path / "zvpg.prom"
    os.mkfifo(fifo)
    # (stdin is never read: a refusal after reading would wait on it)
    p = run_zvpg("triage", "--format", "prometheus", "-o", str(fifo), input=b"not read")
    refused(p, "a FIFO")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and temporaries(tmp_path) == []


@root_only
def test_a_device_node_is_refused_and_stays_a_device(tmp_path: Path) -> None:
    null = tmp_path / "null"
    os.mknod(null, 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # what /dev/null is, in a folder of our own
    text = refused(triage_to(str(null)), "a device")
    assert str(null) in text
    info = os.lstat(null)
    assert stat.S_ISCHR(info.st_mode) and info.st_rdev == os.makedev(1, 3)
    assert temporaries(tmp_path) == []


@root_only
def test_under_nagios_a_device_is_the_unknown_status_line(tmp_path: Path) -> None:
    null = tmp_path / "null"
    os.mknod(null, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    p = run_zvpg("triage", VMS, "--nagios", "-o", str(null))
    assert p.returncode == 3 and p.stdout.startswith(b"ZVPG UNKNOWN - cannot write ")
    assert p.stdout.count(b"\n") == 1 and b"it is a device" in p.stdout
    assert stat.S_ISCHR(os.lstat(null).st_mode)


def test_a_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    refused(triage_to(str(tmp_path / "d")), "a folder")
    assert (tmp_path / "d").is_dir() and list((tmp_path / "d").iterdir()) == []


def test_a_link_to_a_fifo_is_refused_naming_both(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "link").symlink_to("fifo")
    text = refused(triage_to(str(tmp_path / "link")), "a FIFO")
    assert f"{tmp_path / 'link'} (a link to {tmp_path / 'fifo'})" in text


def test_a_symbolic_link_is_written_through_and_stays_a_link(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "zvpg.prom"
    target.write_text("old\n")
    link = tmp_path / "zvpg.prom"
    link.symlink_to(target)
    p = triage_to(str(link))
    assert p.returncode == 0, p.stderr
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text().startswith("# HELP ")
    assert temporaries(tmp_path) == [] and temporaries(tmp_path / "real") == []


def test_a_dangling_link_creates_its_target(tmp_path: Path) -> None:
    link = tmp_path / "zvpg.prom"
    link.symlink_to("new.prom")
    assert triage_to(str(link)).returncode == 0
    assert link.is_symlink() and (tmp_path / "new.prom").read_text().startswith("# HELP ")


@root_only
def test_a_link_another_user_planted_in_a_shared_folder_is_not_followed(tmp_path: Path) -> None:
    """As the kernel's fs.protected_symlinks: in a sticky folder anyone may
    write to (/tmp), a link owned by someone else is not followed by root."""
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    victim = tmp_path / "passwd"
    victim.write_text("root:x:0:0\n")
    link = shared / "zvpg.prom"
    link.symlink_to(victim)
    os.lchown(link, 65534, 65534)  # nobody's link
    p = triage_to(str(link))
    assert p.returncode == 2 and b"a symbolic link another user owns in a folder anyone may write to" in p.stderr
    assert victim.read_text() == "root:x:0:0\n" and link.is_symlink()


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o644, 0o400])
def test_an_existing_file_keeps_its_mode(tmp_path: Path, mode: int) -> None:
    out = tmp_path / "zvpg.prom"
    out.write_text("old\n")
    out.chmod(mode)
    assert triage_to(str(out)).returncode == 0
    assert stat.S_IMODE(out.stat().st_mode) == mode and out.read_text().startswith("# HELP ")


def test_a_new_file_is_0644_whatever_the_umask(tmp_path: Path) -> None:
    p = subprocess.run(["sh", "-c", f"umask 077 && exec '{sys.executable}' -m zvpg_cli triage '{VMS}' "
                        f"-f prometheus -o '{tmp_path / 'new.prom'}'"], capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert stat.S_IMODE((tmp_path / "new.prom").stat().st_mode) == 0o644


def test_dash_is_stdout_and_writes_no_file(tmp_path: Path) -> None:
    p = triage_to("-", cwd=str(tmp_path))
    assert p.returncode == 0 and p.stdout.startswith(b"# HELP ")
    assert list(tmp_path.iterdir()) == []
    assert run_zvpg("triage", VMS, "--nagios", "-o", "-", cwd=str(tmp_path)).stdout.startswith(b"ZVPG ")
    assert triage_to("./-", cwd=str(tmp_path)).returncode == 0  # a file named - is still possible
    assert (tmp_path / "-").read_text().startswith("# HELP ")


# ---- a second user ------------------------------------------------------------------------------

@pytest.fixture
def shared_folder() -> Iterator[Path]:
    """A sticky folder anyone may write to, outside pytest's own (0700) folders."""
    folder = Path(tempfile.mkdtemp(prefix="zvpg-output-"))
    folder.chmod(0o1777)
    try:
        yield folder
    finally:
        shutil.rmtree(folder)


def as_nobody(*args: str) -> subprocess.CompletedProcess[bytes]:
    env = {"PATH": os.environ["PATH"], "HOME": "/nonexistent", "ZVPG_CACHE_DIR": "/nonexistent/cache"}
    return subprocess.run(["setpriv", "--reuid", "nobody", "--regid", "nogroup", "--clear-groups",
                           sys.executable, "-m", "zvpg_cli", *args], capture_output=True, env=env, cwd=str(ROOT),
                          timeout=60)


def _second_user_runs_python() -> bool:
    """Whether `nobody` can start this Python (a pyenv build under /root may
    need a shared library that user cannot reach)."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        return False
    p = subprocess.run(["setpriv", "--reuid", "nobody", "--regid", "nogroup", "--clear-groups", sys.executable,
                        "-c", "pass"], capture_output=True, env={"PATH": os.environ["PATH"]}, timeout=60)
    return p.returncode == 0


needs_setpriv = pytest.mark.skipif(not _second_user_runs_python(),
                                   reason="runs as a second user: needs root, setpriv (util-linux) and a Python "
                                   "that user can start")


@needs_setpriv
def test_root_writing_another_users_file_keeps_its_owner_and_mode(shared_folder: Path) -> None:
    out = shared_folder / "zvpg.prom"
    out.write_text("old\n")
    os.chown(out, 65534, 65534)
    out.chmod(0o600)
    assert triage_to(str(out)).returncode == 0
    info = out.stat()
    assert (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) == (65534, 65534, 0o600)
    p = as_nobody("triage", VMS, "-f", "prometheus", "-o", str(out))  # so its owner can still replace it
    assert p.returncode == 0, p.stderr


@needs_setpriv
def test_only_this_users_own_stale_temporary_files_are_swept(shared_folder: Path) -> None:
    old = time.time() - 3600

    def planted(name: str, uid: int, age: float = old) -> Path:
        path = shared_folder / name
        path.write_bytes(b"x" * 1000)
        os.chown(path, uid, uid)
        os.utime(path, (age, age))
        return path

    mine = planted(".zvpg-abcd1234.tmp", 65534)  # nobody's, an hour old: a killed run's
    roots = planted(".zvpg-efgh5678.tmp", 0)  # root's: not nobody's to remove
    fresh = planted(".zvpg-ijkl9012.tmp", 65534, time.time())  # another run's, in flight
    other = planted(".zvpg-notes.tmp.bak", 65534)  # not a name zvpg makes
    p = as_nobody("triage", VMS, "-f", "prometheus", "-o", str(shared_folder / "zvpg.prom"))
    assert p.returncode == 0, p.stderr
    assert not mine.exists()
    assert roots.exists() and fresh.exists() and other.exists()
    assert (shared_folder / "zvpg.prom").stat().st_uid == 65534


# ---- signals ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def large_payload(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Enough VPGs that writing the Prometheus file takes a while."""
    path = tmp_path_factory.mktemp("large") / "vpgs.json"
    path.write_text(json.dumps([{"VpgName": f"vpg-{i}", "VpgIdentifier": str(i), "Status": 1, "SubStatus": 0,
                                 "ActualRPO": 5, "ConfiguredRpoSeconds": 300} for i in range(300_000)]))
    return str(path)


@pytest.mark.parametrize(("signum", "code", "line"), [(signal.SIGTERM, 143, b"zvpg: terminated\n"),
                                                      (signal.SIGINT, 130, b"zvpg: interrupted\n")])
def test_a_signal_while_the_file_is_written_leaves_no_temporary_file(
        tmp_path: Path, large_payload: str, signum: int, code: int, line: bytes) -> None:
    out = tmp_path / "zvpg.prom"
    out.write_text("the last complete file\n")
    p = subprocess.Popen([sys.executable, "-m", "zvpg_cli", "triage", large_payload, "-f", "prometheus",
                          "-o", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    seen = False
    while p.poll() is None and not seen:
        seen = bool(temporaries(tmp_path))
    assert seen, "the run ended before its temporary file was seen"
    p.send_signal(signum)
    stdout, stderr = p.communicate(timeout=60)
    assert (p.returncode, stdout, stderr) == (code, b"", line)
    assert out.read_text() == "the last complete file\n"  # not replaced, not half-written
    assert temporaries(tmp_path) == []


def test_a_stale_temporary_file_left_by_sigkill_is_swept_by_the_next_write(tmp_path: Path,
                                                                           large_payload: str) -> None:
    out = tmp_path / "zvpg.prom"
    p = subprocess.Popen([sys.executable, "-m", "zvpg_cli", "triage", large_payload, "-f", "prometheus",
                          "-o", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    left: list[str] = []
    while p.poll() is None and not left:
        left = temporaries(tmp_path)
    assert left, "the run ended before its temporary file was seen"
    p.kill()
    p.communicate(timeout=60)
    assert temporaries(tmp_path) == left  # SIGKILL cannot be handled: it stays
    assert triage_to(str(out)).returncode == 0
    assert temporaries(tmp_path) == left  # fresh: it could be a run's in flight
    old = time.time() - 3600
    os.utime(tmp_path / left[0], (old, old))
    assert triage_to(str(out)).returncode == 0
    assert temporaries(tmp_path) == []


def test_an_empty_output_name_is_a_usage_error(tmp_path: Path) -> None:
    p = triage_to("", cwd=str(tmp_path))
    assert (p.returncode, p.stdout, p.stderr) == (2, b"", b"zvpg: --output needs a file name (or - for stdout)\n")
    assert list(tmp_path.iterdir()) == []
