"""Crops for the triage grid: which part of an image shows a suspect, and decoding just that
part, small and fast.

A suspect's crop frames its evidence (its label, its prediction, the other label of a duplicate
pair) with context around it: the union of their boxes grown by :data:`CONTEXT` of its size on
each side (at least :data:`MIN_MARGIN` px), widened to the cell's aspect, moved (not shrunk)
to stay inside the image. :func:`load_region` decodes that region at about the cell's size: a
JPEG is decoded at 1/2, 1/4 or 1/8 of its size when that is still large enough (PIL's draft
mode, the DCT scaling libjpeg does for free), so a crop of a 6000x4000 photo costs little more
than one of a 640x480 one. Pixels are in the file's stored orientation, as everywhere else.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence

import numpy as np
from PIL import Image

from .images import MAX_PIXELS

CONTEXT = 0.5  # the context added on each side, as a share of the evidence's size
# px of context at least: evidence down to 12 px keeps half of its crop, as larger evidence does
# (12 px of margin left a 12x15 orange 38% of its cell, at 3.4x)
MIN_MARGIN = 6.0
MIN_SIDE = 24.0  # px: the smallest region (a tiny object is shown bigger, at most ~5.5x)

Region = tuple[float, float, float, float]  # x, y, w, h in image pixels


def crop_region(
    boxes: Iterable[Sequence[float] | None], width: int, height: int, aspect: float
) -> Region:
    """The region of a ``width`` x ``height`` image that shows these boxes (xywh; None ones
    are skipped) with context, at ``aspect`` (width / height) where the image allows."""
    given = [b for b in boxes if b is not None and len(b) == 4]
    if not given:
        return 0.0, 0.0, float(width), float(height)
    x0 = min(float(b[0]) for b in given)
    y0 = min(float(b[1]) for b in given)
    x1 = max(float(b[0]) + float(b[2]) for b in given)
    y1 = max(float(b[1]) + float(b[3]) for b in given)
    w, h = max(x1 - x0, 1.0), max(y1 - y0, 1.0)
    mx, my = max(w * CONTEXT, MIN_MARGIN), max(h * CONTEXT, MIN_MARGIN)
    w, h = max(w + 2 * mx, MIN_SIDE), max(h + 2 * my, MIN_SIDE)
    if w / h < aspect:
        w = h * aspect
    else:
        h = w / aspect
    w, h = min(w, float(width)), min(h, float(height))
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    x = min(max(cx - w / 2, 0.0), float(width) - w)
    y = min(max(cy - h / 2, 0.0), float(height) - h)
    return x, y, w, h


def load_region(
    path: str | os.PathLike[str], region: Region, size: tuple[int, int]
) -> tuple[np.ndarray | None, str | None]:
    """The ``region`` of an image decoded and resized to fit ``size`` (w, h) keeping its
    aspect: (H x W x 3 uint8 RGB or None, the reason it could not be read). Never raises."""
    try:
        with Image.open(path) as image:
            full_w, full_h = image.size
            if full_w * full_h > MAX_PIXELS:
                return None, f"{os.fspath(path)}: larger than {MAX_PIXELS:,} pixels"
            x, y, w, h = region
            scale = min(size[0] / max(w, 1.0), size[1] / max(h, 1.0), 1.0)
            if image.format == "JPEG" and scale < 0.5:  # decode at 1/2, 1/4 or 1/8 directly
                image.draft(
                    "RGB", (max(1, math.ceil(full_w * scale)), max(1, math.ceil(full_h * scale)))
                )
            fx, fy = image.size[0] / full_w, image.size[1] / full_h
            box = (
                int(math.floor(x * fx)),
                int(math.floor(y * fy)),
                int(math.ceil((x + w) * fx)),
                int(math.ceil((y + h) * fy)),
            )
            part = image.crop(box)
            if part.mode != "RGB":
                part = part.convert("RGB")
            out_w = max(1, round(w * scale))
            out_h = max(1, round(h * scale))
            part = part.resize((out_w, out_h), Image.Resampling.BILINEAR)
            return np.ascontiguousarray(np.asarray(part)), None
    except FileNotFoundError:
        return None, f"{os.fspath(path)}: no such file"
    except Exception as exc:  # noqa: BLE001 - the promise is "never raises"
        return None, f"{os.fspath(path)}: cannot decode ({type(exc).__name__}: {exc})"
