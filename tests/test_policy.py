"""The policy file: zvpg's packaged defaults, rules merged over them, and one-line
errors for anything wrong in an untrusted file."""

from __future__ import annotations

import json
import os
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from conftest import run_zvpg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_schemas import validator

from zvpg_cli.knowledge.model import KnowledgeBase, Severity
from zvpg_cli.output.policy import policy_json
from zvpg_cli.triage.policy import PolicyError, Timing, load_policy


def _write(tmp_path: Path, text: str, name: str = "policy.toml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_the_defaults_ship_inside_the_package() -> None:
    assert resources.files("zvpg_cli.triage").joinpath("default_policy.toml").is_file()


def test_the_defaults_delay_the_routine_syncs_and_nothing_else(kb: KnowledgeBase) -> None:
    policy = load_policy(kb, None)
    assert (policy.flap_changes, policy.flap_window) == (6, 3600)
    assert policy.timing("Not Meeting SLA", "Delta Syncing", "a", None) == Timing(None, 900, None, 6 * 3600)
    assert policy.timing("Meeting SLA", "Delta Syncing", "a", None) == Timing(None, 900, None, 6 * 3600)
    assert policy.timing("Not Meeting SLA", "Delta syncing a disk", "a", None) == Timing(None, 900, None, 6 * 3600)
    assert policy.timing("Meeting SLA", "Bitmap Syncing", "a", None) == Timing(None, 900, None, None)
    assert policy.timing("RPO Not Meeting SLA", None, "a", None) == Timing(None, 900, None, None)
    for sync in ("Initial Sync", "Disk Initial Sync", "Full Syncing", "Full syncing a disk"):
        assert policy.timing("Initializing", sync, "a", None) == Timing(None, None, None, 6 * 3600), sync
    # Not delayed: every other state, among them "Syncing" (an evaluation, not a transfer).
    delayed = {"Delta Syncing", "Delta syncing a disk", "Bitmap Syncing", "Initial Sync", "Disk Initial Sync",
               "Full Syncing", "Full syncing a disk"}
    for sub in kb.substatuses:
        if sub.name not in delayed:
            assert policy.timing("Not Meeting SLA", sub.name, "a", None) == Timing(None, None, None, None), sub.name
    for status in kb.statuses:
        if status.name != "RPO Not Meeting SLA":
            assert policy.timing(status.name, None, "a", None) == Timing(None, None, None, None), status.name


def test_the_defaults_say_they_are_zvpgs_choice(kb: KnowledgeBase) -> None:
    shown = policy_json(load_policy(kb, None))
    assert "zvpg's own choice" in shown["note"] and "gives no durations" in shown["note"]
    assert shown["rules"] and all(r["default"] and r["why"].startswith("zvpg's choice") for r in shown["rules"])


def test_user_rules_come_first_and_each_setting_takes_the_first_match(kb: KnowledgeBase, tmp_path: Path) -> None:
    path = _write(tmp_path, """
[[rule]]
match = "Initial Sync"
vpg = "dev-*"
severity = "ok"

[[rule]]
match = "Not Meeting SLA / Delta Syncing"
grace = "30m"

[[rule]]
match = "History Not Meeting SLA"
site = "Lab*"
escalate_after = "26h"
""")
    policy = load_policy(kb, path)
    # The override applies to dev-* only; the default stuck rule still holds for it.
    assert policy.timing("Initializing", "Initial Sync", "DEV-web", None) == Timing(
        Severity.OK, None, None, 6 * 3600, f"{path} rule 1")
    assert policy.timing("Initializing", "Initial Sync", "prod-web", None) == Timing(None, None, None, 6 * 3600)
    # The pair rule wins the grace under Not Meeting SLA; the default's grace elsewhere.
    assert policy.timing("Not Meeting SLA", "Delta Syncing", "x", None).grace == 1800
    assert policy.timing("Meeting SLA", "Delta Syncing", "x", None).grace == 900
    assert policy.timing("History Not Meeting SLA", None, "x", "lab-2").escalate_after == 26 * 3600
    assert policy.timing("History Not Meeting SLA", None, "x", "prod").escalate_after is None
    assert policy.timing("History Not Meeting SLA", None, "x", None).escalate_after is None
    shown = policy_json(policy)
    assert [r["default"] for r in shown["rules"][:4]] == [False, False, False, True]
    assert shown["rules"][1]["status"] == "Not Meeting SLA" and shown["rules"][1]["substatus"] == "Delta Syncing"


def test_a_zero_duration_turns_a_default_off(kb: KnowledgeBase, tmp_path: Path) -> None:
    path = _write(tmp_path, '[[rule]]\nmatch = "Delta Syncing"\ngrace = "0s"\nstuck_after = "0s"\n')
    assert load_policy(kb, path).timing("Meeting SLA", "Delta Syncing", "x", None) == Timing(None, 0, None, 0)


def test_match_accepts_what_explain_accepts(kb: KnowledgeBase, tmp_path: Path) -> None:
    for term, resolved in [("DeltaSync", (None, "Delta Syncing")), ("bitmap sync", (None, "Bitmap Syncing")),
                           ("Not Meeting SLA / Bitmap Syncing", ("Not Meeting SLA", "Bitmap Syncing")),
                           ("initializ", ("Initializing", None))]:
        path = _write(tmp_path, f'[[rule]]\nmatch = "{term}"\nseverity = "ok"\n')
        rule = load_policy(kb, path).rules[0]
        assert (rule.status, rule.substatus) == resolved, term


@pytest.mark.parametrize(("text", "message"), [
    ('[[rule]]\nmatch = "Delta Syncing"\ngrace = "1m"\n[[rule]]\nmatch = "Error"\ngracee = "5m"\n',
     "policy.toml: rule 2: unknown key 'gracee'"),
    ('[[rule]]\nmatch = "Delta Synching Forever"\nseverity = "ok"\n',
     "policy.toml: rule 1: match: no status or substatus 'Delta Synching Forever'"),
    ('[[rule]]\nmatch = "Nope / Delta Syncing"\nseverity = "ok"\n', "policy.toml: rule 1: match: no status 'Nope'"),
    ('[[rule]]\nmatch = "Error"\ngrace = "soon"\n', "policy.toml: rule 1: grace: 'soon' is not a duration"),
    ('[[rule]]\nmatch = "Error"\ngrace = 15\n', "policy.toml: rule 1: grace must be a duration in quotes"),
    ('[[rule]]\nmatch = "Error"\nseverity = "page"\n', "policy.toml: rule 1: severity must be one of"),
    ('[[rule]]\nvpg = "x"\nseverity = "ok"\n', "policy.toml: rule 1: match is missing"),
    ('[[rule]]\nmatch = "Error"\n', "policy.toml: rule 1: sets nothing"),
    ('rules = []\n', "policy.toml: unknown key 'rules'"),
    ('rule = "x"\n', "policy.toml: 'rule' must be a list of tables"),
    ('flap_changes = 0\n', "policy.toml: flap_changes must be a whole number"),
    ('flap_window = "0s"\n', "policy.toml: flap_window must be longer than 0s"),
    ('[[rule]\n', "policy.toml: not valid TOML"),
])
def test_a_wrong_policy_is_one_line_naming_file_rule_and_key(kb: KnowledgeBase, tmp_path: Path, text: str,
                                                            message: str) -> None:
    monkey_cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        (tmp_path / "policy.toml").write_text(text, encoding="utf-8")
        with pytest.raises(PolicyError) as caught:
            load_policy(kb, "policy.toml")
    finally:
        os.chdir(monkey_cwd)
    assert str(caught.value).startswith(message), str(caught.value)
    assert "\n" not in str(caught.value)


def test_an_unreadable_policy_is_one_line(kb: KnowledgeBase, tmp_path: Path) -> None:
    big = tmp_path / "big.toml"
    big.write_bytes(b"#" * (1024 * 1024 + 1))
    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)
    latin = tmp_path / "latin.toml"
    latin.write_bytes(b"# caf\xe9\n")
    for path, why in [(big, "the limit is"), (fifo, "not a regular file"),
                      (tmp_path, "Is a directory|not a regular file"), (latin, "not UTF-8"),
                      (tmp_path / "missing.toml", "cannot read")]:
        with pytest.raises(PolicyError, match=why):
            load_policy(kb, str(path))


_KEYS = st.sampled_from(["match", "vpg", "site", "severity", "grace", "escalate_after", "stuck_after", "why",
                         "gracee", ""])
_VALUES = st.one_of(st.text(max_size=20), st.integers(), st.booleans(), st.floats(allow_nan=True),
                    st.sampled_from(["Delta Syncing", "15m", "ok", "0s", "Error / Delta Syncing", "dev-*", "99999d"]))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.dictionaries(_KEYS, _VALUES, max_size=5), max_size=4))
def test_any_toml_policy_loads_or_fails_in_one_line(kb: KnowledgeBase, tmp_path: Path,
                                                    rules: list[dict[str, Any]]) -> None:
    lines = []
    for rule in rules:
        lines.append("[[rule]]")
        lines += [f"{json.dumps(k)} = {_toml(v)}" for k, v in rule.items()]
    path = _write(tmp_path, "\n".join(lines) + "\n")
    try:
        load_policy(kb, path)
    except PolicyError as exc:
        assert str(exc).startswith(path) and "\n" not in str(exc)


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "nan" if value != value else ("inf" if value == float("inf") else
                                             "-inf" if value == float("-inf") else repr(value))
    return json.dumps(value)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=300))
def test_any_bytes_load_or_fail_in_one_line(kb: KnowledgeBase, tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "policy.toml"
    path.write_bytes(data)
    try:
        load_policy(kb, str(path))
    except PolicyError as exc:
        assert "\n" not in str(exc)


def _zvpg(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    p = run_zvpg(*args, env=env)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def test_policy_show_prints_the_policy_in_force(tmp_path: Path) -> None:
    path = _write(tmp_path, '[[rule]]\nmatch = "Initial Sync"\nvpg = "dev-*"\nseverity = "ok"\n')
    shown = _zvpg("policy", "show", "--policy", path)[1]
    assert "zvpg's own choice" in shown and "gives no durations" in shown
    assert f"Initial Sync vpg 'dev-*': severity ok  [{path} rule 1]" in shown
    assert "Delta Syncing: grace 15m, stuck after 6h  [default]" in shown
    out = json.loads(_zvpg("policy", "show", "--json", env={"ZVPG_POLICY": path})[1])
    validator("policy.schema.json").validate(out)
    assert out["file"] == path and out["rules"][0]["severity"] == "ok"


def test_policy_show_names_a_wrong_file_in_one_line(tmp_path: Path) -> None:
    path = _write(tmp_path, '[[rule]]\nmatch = "Error"\ngracee = "5m"\n')
    code, out, err = _zvpg("policy", "show", "--policy", path)
    assert code == 2 and out == ""
    assert err == f"zvpg: {path}: rule 1: unknown key 'gracee' (known: match, kind, code, vpg, site, severity, " \
        "grace, escalate_after, stuck_after, why)\n"


_PATTERNS = ["web-*", "*-db", "w?b*", "web-01", "WEB-02", "[ab]*", "*", "db[0-9]*", "web-0*"]


@given(st.lists(st.tuples(st.sampled_from([*_PATTERNS, None]), st.sampled_from(["lab*", "nyc", None]),
                          st.sampled_from(["Delta Syncing", "Meeting SLA", "Not Meeting SLA / Delta Syncing"]),
                          st.integers(1, 90)), min_size=1, max_size=12),
       st.sampled_from(["web-01", "Web-02", "a-db", "db7", "wxb", "beta", "web-0"]),
       st.sampled_from(["lab-1", "nyc", None]))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_the_compiled_index_finds_what_trying_every_rule_in_order_finds(
        kb: KnowledgeBase, tmp_path_factory: pytest.TempPathFactory, rules: list[Any], name: str,
        site: str | None) -> None:
    text = ""
    for vpg, where, match, minutes in rules:
        text += f'[[rule]]\nmatch = "{match}"\ngrace = "{minutes}m"\n'
        text += (f'vpg = "{vpg}"\n' if vpg else "") + (f'site = "{where}"\n' if where else "")
    path = tmp_path_factory.mktemp("p") / "p.toml"
    path.write_text(text)
    policy = load_policy(kb, str(path))
    for status, sub in (("Not Meeting SLA", "Delta Syncing"), ("Meeting SLA", None), ("Meeting SLA", "Bitmap Syncing")):
        first = next((r.grace for r in policy.rules if r.grace is not None and r.matches(status, sub, name, site)),
                     None)
        assert policy.timing(status, sub, name, site).grace == first


def test_a_large_policy_is_kept_compiled_and_an_edit_is_read_again(kb: KnowledgeBase, tmp_path: Path) -> None:
    from zvpg_cli.triage import policy as policy_module

    rules = "".join(f'[[rule]]\nmatch = "Initial Sync"\nvpg = "vpg-{n}"\nseverity = "ok"\n\n' for n in range(600))
    path = _write(tmp_path, rules)
    first = load_policy(kb, path)
    cached = [name for name in os.listdir(os.environ["ZVPG_CACHE_DIR"]) if name.startswith("policy-")]
    assert len(cached) == 1
    again = load_policy(kb, path)  # from the cache folder
    assert again.rules == first.rules and again.timing("Initializing", "Initial Sync", "vpg-7", None).severity \
        is Severity.OK
    _write(tmp_path, rules.replace('vpg = "vpg-7"', 'vpg = "vpg-seven"'))
    edited = load_policy(kb, path)
    assert edited.timing("Initializing", "Initial Sync", "vpg-7", None).severity is None
    assert policy_module.CACHE_FROM_RULES <= 600
