"""Which sites the options name is the ZVM layer's answer, with its warnings
as data (the command line shows them); every spelling of a field in
`payload.SPELLINGS` is what a row reads."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zvpg_cli.knowledge.kb import load_kb
from zvpg_cli.sources.payload import SPELLINGS, parse
from zvpg_cli.sources.zvm.selection import one_site, select_sites
from zvpg_cli.sources.zvm.sites import ConfigError
from zvpg_cli.triage.rows import rows


def test_selection_returns_its_warnings_and_writes_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    chosen = select_sites(zvm=["https://zvm01:9669", "http://zvm02:9669"], sites=None, user="monitor",
                          insecure=True, allow_http=True)
    assert [s.name for s in chosen.sites] == ["zvm01:9669", "zvm02:9669"]
    assert any("TLS certificate verification is off" in w for w in chosen.warnings)
    assert any(w.startswith("zvm02:9669: plain http://") for w in chosen.warnings)
    assert capsys.readouterr() == ("", "")


def test_selection_errors_are_one_line() -> None:
    with pytest.raises(ConfigError, match="give the ZVM to read"):
        select_sites(zvm=None, sites=None)
    with pytest.raises(ConfigError, match=r"--site lon: no site of that name \(there are: zvm01:9669\)"):
        select_sites(zvm=["https://zvm01:9669"], sites=None, user="monitor", site="lon")
    two = select_sites(zvm=["https://a:9669", "https://b:9669"], sites=None, user="monitor").sites
    with pytest.raises(ConfigError, match="fetch reads one ZVM, not 2: pick one with --site NAME"):
        one_site(two, "fetch")


VALUES = {"vpg_name": "ERP", "vpg_identifier": "id-1", "vm_name": "db01", "vm_identifier": "vm-1",
          "actual_rpo": 42, "configured_rpo": 300, "progress": 7}


@given(st.sampled_from([(f, n) for f in VALUES for n in SPELLINGS[f]]))
def test_every_spelling_is_read(field_and_name: tuple[str, str]) -> None:
    field, name = field_and_name
    obj = {"Status": 1, "SubStatus": 0, name: VALUES[field]}
    row = rows(load_kb(), parse(json.dumps([obj]).encode()))[0]
    assert getattr(row, field) == VALUES[field]  # (a row's fields are named as SPELLINGS' keys)
