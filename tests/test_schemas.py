"""Real output validates against the published JSON Schemas in schemas/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"


def _registry() -> Registry:
    registry: Registry = Registry()
    for path in SCHEMAS.glob("*.schema.json"):
        schema = json.loads(path.read_text(encoding="utf-8"))
        resource = Resource.from_contents(schema)
        registry = registry.with_resources([(schema["$id"], resource), (path.name, resource)])
    return registry


def validator(name: str) -> Draft202012Validator:
    schema = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, registry=_registry())


def test_list_output(cli: Any) -> None:
    validator("list.schema.json").validate(json.loads(cli("list", "--json").stdout))


@pytest.mark.parametrize("term", ["Initializing", "History Not Meeting SLA", "Delta Syncing", "Backup", "Recovered"])
def test_explain_output(cli: Any, term: str) -> None:
    validator("entry.schema.json").validate(json.loads(cli("explain", term, "--json").stdout))


@pytest.mark.parametrize("args", [("2", "23"), ("1",), ("1", "0"), ("3", "6"), ("8",)])
def test_decode_output(cli: Any, args: tuple[str, ...]) -> None:
    validator("decode.schema.json").validate(json.loads(cli("decode", *args, "--json").stdout))


def test_explain_pair_output(cli: Any) -> None:
    out = cli("explain", "Meeting SLA / Recovery is possible", "--json").stdout
    validator("decode.schema.json").validate(json.loads(out))


def test_annotate_output(run: Any) -> None:
    payload = json.dumps([{"Status": 2, "SubStatus": 23}, {"Status": "MeetingSLA", "SubStatus": 0}, {"Status": 77},
                          {}, {"Status": [1]}, {"Status": 5, "SubStatus": 99}])
    out = json.loads(run("annotate", input=payload).stdout)
    v = validator("annotation.schema.json")
    for obj in out:
        v.validate(obj)


def test_schemas_reject_wrong_output() -> None:
    """The schemas are not vacuous: a renamed key fails."""
    v = validator("entry.schema.json")
    bad = {"kind": "substatus", "name": "X", "aliases": [], "api_code": 1, "api_name": "X", "comment": None,
           "description": None, "documented": True, "severity": "ok", "severity_rationale": None}
    assert not v.is_valid(bad)


def test_triage_output(run: Any) -> None:
    payload = json.dumps([{"VpgName": "a", "Status": 2, "SubStatus": 6, "ActualRPO": 1.5},
                          {"Status": 42}, {}, {"VmName": "v", "Status": "MeetingSLA", "SubStatus": 5}])
    v = validator("triage.schema.json")
    v.validate(json.loads(run("triage", "--format", "json", input=payload).stdout))
    example = Path(__file__).resolve().parent.parent / "examples" / "vpgs.json"
    v.validate(json.loads(run("triage", "--format", "json", str(example)).stdout))
