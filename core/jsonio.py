"""Fast JSON in and out (msgspec), with the standard library's meaning.

msgspec's untyped decoder gives exactly what ``json.loads`` gives for valid JSON (the same
floats bit for bit, integers of any size, the last of duplicate keys), three to six times
faster; what it refuses (NaN, 1e400, a byte order mark, broken files) goes to ``json`` so the
reader's messages and leniency stay the standard library's. Encoded text may spell a float
differently from ``json.dumps`` (``0.00001`` for ``1e-05``) but reads back as the same value.

Python's cyclic garbage collector, left on, walks every container made so far again and again
while millions of small dicts and lists are built (it doubled the time of reading a 500,000
record results file); :func:`gc_paused` turns it off for such a block.
"""

from __future__ import annotations

import contextlib
import gc
import json
from collections.abc import Iterator
from typing import Any

import msgspec

DecodeError = msgspec.DecodeError
_encoder = msgspec.json.Encoder()
_encode = _encoder.encode
_decode = msgspec.json.Decoder().decode


def decode(data: bytes | str) -> Any:
    """Parse JSON as ``json.loads`` would (raises :data:`DecodeError` for what it refuses)."""
    return _decode(data)


def encode(value: Any) -> str:
    """Compact JSON text (UTF-8 kept, no spaces), as the project stores it."""
    try:
        return _encode(value).decode("utf-8")
    except (TypeError, ValueError, OverflowError):  # e.g. NaN: let json say what is wrong
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def encode_many(values: list[Any]) -> list[str]:
    """:func:`encode` of each value, in one call into the encoder (one JSON text a line: JSON
    text never holds a raw newline). Raises TypeError, ValueError or OverflowError where
    :func:`encode` would fall back to ``json`` (then encode the values one by one)."""
    texts = _encoder.encode_lines(values).decode("utf-8").split("\n")
    texts.pop()  # after the last newline
    return texts


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection inside the block (restored as it was after it)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
