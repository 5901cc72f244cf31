"""Mutants of the shipped knowledge base (issue 11, section 2): a file that
validates must load and work; one that does not must be refused with
file:line problems, exit 2 (--nagios: UNKNOWN, 3). Never a crash (exit 70),
never a traceback.

Every key path of `data/statuses.yaml` is deleted, nulled, given other types
and (list items) duplicated, in process through `schema.check_document`;
hypothesis edits the text itself (duplicated, deleted and retyped lines); a
sample of mutants goes through the real command line, every command that
reads the knowledge base."""

from __future__ import annotations

import datetime
import json
import random
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import yaml
from conftest import KB_FILE, run_zvpg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zvpg_cli.knowledge.decoding import decode
from zvpg_cli.knowledge.kb import build, cache_key, compile_data, decode_cache, encode_cache, well_formed
from zvpg_cli.knowledge.kbyaml import Map as _Map
from zvpg_cli.knowledge.kbyaml import parse_file, parse_source
from zvpg_cli.knowledge.lookup import LookupError_, resolve
from zvpg_cli.knowledge.schema import check_document

DOC, _ = parse_file(str(KB_FILE))
TEXT = KB_FILE.read_text(encoding="utf-8")
LINES = TEXT.splitlines(keepends=True)
_DELETE = object()

#: What a value is replaced with ("retype"): each path gets three of these in turn.
OTHER_VALUES: list[Any] = [None, 0, -1, 2**31, 2**31 - 1, "text", "", "   ", True, [], {}, ["x"], [1],
                           {"k": "v"}, 1.5, datetime.date(2001, 1, 1), "Error", "ok", [None], [{}]]


def key_paths(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*path, key)
            yield from key_paths(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield (*path, index)
            yield from key_paths(value, (*path, index))


def _copy(node: Any) -> Any:
    """A shallow copy that keeps the lines a parsed mapping remembers."""
    if isinstance(node, _Map):
        new = _Map(node)
        new.line, new.key_lines = node.line, dict(node.key_lines)
        return new
    return list(node) if isinstance(node, list) else dict(node)


def mutate(doc: Any, path: tuple[Any, ...], value: Any, *, duplicate: bool = False) -> Any:
    """`doc` with the value at `path` replaced by `value` (or deleted, or
    duplicated); copies only the containers along the path."""
    root = _copy(doc)
    node = root
    for step in path[:-1]:
        node[step] = _copy(node[step])
        node = node[step]
    last = path[-1]
    if duplicate:
        node.insert(last, node[last])
    elif value is _DELETE:
        del node[last]
    else:
        node[last] = value
    return root


def shape(path: tuple[Any, ...]) -> tuple[Any, ...]:
    """A key path with its list indices left out: ("substatuses", "*", "name")."""
    return tuple("*" if isinstance(step, int) else step for step in path)


def mutants() -> Iterator[tuple[str, tuple[Any, ...], Any]]:
    """(label, kind of mutation, mutant): every key path deleted, nulled and
    (list items) duplicated; on one path of each shape (drawn with a fixed
    seed), every value of OTHER_VALUES."""
    rnd = random.Random(11)
    by_shape: dict[tuple[Any, ...], list[tuple[Any, ...]]] = {}
    for path in key_paths(DOC):
        by_shape.setdefault(shape(path), []).append(path)
        yield f"delete {path}", ("delete", shape(path)), mutate(DOC, path, _DELETE)
        yield f"null {path}", ("null", shape(path)), mutate(DOC, path, None)
        if isinstance(path[-1], int):
            yield f"duplicate {path}", ("duplicate", shape(path)), mutate(DOC, path, None, duplicate=True)
    for paths in by_shape.values():
        path = rnd.choice(paths)
        for number, value in enumerate(OTHER_VALUES):
            yield f"{value!r} at {path}", (number, shape(path)), mutate(DOC, path, value)


def assert_judged(label: str, doc: Any, *, deep: bool = True) -> bool:
    """Validation of `doc` either names problems by line or gives data that
    loads and works (`deep`: compiled, cached, built and used). True when it
    is valid."""
    data, problems = check_document(doc)
    if problems:
        assert data is None, label
        for p in problems:
            assert isinstance(p.line, int) and p.line >= 1, (label, p)
            assert "\n" not in p.message and len(p.message) < 500, (label, p)
        return False
    assert data is not None, label
    if not deep:
        return True
    compiled = compile_data("mutant.yaml", data)
    assert well_formed(compiled), label
    key = cache_key(label.encode())
    assert decode_cache(encode_cache(key, compiled), key) == compiled, label
    kb = build("mutant.yaml", compiled)
    for term in ("Error", "Meeting SLA", "bitmap sync"):
        try:
            resolve(kb, term)
        except LookupError_:
            pass
    for status, substatus in ((2, 6), (1, 0), ("NotMeetingSLA", "DeltaSync"), (99, 99)):
        decode(kb, status, substatus)
    return True


def test_every_key_path_mutated_in_process() -> None:
    """Each mutant is validated; the first valid one of each kind and shape is
    also compiled, cached, built and used (they differ only in which entry)."""
    valid = invalid = 0
    used: set[tuple[Any, ...]] = set()
    for label, kind, doc in mutants():
        if assert_judged(label, doc, deep=kind not in used):
            used.add(kind)
            valid += 1
        else:
            invalid += 1
    # both kinds are exercised: optional keys and nullable values give valid files
    assert valid > 100 and invalid > 1000, (valid, invalid)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edits=st.lists(st.tuples(st.sampled_from(["duplicate", "delete", "retype", "dedent"]),
                                st.integers(0, len(LINES) - 1),
                                st.sampled_from(["null", "-1", "0x" + "f" * 40, "[]", "{}", "''", "x: y",
                                                 "2001-02-30", "!!bool maybe", "&a [*a]", "*nowhere", "1:2:3"])),
                      min_size=1, max_size=4))
def test_text_edits(edits: list[tuple[str, int, str]]) -> None:
    """Line-level edits of the YAML text: duplicated keys, deleted lines,
    values of another type, broken indentation."""
    lines = list(LINES)
    for kind, index, value in edits:
        index %= len(lines)
        line = lines[index]
        if kind == "duplicate":
            lines.insert(index, line)
        elif kind == "delete":
            del lines[index]
        elif kind == "retype" and ":" in line and not line.lstrip().startswith("#"):
            lines[index] = line[: line.index(":") + 1] + " " + value + "\n"
        elif kind == "dedent":
            lines[index] = line[2:] if line.startswith("  ") else "  " + line
        if not lines:
            lines = ["\n"]
    raw = "".join(lines).encode("utf-8")
    doc, problems = parse_source(raw)
    for p in problems:
        assert p.line is None or p.line >= 1
        assert "\n" not in p.message
    if doc is not None:
        assert_judged(repr(edits), doc)


def test_every_kind_of_key_duplicated() -> None:
    """A key written twice (each key name at each depth, once) is a problem on
    the second one's line, and the rest of the file is still checked."""
    seen: set[str] = set()
    for number, line in enumerate(LINES):
        key = line.split(":", 1)[0]
        if ":" not in line or not re.fullmatch(r" *(- )?[a-z_]+", key) or key in seen:
            continue
        seen.add(key)
        if key.lstrip().startswith("- "):  # the first key of a list item: duplicate it as a plain key
            line = line.replace("- ", "  ", 1)
        raw = "".join([*LINES[: number + 1], line, *LINES[number + 1:]]).encode("utf-8")
        doc, problems = parse_source(raw)
        assert doc is not None, (key, problems)
        duplicate = [p for p in problems if p.message.startswith("duplicate key")]
        assert [p.line for p in duplicate] == [number + 2], (key, problems)
        assert_judged(f"duplicate {key!r}", doc)
    assert len(seen) > 30


# ---- a sample through the command line ------------------------------------------------

def _plain(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


def _sample() -> list[tuple[str, str]]:
    """Mutants known to have crashed every command, a few valid ones, and a
    seeded random draw of the rest: (label, YAML text)."""
    def at(*path: Any) -> tuple[Any, ...]:
        return path

    chosen = [
        ("no statuses", mutate(DOC, at("statuses"), _DELETE)),
        ("substatuses null", mutate(DOC, at("substatuses"), None)),
        ("no no_substatus.api_name", mutate(DOC, at("no_substatus", "api_name"), _DELETE)),
        ("no_substatus.api_name a number", mutate(DOC, at("no_substatus", "api_name"), 7)),
        ("a code past Int32", mutate(DOC, at("statuses", 2, "api_code"), 2**40)),
        ("a status without severity", mutate(DOC, at("statuses", 0, "severity"), None)),
        ("valid: no comment", mutate(DOC, at("substatuses", 0, "comment"), _DELETE)),
    ]
    rest = [(label, doc) for label, _, doc in mutants()]
    chosen += random.Random(11).sample(rest, 2)
    return [(label, yaml.safe_dump(_plain(doc), allow_unicode=True, sort_keys=False)) for label, doc in chosen]


PAYLOAD = json.dumps([
    {"VpgName": "a", "VpgIdentifier": "1", "Status": 2, "SubStatus": 6, "ActualRPO": 400, "ConfiguredRpoSeconds": 300},
    {"VpgName": "b", "VpgIdentifier": "2", "Status": 1, "SubStatus": 0, "ActualRPO": 5, "ConfiguredRpoSeconds": 300},
])
COMMANDS: list[tuple[list[str], set[int]]] = [
    (["validate"], {0, 2}),
    (["list"], {0, 2}),
    (["explain", "Error"], {0, 1, 2}),  # 1: the mutant has no such entry
    (["decode", "2", "6"], {0, 1, 2}),
    (["triage", "--nagios"], {0, 1, 2, 3}),
]


def _check_verdicts(results: list[tuple[str, list[str], int, str, str]]) -> None:
    """(label, command, exit code, stdout, stderr) of every command on every mutant."""
    verdicts: dict[str, dict[str, int]] = {}
    for label, args, code, out, err in results:
        assert code in dict((a[0], c) for a, c in COMMANDS)[args[0]], (label, args, code, err)
        assert "Traceback" not in err and "internal error" not in err, (label, args, err)
        if args[0] == "triage":
            first = out.splitlines()[0]
            assert first.startswith("ZVPG "), (label, out)
            assert (code == 3) == first.startswith("ZVPG UNKNOWN")
        elif code == 2 and args != ["validate"]:
            assert err.count("\n") == 1 and ".yaml:" in err, (label, args, err)
        verdicts.setdefault(label, {})[args[0]] = code
    for label, codes in verdicts.items():
        # validates <=> loads: every command agrees with validate
        assert (codes["validate"] == 0) == (codes["list"] == 0) == (codes["triage"] != 3), (label, codes)
    assert any(codes["validate"] == 0 for codes in verdicts.values())
    assert any(codes["validate"] == 2 for codes in verdicts.values())


def _write_sample(tmp_path: Path, count: int | None = None) -> list[tuple[str, Path]]:
    out = []
    for number, (label, text) in enumerate(_sample()[:count]):
        path = tmp_path / f"mutant{number}.yaml"
        path.write_text(text, encoding="utf-8")
        out.append((label, path))
    return out


def _argv(args: list[str], path: Path) -> list[str]:
    return ["validate", str(path)] if args == ["validate"] else ["--data", str(path), *args]


def test_a_sample_of_mutants_through_the_commands(tmp_path: Path, cli: Any) -> None:
    """Every command on every mutant of the sample, in process (an exception
    would surface here rather than as exit 70)."""
    results = []
    for label, path in _write_sample(tmp_path):
        for args, _ in COMMANDS:
            r = cli(*_argv(args, path), input=PAYLOAD)
            results.append((label, args, r.exit_code, r.stdout, r.stderr))
    _check_verdicts(results)


def test_mutants_through_the_real_command_line(tmp_path: Path) -> None:
    """The first mutants of the sample (including a valid one) in real subprocesses."""
    sample = _write_sample(tmp_path)
    chosen = sample[:3] + [s for s in sample if s[0].startswith("valid")]
    jobs = [(label, args, _argv(args, path)) for label, path in chosen for args, _ in COMMANDS]

    def run(job: tuple[str, list[str], list[str]]) -> tuple[str, list[str], int, str, str]:
        label, args, argv = job
        r = run_zvpg(*argv, input=PAYLOAD, timeout=60)
        return label, args, r.returncode, r.stdout.decode(), r.stderr.decode("utf-8", "replace")

    with ThreadPoolExecutor(max_workers=4) as pool:
        _check_verdicts(list(pool.map(run, jobs)))
