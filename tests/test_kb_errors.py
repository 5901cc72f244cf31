"""Broken, hostile and alternative knowledge-base files: one-line errors that
name the file and the line, exit 2, never a traceback, never code execution."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import KB_FILE

from zvpg_cli.kb import KBError, load_kb
from zvpg_cli.schema import check_file

GOOD = KB_FILE.read_text(encoding="utf-8")


def write(tmp_path: Path, text: str, name: str = "kb.yaml") -> str:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return str(p)


def line_of(text: str, needle: str, nth: int = 1) -> int:
    pos = -1
    for _ in range(nth):
        pos = text.index(needle, pos + 1)
    return text[:pos].count("\n") + 1


CASES = {
    "unknown key": (GOOD.replace("    severity: ok\n", "    severity: ok\n    colour: green\n", 1),
                    "unknown key 'colour'", "    colour: green"),
    "missing field": (GOOD.replace('    api_name: "BitmapSync"\n', "", 1), "missing key 'api_name'",
                      '  - name: "Bitmap Syncing"'),
    "duplicate name": (GOOD.replace('  - name: "Committing Move"', '  - name: "Committing Failover"', 1),
                       "already used by substatus 'Committing Failover'", '  - name: "Committing Failover"', 2),
    "duplicate alias": (GOOD.replace('    aliases: ["Delta Sync"]', '    aliases: ["Delta Sync", "Promoting"]', 1),
                        "alias 'Promoting' is already used by substatus 'Promoting'", '    aliases: ["Delta Sync", "P'),
    "duplicate code": (GOOD.replace("    api_code: 23\n", "    api_code: 21\n", 1), "api_code 21 is already used",
                       "    api_code: 21", 2),
    "dangling status": (GOOD.replace('      - status: "Moving"', '      - status: "Movin"', 1),
                        "listed under unknown status 'Movin'", '      - status: "Movin"'),
    "dangling substatuses_from": (GOOD.replace('substatuses_from: "Not Meeting SLA"', 'substatuses_from: "Not SLA"', 1),
                                  "substatuses_from names no other status", '  - name: "RPO Not Meeting SLA"'),
    "wrong type": (GOOD.replace("    api_code: 23\n", '    api_code: "23"\n', 1), "'api_code' must be an integer",
                   '    api_code: "23"'),
    "bad severity": (GOOD.replace("    severity: ok\n", "    severity: fine\n", 1), "severity must be one of",
                     '    severity: fine'),
    "fact without evidence": (GOOD.replace("    protection_halted: null\n", "    protection_halted: true\n", 1),
                              "'protection_halted' is set but has no evidence", "    protection_halted: true"),
    "invented evidence": (GOOD.replace('        - "Once the problem is resolved a synchronization is required."',
                                       '        - "Once the problem is resolved, nothing is required."', 1),
                          "not quoted word for word", "      action:", 0),
    "duplicate key": (GOOD.replace("    api_code: 23\n", "    api_code: 23\n    api_code: 23\n", 1),
                      "duplicate key 'api_code'", "    api_code: 23", 2),
    "syntax error": (GOOD.replace('  - name: "Promoting"', '  - name: "Promoting\n  oops: [', 1), "YAML error", None),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_invalid_files(tmp_path: Path, cli: Any, case: str) -> None:
    text, message, where, *nth = CASES[case]
    assert text != GOOD, "the case did not change the file"
    path = write(tmp_path, text)
    with pytest.raises(KBError) as exc:
        load_kb(path)
    assert message in str(exc.value)
    assert str(exc.value).startswith(path + ":")
    if where is not None:
        if nth == [0]:  # the key above the sentence: the last such key before it
            pos = text.rindex(where, 0, text.index("nothing is required"))
            expected = text[:pos].count("\n") + 1
        else:
            expected = line_of(text, where, *(nth or [1]))
        assert exc.value.line == expected, str(exc.value)
    r = cli("--data", path, "explain", "Error")
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and message in r.stderr and "Traceback" not in r.stderr


def test_python_tags_are_refused_not_executed(tmp_path: Path, cli: Any) -> None:
    marker = tmp_path / "pwned"
    evil = f"!!python/object/apply:os.system ['touch {marker}']\n"
    path = write(tmp_path, GOOD.replace("schema_version: 1", f"schema_version: {evil}", 1))
    r = cli("--data", path, "list")
    assert r.exit_code == 2 and "YAML error" in r.stderr and path in r.stderr
    assert not marker.exists()
    path2 = write(tmp_path, "!!python/object/new:os.system [echo hi]\n", "evil2.yaml")
    assert cli("--data", path2, "list").exit_code == 2


@pytest.mark.parametrize("content", ["", "# only a comment\n", "[]\n", "just a string\n", "42\n"])
def test_empty_and_wrong_shape(tmp_path: Path, cli: Any, content: str) -> None:
    r = cli("--data", write(tmp_path, content), "list")
    assert r.exit_code == 2 and r.stderr.count("\n") == 1 and ":1:" in r.stderr


def test_missing_directory_unreadable(tmp_path: Path, cli: Any) -> None:
    r = cli("--data", str(tmp_path / "nope.yaml"), "list")
    assert r.exit_code == 2 and "cannot read" in r.stderr
    r = cli("--data", str(tmp_path), "list")
    assert r.exit_code == 2 and "not a regular file" in r.stderr
    if sys.platform != "win32" and os.geteuid() != 0:  # root reads anything
        p = write(tmp_path, GOOD, "locked.yaml")
        os.chmod(p, 0)
        assert cli("--data", p, "list").exit_code == 2


def test_not_utf8(tmp_path: Path, cli: Any) -> None:
    p = tmp_path / "latin1.yaml"
    p.write_bytes(GOOD.encode("utf-8").replace(b"\xe2\x80\x94", b"\xff"))
    r = cli("--data", str(p), "list")
    assert r.exit_code == 2 and "not UTF-8" in r.stderr


def test_too_large(tmp_path: Path, cli: Any) -> None:
    p = tmp_path / "big.yaml"
    with open(p, "w", encoding="utf-8") as fh:
        fh.write(GOOD)
        fh.write("#" + "x" * 1023 + "\n" * 1 * 1)
        fh.write(("# " + "y" * 1000 + "\n") * 50_000)  # ~50 MB
    r = cli("--data", str(p), "list")
    assert r.exit_code == 2 and "limit" in r.stderr and r.stderr.count("\n") == 1


def test_env_var_and_option(tmp_path: Path, cli: Any) -> None:
    edited = GOOD.replace('severity_rationale: "The documentation describes it as how',
                          'severity_rationale: "Local override: how', 1)
    path = write(tmp_path, edited)
    assert "Local override" in cli("explain", "Bitmap Syncing", env={"ZVPG_DATA": path}).stdout
    assert "Local override" in cli("--data", path, "explain", "Bitmap Syncing").stdout
    assert "Local override" not in cli("explain", "Bitmap Syncing").stdout


def test_validate_lists_every_problem(tmp_path: Path, cli: Any) -> None:
    text = GOOD.replace("    severity: ok\n", "    severity: fine\n", 1)
    text = text.replace("    api_code: 23\n", "    api_code: 21\n", 1)
    path = write(tmp_path, text)
    problems = check_file(path)
    assert len(problems) == 2
    r = cli("validate", path)
    assert r.exit_code == 2 and "2 problems" in r.stderr
    assert "severity must be one of" in r.stderr and "api_code 21" in r.stderr
    good = cli("validate", str(KB_FILE))
    assert good.exit_code == 0 and "valid" in good.stdout


def test_cache_is_rebuilt_when_the_file_changes(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    assert load_kb(path).status("Meeting SLA").severity == "ok"  # type: ignore[union-attr]
    cache_files = os.listdir(os.environ["ZVPG_CACHE_DIR"])
    assert len(cache_files) == 1
    write(tmp_path, GOOD.replace("    severity: ok\n", "    severity: warning\n", 1))
    os.utime(path, ns=(1, 1))  # a different mtime, even on coarse clocks
    assert load_kb(path).status("Meeting SLA").severity == "warning"  # type: ignore[union-attr]


def test_damaged_cache_is_ignored(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    load_kb(path)
    folder = os.environ["ZVPG_CACHE_DIR"]
    for name in os.listdir(folder):
        Path(folder, name).write_bytes(b"\x00garbage")
    assert len(load_kb(path).statuses) == 9


def test_unwritable_cache_folder_still_works(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("ZVPG_CACHE_DIR", str(blocker / "sub"))
    assert len(load_kb(str(KB_FILE)).substatuses) == 35


def test_unreadable_file_even_as_root(tmp_path: Path, cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """chmod 0 does not stop root; a failing open() stands in for it."""
    import builtins

    path = write(tmp_path, GOOD, "locked.yaml")
    real_open = builtins.open

    def guarded(file: Any, *args: Any, **kwargs: Any) -> Any:
        if str(file) == path:
            raise PermissionError(13, "Permission denied")
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", guarded)
    r = cli("--data", path, "list")
    assert r.exit_code == 2 and "Permission denied" in r.stderr and r.stderr.count("\n") == 1
