"""Decoding the store's JSON answers: the faster road gives exactly what `response.json()` gives."""

from __future__ import annotations

import json
import math

import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from backoffice.store.http import decode_json


def _response(body: bytes, content_type: str = "application/json; charset=UTF-8") -> requests.Response:
    response = requests.Response()
    response.status_code = 200
    response._content = body
    response.headers["Content-Type"] = content_type
    response.encoding = requests.utils.get_encoding_from_headers(response.headers)
    return response


def _same(a, b) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    return a == b


values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.integers(min_value=2**62, max_value=2**70),
              st.integers(min_value=-(2**70), max_value=-(2**62)), st.floats(), st.text(),
              st.sampled_from(["4111 1111 1111 1111", "é😀\u2028", "\ud800 lone", "9400100000000000000000"])),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=5), inner, max_size=4)),
    max_leaves=25,
)


@settings(max_examples=400, deadline=None)
@given(values, st.sampled_from([{}, {"ensure_ascii": False}, {"indent": 1}]))
def test_any_json_answer_decodes_as_the_standard_library_decodes_it(value, style):
    text = json.dumps(value, **style)
    body = text.encode("utf-8", "surrogatepass")
    response = _response(body)
    try:
        expected = response.json()
    except ValueError:
        try:
            decode_json(_response(body))
        except ValueError:
            return
        raise AssertionError("decoded a body the standard library refuses")
    assert _same(decode_json(_response(body)), expected)


def test_bodies_orjson_reads_otherwise_take_the_standard_road():
    for body in (b'[-9223372036854775809, 123456789012345678901234]', b'[NaN, 1e400]', b'["\\ud800"]',
                 b'{"id": 1, "note": "caf\xe9"}'):
        content_type = "application/json; charset=ISO-8859-1" if b"\xe9" in body else "application/json"
        response = _response(body, content_type)
        assert _same(decode_json(response), _response(body, content_type).json())


def test_a_body_that_is_not_json_is_refused():
    for body in (b"<html>Fatal error</html>", b"[1, 2", b"\xef\xbb\xbf[1]"):
        try:
            decode_json(_response(body))
        except ValueError:
            continue
        raise AssertionError(body)
