"""Every command's JSON goes through one encoder (`base.sanitize.json_text`):
the same values back, and nothing in it that can steer a terminal."""

from __future__ import annotations

import json
import re

from hypothesis import given
from hypothesis import strategies as st

from zvpg_cli.base.sanitize import json_text

STEERING = re.compile("[\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]")
values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(),
                      lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
                      max_leaves=12)


@given(values)
def test_json_text_reads_back_as_the_same_value_and_has_no_steering_characters(value: object) -> None:
    text = json_text(value)
    assert json.loads(text) == value
    assert not STEERING.search(text)
    assert text.endswith("\n")


def test_a_vpg_name_that_reorders_or_moves_the_cursor_is_escaped() -> None:
    assert json_text({"name": "a\u202eb\x9bc"}) == '{\n  "name": "a\\u202eb\\u009bc"\n}\n'
