"""Which part of a site a payload is (`sources.shape`): told by the members its
objects carry, refused in one line when it cannot be told, never guessed, and never
a crash, whatever the input."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zvpg_cli.sources.hygiene import PayloadError
from zvpg_cli.sources.shape import PARTS, markers, part_of, part_of_file

MARKERS = sorted(n for names in markers().values() for n in names)

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(10**40), max_value=10**40),
                         st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=20))
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(st.one_of(st.sampled_from([*MARKERS, "value", "Count"]), st.text(max_size=8)), inner,
                    max_size=4)), max_leaves=20)


def refused(data: bytes) -> str:
    with pytest.raises(PayloadError) as caught:
        part_of(data)
    message = str(caught.value)
    assert "\n" not in message and message
    return message


@settings(max_examples=300, deadline=None)
@given(json_values, st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]))
def test_any_json_value_is_recognised_or_refused_without_a_crash(value: Any, encoding: str) -> None:
    data = json.dumps(value, ensure_ascii=False).encode(encoding)
    try:
        part = part_of(data)
    except PayloadError as exc:
        assert "\n" not in str(exc)
        return
    assert part in PARTS
    wrapped = isinstance(value, dict) and "value" in value and value.keys() <= {"value", "Count"} \
        and isinstance(value["value"], list)  # as Windows PowerShell writes it
    objects = value["value"] if wrapped else value if isinstance(value, list) else [value]
    # what it says is what every object carries: a member that marks that part
    assert objects and all(isinstance(o, dict) and not markers()[part].isdisjoint(o) for o in objects)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=64))
def test_any_bytes_are_recognised_or_refused_without_a_crash(data: bytes) -> None:
    try:
        assert part_of(data) in PARTS
    except PayloadError as exc:
        assert "\n" not in str(exc)


@pytest.mark.parametrize(("data", "says"), [
    (b"[]", "empty array"),
    (b'"alerts"', "JSON string"),
    (b"[1, 2]", "not an array of objects"),
    (b'[{"Status": 1, "SubStatus": 0}]', "none of the members"),  # a VPG or a VM: which cannot be told
    (b'{"vpgs": [{"name": "ERP"}]}', "none of the members"),  # Zerto Analytics, not the ZVM
    (b'[{"HelpIdentifier": "VPG0010"}, {"VraName": "Z-VRA"}]', "mixes the objects of /v1/alerts and /v1/vras"),
    (b'[{"VpgName": "ERP"}, {"HelpIdentifier": "VPG0010", "PairingStatus": 0}]',
     "object 2 of 2 carries the members of alert and peer site"),
    (b'{"Message":"Valid License is not provided "}', "none of the members"),
    (b"[" * 600 + b"]" * 600, "nested too deeply"),
    (b'{"a": 1', "invalid JSON"),
])
def test_what_cannot_be_told_is_said(data: bytes, says: str) -> None:
    assert says in refused(data)


def test_a_file_is_read_as_every_input_is(tmp_path: Any) -> None:
    big = tmp_path / "big.json"
    big.write_bytes(b'[{"HelpIdentifier": "VPG0010"}]' + b" " * 100)
    assert part_of_file(str(big), 1000) == "alerts"
    with pytest.raises(PayloadError, match="larger than the limit of 100"):
        part_of_file(str(big), 100)
    with pytest.raises(PayloadError, match="cannot read"):
        part_of_file(str(tmp_path / "missing.json"), 100)
