"""Input that is not a JSON array or object is named for what it is: `not
json` is not JSON (it was called "a JSON null" from its first letter), `null`
is a JSON null, `12x` is not a number. From a file, a pipe, and a pipe that
sends a word in pieces."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile

import pytest
from conftest import run_zvpg
from hypothesis import given
from hypothesis import strategies as st

from zvpg_cli.sources.payload import PayloadError
from zvpg_cli.sources.read import read_source

EXPECTED = "expected a JSON array of API objects, or one object"


NOT_JSON = "input is not JSON: it starts with {} (" + EXPECTED + ")"
A_JSON = "input is a JSON {}: " + EXPECTED


@pytest.mark.parametrize(("data", "message"), [
    (b"not json", NOT_JSON.format("'not'")),
    (b"nullx", NOT_JSON.format("'nullx'")),
    (b"falsey stuff", NOT_JSON.format("'falsey'")),
    (b"12x", NOT_JSON.format("'12x'")),
    (b"null", A_JSON.format("null")),
    (b"  null\n", A_JSON.format("null")),
    (b"true", A_JSON.format("boolean")),
    (b"-1.5e3", A_JSON.format("number")),
    (b'"text"', A_JSON.format("string")),
])
def test_what_the_input_is_is_said(data: bytes, message: str) -> None:
    for args in (["triage"], ["annotate"], ["triage", "-"]):
        p = run_zvpg(*args, input=data)
        assert p.returncode == 2 and p.stdout == b""
        assert p.stderr.decode() == f"zvpg: stdin: {message}\n", p.stderr


def test_a_word_that_arrives_in_pieces_is_judged_whole() -> None:
    code = ("import sys, time; w = sys.stdout.buffer; w.write(b'nu'); w.flush(); time.sleep(0.3); "
            "w.write(b'll'); w.flush()")
    p = subprocess.run(f"'{sys.executable}' -c \"{code}\" | '{sys.executable}' -m zvpg_cli triage", shell=True,
                       capture_output=True, timeout=60)
    assert p.stderr == f"zvpg: stdin: input is a JSON null: {EXPECTED}\n".encode(), p.stderr


@given(st.one_of(st.binary(max_size=40), st.text(max_size=40).map(lambda t: t.encode()),
                 st.sampled_from([b"null", b"true", b"false", b"nul", b"nulll", b"1", b"-", b"01", b"1e5"])
                 .flatmap(lambda w: st.tuples(st.just(w), st.binary(max_size=5)).map(lambda t: t[0] + t[1]))))
def test_a_json_kind_is_named_only_for_input_that_starts_with_one(data: bytes) -> None:
    with tempfile.NamedTemporaryFile() as fh:
        fh.write(data)
        fh.flush()
        try:
            read_source(fh.name)
        except PayloadError as exc:
            text = str(exc)
            if text.startswith("input is a JSON "):
                word = data.strip(b" \t\r\n").split()[0]
                if not word.startswith(b'"'):
                    json.loads(word)  # the first word is the JSON value named
                    assert text.startswith(f"input is a JSON {kind(json.loads(word))}:")


def kind(value: object) -> str:
    return ("null" if value is None else "boolean" if isinstance(value, bool)
            else "number" if isinstance(value, (int, float)) else "string")
