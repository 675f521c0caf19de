"""The chunked JSON reader finds the same members and elements as json.loads (any strings,
any nesting, blocks and chunks cut anywhere), and says where a broken file breaks."""

from __future__ import annotations

import io
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelfix.core import json_chunks

# strings full of what a structure scan must not be fooled by: quotes, backslashes, brackets
tricky = st.text(alphabet=st.sampled_from(list('"\\{}[],: ab\u00e9\u2028\n')), max_size=12)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | tricky
    | st.floats(allow_nan=False, allow_infinity=False)
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(tricky, inner, max_size=4),
    max_leaves=20,
)


def _read_array(text: bytes, depth: int, start: int, end: int, s, block_chunk: int) -> list:
    fh = io.BytesIO(text)
    out: list = []
    for index, items in json_chunks.array_chunks(fh, s, start, end, depth, block_chunk):
        assert index == len(out)
        out += items
    return out


@settings(max_examples=150, deadline=None)
@given(
    st.lists(values, max_size=12),
    st.integers(1, 64),
    st.integers(1, 200),
    st.booleans(),
)
def test_top_level_array_chunks(elements, block, chunk, spaced) -> None:
    text = json.dumps(elements, indent=1 if spaced else None, ensure_ascii=False).encode()
    fh = io.BytesIO(text)
    s = json_chunks.scan(fh, block)
    kind, members = json_chunks.top_level(fh, s)
    assert (kind, members) == ("array", [])
    assert _read_array(text, 1, 0, len(text), s, chunk) == json.loads(text)


@settings(max_examples=150, deadline=None)
@given(
    st.dictionaries(tricky, values, max_size=5),
    st.lists(values, max_size=10),
    st.integers(1, 64),
    st.integers(1, 200),
)
def test_object_members_and_their_arrays(top, annotations, block, chunk) -> None:
    data = {**top, "annotations": annotations}
    text = json.dumps(data, ensure_ascii=False).encode()
    fh = io.BytesIO(text)
    s = json_chunks.scan(fh, block)
    kind, members = json_chunks.top_level(fh, s)
    assert kind == "object"
    assert [m.key for m in members] == list(data)
    for m in members:
        if m.key == "annotations":
            assert _read_array(text, 2, m.start, m.end, s, chunk) == annotations
        else:
            assert json_chunks.value(fh, m) == data[m.key]


def test_escaped_quotes_across_block_boundaries() -> None:
    data = {"a": ['x\\"]', "\\\\", '"', "\\"], "b": [{"c": "]}"}]}
    text = json.dumps(data).encode()
    for block in range(1, len(text) + 1):
        fh = io.BytesIO(text)
        s = json_chunks.scan(fh, block)
        _, members = json_chunks.top_level(fh, s)
        assert [json_chunks.value(fh, m) for m in members] == [data["a"], data["b"]]
        assert _read_array(text, 2, members[0].start, members[0].end, s, 3) == data["a"]


@pytest.mark.parametrize(
    ("text", "kind"),
    [(b"5", "other"), (b'"x"', "other"), (b"\xef\xbb\xbf [1]", "array"), (b" {} ", "object")],
)
def test_top_level_kinds(text: bytes, kind: str) -> None:
    fh = io.BytesIO(text)
    assert json_chunks.top_level(fh, json_chunks.scan(fh))[0] == kind


@pytest.mark.parametrize(
    ("text", "where"),
    [
        (b'{"a": [1, 2', "truncated"),
        (b'{"a": "abc', "never ends"),
        (b"[1, 2]]", "closing bracket"),
    ],
)
def test_structure_errors(text: bytes, where: str) -> None:
    with pytest.raises(json_chunks.JsonStructureError, match=where):
        json_chunks.scan(io.BytesIO(text))


def test_a_broken_element_is_located_in_the_file() -> None:
    text = b'[{"a": 1},\n {"a": tru},\n {"a": 3}]'
    fh = io.BytesIO(text)
    s = json_chunks.scan(fh)
    with pytest.raises(json_chunks.JsonStructureError) as info:
        list(json_chunks.array_chunks(fh, s, 0, len(text), 1, 4))
    assert text[info.value.pos : info.value.pos + 3] == b"tru"


def test_nan_is_read_as_json_reads_it() -> None:
    text = b'[{"a": NaN}, {"a": 1}]'
    fh = io.BytesIO(text)
    s = json_chunks.scan(fh)
    items = [x for _, chunk in json_chunks.array_chunks(fh, s, 0, len(text), 1, 100) for x in chunk]
    assert str(items) == str(json.loads(text))


def test_line_and_column(tmp_path) -> None:
    path = tmp_path / "f.json"
    path.write_bytes(b"ab\ncd\nef")
    assert json_chunks.line_and_column(path, 4) == (2, 2)
    assert json_chunks.line_and_column(path, 0) == (1, 1)
