"""Reading a JSON file too large to hold as Python objects: its big arrays in chunks.

:func:`scan` reads the file once in blocks and finds, with numpy, where its structure is: the
quotes that open and close strings (a quote after an odd run of backslashes is escaped), and
outside strings the brackets, commas and colons with their nesting depth. It keeps the
top-level tokens and the commas one and two levels down: enough to name the members of a
top-level object (a COCO ground-truth file) and to cut the arrays one level down (its
``images`` and ``annotations``), or a top-level array (a COCO results file), into chunks of
whole elements. :func:`array_chunks` then decodes one chunk at a time (msgspec, the same
values as ``json.loads``), so memory holds the positions (8 bytes per element) and one chunk.

The scan checks only the structure; each chunk is parsed in full when it is read, and a
problem found there is located in the file (line and column) like the standard library does.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import numpy as np

from . import jsonio

BLOCK = 1 << 24  # bytes scanned at a time
CHUNK_BYTES = 1 << 24  # bytes of elements decoded at a time

_QUOTE, _BACKSLASH = 34, 92
_OPEN, _CLOSE = (ord("{"), ord("[")), (ord("}"), ord("]"))
_COMMA, _COLON = ord(","), ord(":")
_STRUCTURAL = np.zeros(256, bool)
_STRUCTURAL[[*_OPEN, *_CLOSE, _COMMA, _COLON]] = True
_DELTA = np.zeros(256, np.int64)
_DELTA[list(_OPEN)] = 1
_DELTA[list(_CLOSE)] = -1
_WHITESPACE = b" \t\n\r"


class JsonStructureError(ValueError):
    """The file is not valid JSON at ``pos`` (a byte offset); ``msg`` says why."""

    def __init__(self, msg: str, pos: int) -> None:
        super().__init__(f"{msg} (byte {pos})")
        self.msg = msg
        self.pos = pos


@dataclass
class Structure:
    """Where a JSON file's top level and the separators one and two levels down are."""

    size: int
    top: list[tuple[int, int, int]] = field(default_factory=list)
    """(position, character, depth after it) of the top-level value's brackets and, for an
    object, of its colons"""
    commas: dict[int, np.ndarray] = field(default_factory=dict)  # depth -> comma positions


def scan(fh: BinaryIO, block: int | None = None) -> Structure:
    """One pass over the file (see the module); raises JsonStructureError when brackets do
    not balance or a string never ends (``block``: bytes read at a time, :data:`BLOCK` as it
    is at the call)."""
    block = BLOCK if block is None else block
    fh.seek(0)
    top: list[tuple[int, int, int]] = []
    commas: dict[int, list[np.ndarray]] = {1: [], 2: []}
    offset, depth, in_string, trailing = 0, 0, 0, 0
    while data := fh.read(block):
        b = np.frombuffer(data, np.uint8)
        quotes = np.flatnonzero(b == _QUOTE)
        if quotes.size:
            quotes = quotes[~_escaped(b, quotes, trailing)]
        marks = np.flatnonzero(_STRUCTURAL[b])
        if marks.size:
            outside = (np.searchsorted(quotes, marks) + in_string) % 2 == 0
            marks = marks[outside]
        chars = b[marks]
        delta = _DELTA[chars]
        after = depth + np.cumsum(delta)
        before = after - delta
        if after.size and after.min() < 0:
            bad = int(marks[np.flatnonzero(after < 0)[0]])
            raise JsonStructureError("a closing bracket without its opening one", offset + bad)
        # the top-level value's brackets and its object's colons (its commas: below)
        keep = np.flatnonzero(
            (np.minimum(before, after) == 0) | ((before == 1) & (chars == _COLON))
        )
        top += zip(
            (marks[keep] + offset).tolist(), chars[keep].tolist(), after[keep].tolist(), strict=True
        )
        is_comma = chars == _COMMA
        for level in (1, 2):
            commas[level].append(marks[is_comma & (before == level)] + offset)
        if after.size:
            depth = int(after[-1])
        in_string = (in_string + quotes.size) % 2
        run = len(data) - len(data.rstrip(b"\\"))
        trailing = trailing + run if run == len(data) else run
        offset += len(data)
    if in_string:
        raise JsonStructureError(
            "a string never ends (the file ends too early: truncated?)", offset
        )
    if depth:
        raise JsonStructureError("the file ends too early (truncated?)", offset)
    return Structure(offset, top, {k: np.concatenate(v) for k, v in commas.items()})


def _escaped(b: np.ndarray, quotes: np.ndarray, trailing: int) -> np.ndarray:
    """Which quotes follow an odd run of backslashes (``trailing``: backslashes ending the
    previous block)."""
    out = np.zeros(quotes.size, bool)
    after_backslash = np.flatnonzero(b[np.maximum(quotes - 1, 0)] == _BACKSLASH)
    for k in after_backslash.tolist():  # rare: a quote or backslash inside a string
        q = int(quotes[k])
        start = q - 1
        while start > 0 and b[start - 1] == _BACKSLASH:
            start -= 1
        run = q - start + (trailing if start == 0 else 0)
        out[k] = run % 2 == 1
    if quotes.size and quotes[0] == 0 and b.size and trailing % 2 == 1:
        out[0] = True
    return out


@dataclass
class Member:
    """A member of the top-level object: its key and where its value is (bytes [start, end))."""

    key: str
    start: int
    end: int


def top_level(fh: BinaryIO, structure: Structure) -> tuple[str, list[Member]]:
    """The kind of the top-level value ("object", "array" or "other") and, for an object, its
    members in file order."""
    top = structure.top
    if not top or top[0][1] not in (ord("{"), ord("[")) or top[0][2] != 1:
        return "other", []
    _expect_only_whitespace(fh, 0, top[0][0], skip_bom=True)
    _expect_only_whitespace(fh, top[-1][0] + 1, structure.size)
    if top[0][1] == ord("["):
        return "array", []
    opening, closing = top[0][0], top[-1][0]
    commas = structure.commas[1]
    colons = np.array([pos for pos, char, _ in top if char == _COLON], np.int64)
    before = np.searchsorted(commas, colons)  # the comma before each colon's key
    members: list[Member] = []
    for k, colon in enumerate(colons.tolist()):
        start = int(commas[before[k] - 1]) + 1 if before[k] > 0 else opening + 1
        end = int(commas[before[k]]) if before[k] < len(commas) else closing
        key = _decode(fh, start, colon)
        if type(key) is not str:
            raise JsonStructureError("an object key must be a string", start)
        members.append(Member(key, colon + 1, end))
    return "object", members


def _expect_only_whitespace(fh: BinaryIO, start: int, end: int, skip_bom: bool = False) -> None:
    fh.seek(start)
    text = fh.read(end - start)
    if skip_bom and text.startswith(b"\xef\xbb\xbf"):
        text = text[3:]
    if text.strip(_WHITESPACE):
        raise JsonStructureError("extra data outside the top-level value", start)


def _decode(fh: BinaryIO, start: int, end: int) -> Any:
    fh.seek(start)
    data = fh.read(end - start)
    try:
        return jsonio.decode(data)
    except (jsonio.DecodeError, RecursionError):
        return _located(data, start)


def _located(data: bytes, start: int) -> Any:
    """``json.loads`` of a slice of the file; an error becomes a JsonStructureError at its
    place in the file (values msgspec refuses but json reads, such as NaN, are read)."""
    try:
        return json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise JsonStructureError("not UTF-8 text", start + exc.start) from None
    except json.JSONDecodeError as exc:
        prefix = len(exc.doc[: exc.pos].encode("utf-8"))
        raise JsonStructureError(exc.msg, start + prefix) from None


def value(fh: BinaryIO, member: Member) -> Any:
    """A member's value, decoded whole."""
    return _decode(fh, member.start, member.end)


def first_byte(fh: BinaryIO, start: int, end: int) -> bytes:
    """The first byte of a value that is not whitespace (b"" if none)."""
    fh.seek(start)
    return fh.read(min(end - start, 4096)).lstrip(_WHITESPACE)[:1]


def array_chunks(
    fh: BinaryIO,
    structure: Structure,
    start: int,
    end: int,
    depth: int,
    chunk_bytes: int | None = None,
) -> Iterator[tuple[int, list[Any]]]:
    """The elements of the array whose value is in bytes [start, end) and whose elements sit
    at ``depth`` (1 for a top-level array, 2 for a member's), as (index of the first element,
    elements) chunks of about ``chunk_bytes`` (:data:`CHUNK_BYTES` as it is at the call)."""
    chunk_bytes = CHUNK_BYTES if chunk_bytes is None else chunk_bytes
    fh.seek(start)
    head = fh.read(min(end - start, 4096))
    opening = start + len(head) - len(head.lstrip(_WHITESPACE))
    fh.seek(max(start, end - 4096))
    tail = fh.read(end - max(start, end - 4096))
    closing = end - (len(tail) - len(tail.rstrip(_WHITESPACE))) - 1
    commas = structure.commas[depth]
    lo, hi = np.searchsorted(commas, [opening, closing])
    if lo == hi and not first_byte(fh, opening + 1, closing):
        return  # []
    seps = np.concatenate([[opening], commas[lo:hi], [closing]])
    index, k = 0, 0
    while k < len(seps) - 1:
        stop = int(np.searchsorted(seps, seps[k] + chunk_bytes, side="right")) - 1
        stop = min(max(stop, k + 1), len(seps) - 1)
        a, b = int(seps[k]) + 1, int(seps[stop])
        fh.seek(a)
        data = b"[" + fh.read(b - a) + b"]"
        try:
            items = jsonio.decode(data)
        except (jsonio.DecodeError, RecursionError):
            items = _located(data, a - 1)  # data[1] is the file's byte a
        yield index, items
        index += len(items)
        k = stop


def line_and_column(path: str | os.PathLike[str], pos: int) -> tuple[int, int]:
    """The 1-based line and column of byte ``pos`` of a file (read in blocks)."""
    line, last_newline, done = 1, -1, 0
    with open(path, "rb") as fh:
        while done < pos:
            data = fh.read(min(BLOCK, pos - done))
            if not data:
                break
            n = data.count(b"\n")
            if n:
                line += n
                last_newline = done + data.rfind(b"\n")
            done += len(data)
    return line, pos - last_newline
