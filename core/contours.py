"""Outer contours of a binary mask, exactly as OpenCV's ``findContours`` returns them.

The app bundle ships without OpenCV (it is most of the bundle's size), yet a mask accepted as a
polygon label must give the same polygon whether the app runs from pip (with OpenCV) or from the
bundle. :func:`outer_contours` reproduces ``cv2.findContours(mask, RETR_EXTERNAL,
CHAIN_APPROX_SIMPLE)`` point for point: Suzuki-Abe border following with OpenCV's marking, start
directions, skipping rule and output order. ``tests/test_contours.py`` compares the two.

What is reproduced (OpenCV's current implementation, ``contours_new.cpp``, checked against the
installed cv2 5.0.0):

* The mask is padded with one background pixel on each side, so foreground on the image border
  is traced like any other pixel (the older ``contours.cpp`` cleared the outermost frame instead).
* A raster scan starts an outer border at a foreground pixel whose left neighbour is background.
  Traced border pixels are marked 2 ("new"), or 130 ("right") when the trace looked at their
  background right neighbour. Holes are never traced, and a start is skipped when the last
  marked pixel to its left on the same row is a "new" one: the scan entered a traced component
  there and has not left it, so the start lies in a hole.
* The trace searches the eight neighbours counter-clockwise (directions 0 = +x, 2 = -y, ...),
  and CHAIN_APPROX_SIMPLE keeps a pixel only where the direction changes.
* Contours come out newest first (the reverse of the order the scan found them).
"""

from __future__ import annotations

import numpy as np

# Chain-code directions as (dx, dy): 0 = right, 2 = up, 4 = left, 6 = down (y grows downwards).
_DIRECTIONS = ((1, 0), (1, -1), (0, -1), (-1, -1), (-1, 0), (-1, 1), (0, 1), (1, 1))
_NEW = 2  # a traced border pixel
_RIGHT = 130  # a traced border pixel whose right neighbour the trace saw as background
_NEW_BYTE, _RIGHT_BYTE = bytes([_NEW]), bytes([_RIGHT])


def _search_tables() -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Lookup tables over the 8-bit neighbour code of a pixel (bit d = neighbour d is foreground).

    ``start[code]``: the first foreground neighbour clockwise from direction 3 (up-left) down to
    4 (left), or -1 when there is none before 4 (OpenCV then treats the pixel as isolated).
    ``step[code << 3 | d]``: the first foreground neighbour counter-clockwise after direction d,
    plus 8 when the search passed direction 0 (the right neighbour is background).
    """
    start = []
    for code in range(256):
        found = next((d for d in (3, 2, 1, 0, 7, 6, 5) if code >> d & 1), -1)
        start.append(found)
    step = []
    for code in range(256):
        for d in range(8):
            entry = 0
            for k in range(d + 1, d + 9):
                if code >> (k & 7) & 1:
                    entry = (k & 7) | (8 if k > 8 else 0)
                    break
            step.append(entry)
    return tuple(start), tuple(step)


_START, _STEP = _search_tables()


def _neighbour_codes(fg: np.ndarray) -> bytes:
    """8-bit code per pixel of a padded boolean mask, flattened: bit d set if neighbour d is
    foreground. Codes of the frame pixels are meaningless (they wrap to the other side)."""
    width = fg.shape[1]
    src = fg.view(np.uint8).ravel()
    size = src.size
    codes = np.zeros(size, np.uint8)
    inner = codes[width + 1 : size - width - 1]
    bit = np.empty_like(inner)
    for d, (dx, dy) in enumerate(_DIRECTIONS):
        offset = dx + dy * width
        # A multiply, not a shift: numpy's uint8 shifts are not vectorized and ten times slower.
        np.multiply(src[width + 1 + offset : size - width - 1 + offset], np.uint8(1 << d), out=bit)
        inner |= bit
    return codes.tobytes()


def _trace(start: int, pixels: bytearray, codes: bytes, deltas: tuple[int, ...]) -> list[int]:
    """Follow the outer border from flat index ``start``, mark it in ``pixels`` and return the
    flat indices of its CHAIN_APPROX_SIMPLE points."""
    s = _START[codes[start]]
    if s < 0:  # an isolated pixel
        pixels[start] = _RIGHT
        return [start]
    step = _STEP
    second = start + deltas[s]
    here = start
    prev_s = s ^ 4
    points = []
    while True:
        entry = step[codes[here] << 3 | s]
        s = entry & 7
        if entry & 8:
            pixels[here] = _RIGHT
        elif pixels[here] == 1:
            pixels[here] = _NEW
        if s != prev_s:
            points.append(here)
            prev_s = s
        nxt = here + deltas[s]
        if nxt == start and here == second:
            return points
        here = nxt
        s = (s + 4) & 7


def outer_contours(mask: np.ndarray) -> list[np.ndarray]:
    """Outer borders of the 8-connected foreground of a 2-D mask, as OpenCV's
    ``findContours(mask, RETR_EXTERNAL, CHAIN_APPROX_SIMPLE)`` returns them: the same contours in
    the same order, each an ``(N, 2)`` int32 array of ``(x, y)`` points with the same start,
    direction and points. Nonzero pixels are foreground; holes and anything inside them are left
    out.
    """
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise ValueError(f"expected a 2-D mask, got shape {mask.shape}")
    fg = mask != 0
    rows = np.flatnonzero(fg.any(axis=1))
    if rows.size == 0:
        return []
    cols = np.flatnonzero(fg.any(axis=0))
    # Only the bounding box of the foreground matters; a one-pixel background frame around it
    # plays the part of OpenCV's padding.
    y0, x0 = int(rows[0]), int(cols[0])
    crop = fg[y0 : int(rows[-1]) + 1, x0 : int(cols[-1]) + 1]
    padded = np.zeros((crop.shape[0] + 2, crop.shape[1] + 2), bool)
    padded[1:-1, 1:-1] = crop
    width = padded.shape[1]

    starts = np.zeros_like(padded)
    starts[:, 1:] = padded[:, 1:] & ~padded[:, :-1]
    pixels = bytearray(padded.view(np.uint8).tobytes())
    codes = _neighbour_codes(padded)
    deltas = tuple(dx + dy * width for dx, dy in _DIRECTIONS)

    found: list[int] = []  # the points of all contours, one after the other
    ends: list[int] = []
    for index in np.flatnonzero(starts).tolist():
        if pixels[index] != 1:  # already on a traced border
            continue
        row_start = index - index % width
        # In a hole when the last marked pixel to the left on this row is a "new" one.
        if pixels.rfind(_NEW_BYTE, row_start, index) > pixels.rfind(_RIGHT_BYTE, row_start, index):
            continue
        found += _trace(index, pixels, codes, deltas)
        ends.append(len(found))

    flat = np.asarray(found, dtype=np.int64)
    xy = np.empty((flat.size, 2), np.int32)
    xy[:, 0] = flat % width + (x0 - 1)
    xy[:, 1] = flat // width + (y0 - 1)
    begins = [0, *ends[:-1]]
    return [xy[begin:end] for begin, end in zip(reversed(begins), reversed(ends), strict=True)]
