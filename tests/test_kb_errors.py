"""Broken, hostile and alternative knowledge-base files: one-line errors that
name the file and the line, exit 2, never a traceback, never code execution."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import KB_FILE

from zvpg_cli.knowledge.kb import KBError, load_kb
from zvpg_cli.knowledge.schema import check_file

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
    assert r.exit_code == 2 and "nope.yaml: No such file or directory" in r.stderr
    r = cli("--data", str(tmp_path), "list")
    assert r.exit_code == 2 and "not a regular file" in r.stderr
    if sys.platform != "win32" and os.geteuid() != 0:  # root reads anything
        p = write(tmp_path, GOOD, "locked.yaml")
        os.chmod(p, 0)
        assert cli("--data", p, "list").exit_code == 2


def test_missing_file_is_named_once(tmp_path: Path, cli: Any, run: Any) -> None:
    missing = str(tmp_path / "nope.yaml")
    r = cli("--data", missing, "explain", "Error")
    assert r.exit_code == 2 and r.stderr == f"zvpg: {missing}: No such file or directory\n"
    p = run("--data", missing, "triage", "--nagios", input="[]")
    assert p.returncode == 3
    assert p.stdout.decode() == f"ZVPG UNKNOWN - cannot read knowledge base: {missing}: No such file or directory\n"


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
    edited = GOOD.replace('severity_rationale: "The documentation\'s status table lists it under Meeting SLA',
                          'severity_rationale: "Local override: listed under Meeting SLA', 1)
    assert edited != GOOD
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
    path = write(tmp_path, GOOD, "locked.yaml")
    real_open = os.open

    def guarded(file: Any, *args: Any, **kwargs: Any) -> Any:
        if str(file) == path:
            raise PermissionError(13, "Permission denied")
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(os, "open", guarded)
    r = cli("--data", path, "list")
    assert r.exit_code == 2 and "Permission denied" in r.stderr and r.stderr.count("\n") == 1


# ---- issue 11: every structurally wrong file gets file:line errors, never a crash ----------

_TOP = GOOD.index("\nstatuses:\n") + 1
_SUBS = GOOD.index("\nsubstatuses:\n") + 1


def _without_block(text: str, start: int, end: int, replacement: str = "") -> str:
    return text[:start] + replacement + text[end:]


STRUCTURE_CASES = {
    "no statuses": _without_block(GOOD, _TOP, _SUBS),
    "no substatuses": GOOD[:_SUBS],
    "neither": GOOD[:_TOP],
    "statuses null": _without_block(GOOD, _TOP, _SUBS, "statuses: null\n"),
    "statuses a number": _without_block(GOOD, _TOP, _SUBS, "statuses: 5\n"),
    "statuses a mapping": _without_block(GOOD, _TOP, _SUBS, "statuses: {a: 1}\n"),
    "substatuses null": GOOD[:_SUBS] + "substatuses:\n",
    "substatuses a string": GOOD[:_SUBS] + "substatuses: many\n",
    "no_substatus.api_name missing": GOOD.replace('  api_name: "None"\n', "", 1),
    "no_substatus.api_name a number": GOOD.replace('  api_name: "None"\n', "  api_name: 7\n", 1),
    "no_substatus.api_name null": GOOD.replace('  api_name: "None"\n', "  api_name: null\n", 1),
    "no_substatus.api_code missing": GOOD.replace("no_substatus:\n  api_code: 0\n", "no_substatus:\n", 1),
    "no_substatus.api_code a string": GOOD.replace("no_substatus:\n  api_code: 0\n",
                                                   "no_substatus:\n  api_code: x\n", 1),
    "no_substatus a list": GOOD.replace("no_substatus:\n  api_code: 0\n", "no_substatus:\n  - api_code: 0\n", 1)
    .replace('  api_name: "None"\n', '    api_name: "None"\n', 1)
    .replace('  meaning: "No substatus', '    meaning: "No substatus', 1),
    "a listing without status": GOOD.replace('      - status: "Moving"\n        listed_as:', "      - listed_as:", 1),
    "an entry that is a string": GOOD.replace("substatuses:\n", "substatuses:\n  - just a name\n", 1),
    "a status without name": GOOD.replace('  - name: "Initializing"\n    table_label', "  - table_label", 1),
}


@pytest.mark.parametrize("case", sorted(STRUCTURE_CASES))
def test_structurally_wrong_files_fail_with_lines(tmp_path: Path, cli: Any, case: str) -> None:
    text = STRUCTURE_CASES[case]
    assert text != GOOD, "the case did not change the file"
    path = write(tmp_path, text)
    problems = check_file(path)
    assert problems and all(p.line for p in problems), problems
    with pytest.raises(KBError) as exc:
        load_kb(path)
    assert exc.value.line
    r = cli("validate", path)
    assert r.exit_code == 2 and r.stdout == ""
    assert all(line.startswith(f"{path}:") for line in r.stderr.splitlines()[:-1]), r.stderr
    for args in (["list"], ["explain", "Error"], ["decode", "2", "6"]):
        r = cli("--data", path, *args)
        assert r.exit_code == 2 and r.stderr.startswith(f"zvpg: {path}:") and r.stderr.count("\n") == 1, r.stderr
    r = cli("--data", path, "triage", "--nagios", input="[]")
    assert r.exit_code == 3 and r.stdout.startswith("ZVPG UNKNOWN - "), r.stdout


def _code(text: str, value: str) -> str:
    """`text` with the first status's api_code (Initializing, 0) set to `value`."""
    return text.replace("    api_code: 0\n", f"    api_code: {value}\n", 1)


CODE_CASES = {
    "negative": (_code(GOOD, "-1"), "from 0 to 2147483647"),
    "past Int32": (_code(GOOD, "2147483648"), "from 0 to 2147483647"),
    "4,400 digits": (_code(GOOD, "1" + "0" * 4400), "too large"),
    "4,000 hex digits": (_code(GOOD, "0x1" + "0" * 4000), "too large"),
    "long sexagesimal": (_code(GOOD, "1" + ":59" * 200_000), "too large"),
    "huge other numbering": (GOOD.replace("system: ", "system: ", 1).replace(
        "        code: ", "        code: 0x" + "f" * 3000 + "\n        old_code: ", 1), "too large"),
    "no_substatus code": (GOOD.replace("no_substatus:\n  api_code: 0\n", "no_substatus:\n  api_code: -7\n", 1),
                          "from 0 to 2147483647"),
    "bad date": (_code(GOOD, "2001-13-45"), "not a valid timestamp"),
    "bad explicit bool": (_code(GOOD, "!!bool maybe"), "not a valid bool"),
    "bad explicit timestamp": (_code(GOOD, "!!timestamp soon"), "not a valid timestamp"),
    "bad explicit float": (_code(GOOD, "!!float x"), "not a valid float"),
    "huge schema_version": (GOOD.replace("schema_version: 1", "schema_version: 0x" + "f" * 60, 1), "not supported"),
}


@pytest.mark.parametrize("case", sorted(CODE_CASES))
def test_out_of_range_and_unreadable_numbers(tmp_path: Path, cli: Any, case: str) -> None:
    text, message = CODE_CASES[case]
    assert text != GOOD
    path = write(tmp_path, text)
    problems = check_file(path)
    assert problems and all(p.line for p in problems) and message in problems[0].message, problems
    r = cli("validate", path)
    assert r.exit_code == 2 and message in r.stderr and len(r.stderr) < 2000
    r = cli("--data", path, "explain", "Error", "--json")
    assert r.exit_code == 2 and r.stderr.count("\n") == 1 and message in r.stderr


def test_largest_code_is_valid(tmp_path: Path, cli: Any) -> None:
    path = write(tmp_path, _code(GOOD, "2147483647"))
    assert check_file(path) == []
    r = cli("--data", path, "decode", "2147483647")
    assert r.exit_code == 0 and "Initializing" in r.stdout


def test_status_needs_a_severity(tmp_path: Path) -> None:
    text = GOOD.replace("    severity: warning\n", "    severity: null\n", 1)  # Initializing
    problems = check_file(write(tmp_path, text))
    assert [p.line for p in problems] == [line_of(text, "    severity: null")]
    assert "a status needs a severity" in problems[0].message


def test_empty_evidence_is_not_a_quote(tmp_path: Path) -> None:
    needle = '        - "An attempt to remove the VPG failed and it must be forcibly removed."\n'
    for empty in ('""', '"  "'):
        text = GOOD.replace(needle, f"        - {empty}\n", 1)
        assert text != GOOD
        problems = check_file(write(tmp_path, text))
        assert len(problems) == 1 and "empty sentence" in problems[0].message and problems[0].line


def test_control_character_has_a_line(tmp_path: Path, cli: Any) -> None:
    text = "# é è\n" + GOOD.replace('    api_name: "BitmapSync"', '    api_name: "Bitmap\x07Sync"', 1)
    path = write(tmp_path, text)
    [problem] = check_file(path)
    assert problem.line == line_of(text, '    api_name: "Bitmap\x07Sync"')
    assert "control characters" in problem.message and "position" not in problem.message
    r = cli("--data", path, "list")
    assert r.exit_code == 2 and r.stderr.count("\n") == 1 and f"{path}:{problem.line}:" in r.stderr


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_validate_refuses_a_fifo_at_once(tmp_path: Path) -> None:
    from conftest import run_zvpg

    fifo = tmp_path / "kb.fifo"
    os.mkfifo(fifo)
    for args in (["validate", str(fifo)], ["--data", str(fifo), "list"], ["--data", str(fifo), "explain", "Error"]):
        r = run_zvpg(*args, timeout=20)
        assert r.returncode == 2 and b"not a regular file" in r.stderr, (args, r.stderr)
    assert check_file(str(fifo))[0].message.endswith("not a regular file")


def _huge_kb(sentences: list[str], quotes: list[str]) -> str:
    """The shipped file plus one substatus whose description holds `sentences`
    and whose evidence quotes `quotes` (the shape that took minutes: many
    short quotes from a long text)."""
    quoted = ", ".join(f'"{q}"' for q in quotes)
    return GOOD.rstrip("\n") + f'''

  - name: "Huge Substatus"
    aliases: []
    api_code: 9999
    api_name: "HugeSubstatus"
    documented: true
    statuses:
      - status: "Meeting SLA"
        listed_as: "Huge Substatus"
    comment: null
    description: "{' '.join(sentences)}"
    recovery: null
    new_checkpoints: null
    needs_powered_on_vms: null
    protection_halted: null
    action: "Read the documentation."
    severity: warning
    severity_rationale: null
    evidence:
      action: [{quoted}]
'''


def test_validation_of_a_huge_knowledge_base_is_bounded(tmp_path: Path, cli: Any) -> None:
    """A 4.7 MiB knowledge base of 175,000 evidence quotes took minutes on
    every command; valid or not, it is judged now, and evidence that would
    need a scan past the validator's budget is refused for that (a bound in
    the code, not in seconds: no wall-clock assertion here)."""
    sentences = [f"Fact {i}." for i in range(175_000)]
    valid = write(tmp_path, _huge_kb(sentences, sentences[::-1]), "valid.yaml")
    assert os.path.getsize(valid) > 4.5 * 1024 * 1024
    assert check_file(valid) == []
    r = cli("--data", valid, "explain", "Huge Substatus", "--json")
    assert r.exit_code == 0 and '"HugeSubstatus"' in r.stdout
    wrong = write(tmp_path, _huge_kb(sentences, [f"Fact {i}!" for i in range(175_000)]), "wrong.yaml")
    assert "not quoted word for word" in check_file(wrong)[0].message
    fragments = write(tmp_path, _huge_kb(sentences, [f"act {i}" for i in range(175_000)]), "fragments.yaml")
    assert "too much to check" in check_file(fragments)[0].message


def test_aliases_cannot_blow_the_document_up(tmp_path: Path) -> None:
    """A "billion laughs" and a list that contains itself: refused with a line
    (by the size and cycle checks, before the document is expanded)."""
    many = "[" + ",".join(f'"w{i}"' for i in range(20_000)) + "]"
    bomb = GOOD.replace("    aliases: []\n", f"    aliases: &words {many}\n", 1).replace(
        "    aliases: []\n", "    aliases: *words\n")
    laughs = "lol0: &l0 [" + ",".join(['"lol"'] * 10) + "]\n" + "".join(
        f"lol{i}: &l{i} [" + ",".join([f"*l{i - 1}"] * 10) + "]\n" for i in range(1, 9))
    for text, message in ((bomb, "more than twice as large"),
                          (GOOD.replace("    aliases: []\n", "    aliases: &me [*me]\n", 1), "contains it"),
                          (GOOD.replace("    aliases: []\n", "    aliases: &x {a: *x}\n", 1), "contains it"),
                          (GOOD.replace("schema_version: 1\n", "schema_version: 1\n" + laughs, 1),
                           "more than twice as large")):
        problems = check_file(write(tmp_path, text))
        assert len(problems) == 1 and message in problems[0].message and problems[0].line, problems
    shared = GOOD.replace("    aliases: []\n", '    aliases: &none ["Zero"]\n', 1).replace(
        '    aliases: ["Delta Sync"]\n', '    aliases: ["Delta Sync"]\n    comment: *none\n', 1)
    assert any("'comment' must be a string" in p.message for p in check_file(write(tmp_path, shared)))


def test_messages_stay_short_whatever_the_names(tmp_path: Path) -> None:
    long_name = "N" * 100_000
    text = GOOD.replace('  - name: "Committing Move"', f'  - name: "{long_name}"\n    colour: x', 1)
    problems = check_file(write(tmp_path, text))
    assert problems and all(len(p.message) < 500 for p in problems)
