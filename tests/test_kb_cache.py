"""The compiled knowledge-base cache in a hostile folder (issue 11, section 1):
nothing planted there is served or written through, nothing damaged there
crashes or stays, and an edit is seen whatever the file's stat data says.

Each test runs zvpg as a user does (a real subprocess) wherever a hang, a
crash or what reaches stdout/stderr is the point."""

from __future__ import annotations

import copy
import json
import os
import stat
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import KB_FILE, run_zvpg

from zvpg_cli import __version__
from zvpg_cli.base import cachefs
from zvpg_cli.knowledge import kb
from zvpg_cli.knowledge.kb import cache_key, decode_cache, encode_cache, load_compiled, load_kb

GOOD = KB_FILE.read_bytes()
POSIX = pytest.mark.skipif(sys.platform == "win32", reason="POSIX owners, modes, FIFOs and symlinks")


@pytest.fixture
def folder() -> Path:
    return Path(os.environ["ZVPG_CACHE_DIR"])


def kb_copy(tmp_path: Path, data: bytes = GOOD) -> Path:
    path = tmp_path / "statuses.yaml"
    path.write_bytes(data)
    return path


def warm(path: Path, folder: Path) -> Path:
    """Run zvpg once so that it caches `path`; the cache file it wrote."""
    load_kb(str(path))
    [entry] = [p for p in folder.iterdir() if p.name.endswith(".marshal")]
    return entry


def explain_json(path: Path, term: str = "Meeting SLA") -> tuple[dict[str, Any], str]:
    r = run_zvpg("--data", str(path), "explain", term, "--json", timeout=30)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout), r.stderr.decode()


def planted(raw: bytes) -> dict[str, Any]:
    """What an attacker would plant: the real compiled data with a false
    severity and escape sequences in the name and in the JSON that is printed."""
    compiled = copy.deepcopy(load_compiled(None, use_cache=False))
    del compiled["path"]
    for s in compiled["data"]["statuses"]:
        if s["name"] == "Meeting SLA":
            s["severity"] = "critical"
            s["severity_rationale"] = "\x1b]8;;https://evil.example/\x07click\x1b]8;;\x07\x1b[2J"
    compiled["json"] = [t.replace('"severity": "ok"', '"severity": "critical\\u001b[5m"') for t in compiled["json"]]
    return compiled


def test_kb_cache_dir_is_cachefs_cache_dir() -> None:
    assert kb.cache_dir is cachefs.cache_dir


def test_the_key_is_the_content() -> None:
    assert cache_key(GOOD) == cache_key(bytes(GOOD))
    assert cache_key(GOOD) != cache_key(GOOD.replace(b"severity: ok", b"severity: ko", 1))
    assert cache_key(GOOD)[:2] == (kb.CACHE_FORMAT, __version__)


def test_an_edit_that_keeps_size_and_mtime_is_seen(tmp_path: Path, folder: Path) -> None:
    """`touch -r`: same size, same modification time, same inode, other content."""
    path = kb_copy(tmp_path)
    warm(path, folder)
    before = os.stat(path)
    edited = GOOD.replace(b"    severity: ok\n", b"    severity: warning\n", 1)  # Meeting SLA
    longer = len(edited) - len(GOOD)
    edited = edited.replace(b"# Groups (VPGs).", b"# Groups (VPGs)"[:-longer] + b".", 1)  # the same size again
    assert len(edited) == len(GOOD) and edited != GOOD
    with open(path, "r+b") as fh:  # in place: the inode stays
        fh.write(edited)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = os.stat(path)
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == (before.st_size, before.st_mtime_ns, before.st_ino)
    assert load_kb(str(path)).status("Meeting SLA").severity == "warning"  # type: ignore[union-attr]
    assert explain_json(path)[0]["severity"] == "warning"


@POSIX
def test_a_fifo_at_the_cache_path_does_not_hang(tmp_path: Path, folder: Path) -> None:
    path = kb_copy(tmp_path)
    entry = warm(path, folder)
    entry.unlink()
    os.mkfifo(entry)
    doc, _ = explain_json(path, "Error")  # 30 s timeout: a hang fails the test
    assert doc["name"] == "Error"
    r = run_zvpg("--data", str(path), "triage", "--nagios", "--allow-empty", input="[]", timeout=30)
    assert r.returncode == 0 and r.stdout.startswith(b"ZVPG OK")
    assert stat.S_ISREG(os.lstat(entry).st_mode)  # replaced by a real entry


def _last_pid() -> int:
    try:
        return int(Path("/proc/sys/kernel/ns_last_pid").read_text())
    except (OSError, ValueError):
        return os.getpid()


@POSIX
def test_symlinks_at_temporary_names_are_not_written_through(tmp_path: Path, folder: Path) -> None:
    """Another user who plants symlinks at the names of upcoming temporaries
    (and at the entry itself) must not make zvpg overwrite the victim file."""
    path = kb_copy(tmp_path)
    entry = warm(path, folder)
    entry.unlink()
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"precious\n")
    first = _last_pid()
    pids = {os.getpid(), *range(first + 1, first + 400)}
    for pid in pids:
        (folder / f"{entry.name}.{pid}.tmp").symlink_to(victim)
    (folder / f"{entry.name}.tmp").symlink_to(victim)
    load_kb(str(path))  # in this process: its pid is among the planted ones
    assert victim.read_bytes() == b"precious\n"
    entry.unlink()
    r = run_zvpg("--data", str(path), "list", timeout=30)
    assert r.returncode == 0
    assert victim.read_bytes() == b"precious\n"
    entry.unlink()
    entry.symlink_to(victim)  # at the entry's own name
    assert explain_json(path)[0]["severity"] == "ok"
    assert victim.read_bytes() == b"precious\n"
    assert stat.S_ISREG(os.lstat(entry).st_mode) and decode_cache(entry.read_bytes(), cache_key(GOOD))


@POSIX
@pytest.mark.parametrize("mode", [0o777, 0o775, 0o1777])
def test_a_folder_others_can_write_is_not_used(tmp_path: Path, folder: Path, mode: int) -> None:
    """A planted entry with the right key, in a folder group or others can
    write: not served; one warning; correct answers; nothing written there."""
    path = kb_copy(tmp_path)
    entry = warm(path, folder)
    entry.write_bytes(encode_cache(cache_key(GOOD), planted(GOOD)))
    os.chmod(folder, mode)
    doc, err = explain_json(path)
    assert doc["severity"] == "ok" and "\x1b" not in json.dumps(doc)
    assert err.count("\n") == 1 and "is not used: it is writable by group or others" in err
    r = run_zvpg("--data", str(path), "explain", "No such thing", "--json", timeout=30)  # two loads
    assert r.returncode == 1 and r.stderr.decode().count("warning") == 1
    r = run_zvpg("--data", str(path), "triage", "--nagios", "--allow-empty", input="[]", timeout=30)
    assert r.returncode == 0 and r.stdout.startswith(b"ZVPG OK")
    assert [p.name for p in folder.iterdir()] == [entry.name]  # no temporaries either
    os.chmod(folder, 0o700)


@POSIX
def test_a_planted_entry_others_can_write_is_not_served(tmp_path: Path, folder: Path) -> None:
    path = kb_copy(tmp_path)
    entry = warm(path, folder)
    entry.write_bytes(encode_cache(cache_key(GOOD), planted(GOOD)))
    os.chmod(entry, 0o666)
    doc, err = explain_json(path)
    assert doc["severity"] == "ok" and "is ignored: it is writable by group or others" in err
    assert stat.S_IMODE(os.stat(entry).st_mode) == 0o600  # replaced by zvpg's own
    rebuilt = decode_cache(entry.read_bytes(), cache_key(GOOD))
    assert rebuilt is not None and rebuilt["data"] == load_compiled(None, use_cache=False)["data"]


@POSIX
@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="only root can give a file away")
def test_an_entry_owned_by_another_user_is_not_served(tmp_path: Path, folder: Path) -> None:
    path = kb_copy(tmp_path)
    entry = warm(path, folder)
    entry.write_bytes(encode_cache(cache_key(GOOD), planted(GOOD)))
    os.chown(entry, 65534, 65534)
    doc, err = explain_json(path)
    assert doc["severity"] == "ok" and "is ignored: it is owned by another user" in err
    os.chown(folder, 65534, 65534)
    doc, err = explain_json(path)
    assert doc["severity"] == "ok" and "is not used: it is owned by another user" in err


def _damaged_entries() -> dict[str, dict[str, Any]]:
    """Entries with the right key and an intact hash whose content is not
    what zvpg writes (a foreign or damaged writer): each must be rebuilt."""
    good = load_compiled(None, use_cache=False)
    del good["path"]
    out: dict[str, dict[str, Any]] = {}

    def variant(name: str, change: Any) -> None:
        c = copy.deepcopy(good)
        change(c)
        out[name] = c

    variant("no json", lambda c: c.update(json=[]))
    variant("short json", lambda c: c.update(json=c["json"][:3]))
    variant("json not text", lambda c: c["json"].__setitem__(0, 7))
    variant("index past the entries", lambda c: c.update(index=tuple((t[0], t[1], t[2], 999, t[4], t[5])
                                                                     for t in c["index"])))
    variant("index of pairs", lambda c: c.update(index=tuple(t[:2] for t in c["index"])))
    variant("index a list", lambda c: c.update(index=list(c["index"])))
    variant("no data", lambda c: c.pop("data"))
    variant("statuses null", lambda c: c["data"].update(statuses=None))
    variant("entry a string", lambda c: c["data"]["substatuses"].__setitem__(0, "Error"))
    variant("severity with escapes", lambda c: c["data"]["statuses"][1].update(severity="\x1b[31mok"))
    variant("name a number", lambda c: c["data"]["statuses"][1].update(name=5))
    variant("aliases a string", lambda c: c["data"]["statuses"][1].update(aliases="x"))
    variant("unknown field", lambda c: c["data"]["statuses"][1].update(colour="green"))
    variant("missing field", lambda c: c["data"]["substatuses"][0].pop("documented"))
    variant("listing a string", lambda c: c["data"]["substatuses"][0].update(statuses=["Meeting SLA"]))
    variant("evidence of numbers", lambda c: c["data"]["substatuses"][0].update(evidence={"action": [1]}))
    variant("no_substatus a list", lambda c: c["data"].update(no_substatus=[0]))
    return out


DAMAGED = _damaged_entries()


@pytest.mark.parametrize("case", sorted(DAMAGED))
def test_a_damaged_entry_with_the_right_key_is_rebuilt(tmp_path: Path, folder: Path, case: str) -> None:
    path = kb_copy(tmp_path)
    entry = warm(path, folder)
    entry.write_bytes(encode_cache(cache_key(GOOD), DAMAGED[case]))
    kb_ = load_kb(str(path))
    assert kb_.status("Meeting SLA").severity == "ok"  # type: ignore[union-attr]
    rebuilt = decode_cache(entry.read_bytes(), cache_key(GOOD))
    assert rebuilt is not None and rebuilt["json"] == load_compiled(None, use_cache=False)["json"]


def test_damaged_entries_through_the_cli(tmp_path: Path, folder: Path) -> None:
    """The fast path (explain --json), the model path and the monitoring path,
    each after a different damaged entry, and after damaged bytes."""
    path = kb_copy(tmp_path)
    entry = warm(path, folder)
    for case, args in (("index past the entries", ["explain", "Error", "--json"]),
                       ("short json", ["explain", "Meeting SLA", "--json"]),
                       ("missing field", ["list"]),
                       ("statuses null", ["triage", "--nagios", "--allow-empty"])):
        entry.write_bytes(encode_cache(cache_key(GOOD), DAMAGED[case]))
        r = run_zvpg("--data", str(path), *args, input="[]", timeout=30)
        assert r.returncode == 0 and r.stderr == b"", (case, r.stderr)
        assert decode_cache(entry.read_bytes(), cache_key(GOOD)) is not None
    blob = entry.read_bytes()
    for damaged in (blob[: len(blob) // 2], blob[:-1] + bytes([blob[-1] ^ 1]), b"\x00garbage", b""):
        entry.write_bytes(damaged)
        doc, err = explain_json(path, "Error")
        assert doc["name"] == "Error" and err == ""
        assert entry.read_bytes() == blob


def test_an_old_or_foreign_entry_is_not_read(tmp_path: Path, folder: Path) -> None:
    """The previous format (a bare marshal of (stat key, data)) and an entry of
    another version are rebuilt, not trusted."""
    import marshal

    path = kb_copy(tmp_path)
    entry = warm(path, folder)
    st = os.stat(path)
    old_key = (1, __version__, os.path.abspath(path), st.st_mtime_ns, st.st_size, st.st_ino)
    entry.write_bytes(marshal.dumps((old_key, planted(GOOD))))
    assert explain_json(path)[0]["severity"] == "ok"
    other = (kb.CACHE_FORMAT, "0.0.0-other", cache_key(GOOD)[2])
    entry.write_bytes(encode_cache(other, planted(GOOD)))
    assert explain_json(path)[0]["severity"] == "ok"


@POSIX
def test_the_folder_is_created_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fresh = tmp_path / "new" / "zvpg"
    monkeypatch.setenv("ZVPG_CACHE_DIR", str(fresh))
    old = os.umask(0)
    try:
        load_kb(str(KB_FILE))
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(fresh).st_mode) == 0o700
    [entry] = fresh.iterdir()
    assert stat.S_IMODE(os.stat(entry).st_mode) == 0o600


@POSIX
def test_a_symlinked_folder_is_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = tmp_path / "elsewhere"
    real.mkdir(mode=0o700)
    link = tmp_path / "cache-link"
    link.symlink_to(real)
    monkeypatch.setenv("ZVPG_CACHE_DIR", str(link))
    r = run_zvpg("--data", str(kb_copy(tmp_path)), "list", timeout=30)
    assert r.returncode == 0 and b"not a folder" in r.stderr and r.stderr.count(b"\n") == 1
    assert list(real.iterdir()) == []


def test_the_cache_check_knows_the_model_severities() -> None:
    """kb checks severities read back without importing the model: the two lists agree."""
    from zvpg_cli.knowledge.model import SEVERITIES

    assert (None, *SEVERITIES) == kb._SEVERITIES


def test_writing_an_entry_removes_other_versions_and_month_old_entries(tmp_path: Path, folder: Path) -> None:
    """Each installed version (each venv's packaged file) used to leave its own entry forever."""
    old_version = folder / "kb-0.0.1-0123456789abcdef.marshal"
    old_naming = folder / "kb-0123456789abcdef.marshal"  # before entries were named by version
    stale = folder / f"kb-{kb._version_tag()}-fedcba9876543210.marshal"
    recent = folder / f"kb-{kb._version_tag()}-aaaaaaaaaaaaaaaa.marshal"
    other = folder / "zvm"  # the ZVM sessions' folder is not the knowledge base's
    folder.mkdir(parents=True, exist_ok=True)
    other.mkdir()
    for path in (old_version, old_naming, stale, recent):
        path.write_bytes(b"x")
    month = time.time() - kb.CACHE_MAX_AGE - 60
    os.utime(stale, (month, month))
    load_kb(str(kb_copy(tmp_path)))
    left = sorted(p.name for p in folder.iterdir())
    assert old_version.name not in left and old_naming.name not in left and stale.name not in left
    assert recent.name in left and "zvm" in left
    assert len([n for n in left if n.endswith(".marshal")]) == 2
    before = sorted(p.name for p in folder.iterdir())
    load_kb(str(kb_copy(tmp_path)))  # read from the cache: nothing written, nothing removed
    assert sorted(p.name for p in folder.iterdir()) == before
