"""Stored JSON is read back by ``decode_json``, which must answer exactly as ``json.loads``."""

from __future__ import annotations

import json
import math

import pytest

from embedcrm.db import decode_json

DOCUMENTS = [
    "{}",
    "[]",
    '{"utm_source": "ya", "landing_page": "https://x.example/?a=1&b=2"}',
    '{"a": [1, 2.5, -0, 1e400, null, true, false], "b": {"c": "\\u0000 NUL"}}',
    '"\\ud800 a lone surrogate"',
    '"Заявка \\u2028 с переводом строки"',
    " {} ",
    '{"a": 1}\n',
    "42",
]


@pytest.mark.parametrize("text", DOCUMENTS)
def test_it_reads_what_json_loads_reads(text: str) -> None:
    assert decode_json(text) == json.loads(text)
    assert type(decode_json(text)) is type(json.loads(text))


def test_nan_and_infinity_read_as_json_loads_reads_them() -> None:
    assert math.isnan(decode_json("NaN"))
    assert decode_json("[Infinity, -Infinity]") == [math.inf, -math.inf]


@pytest.mark.parametrize("text", ["", "{", "{bad}", "{} x", "[1,]", "\x00", "nul"])
def test_broken_json_raises_as_json_loads_does(text: str) -> None:
    with pytest.raises(json.JSONDecodeError) as expected:
        json.loads(text)
    with pytest.raises(json.JSONDecodeError) as raised:
        decode_json(text)
    assert str(raised.value) == str(expected.value)


def test_a_document_is_a_new_object_each_time() -> None:
    first = decode_json("{}")
    first["changed"] = True
    assert decode_json("{}") == {}
