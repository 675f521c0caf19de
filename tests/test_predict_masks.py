"""Masks computed inside each box equal the reference's whole-image computation, bit for bit."""

from __future__ import annotations

import math

import numpy as np
import pytest

from labelfix.core.predict.imageops import LinearTaps, bilinear_at
from labelfix.core.predict.ultralytics import process_mask_native


def reference_masks(protos, coefs, boxes, h, w) -> np.ndarray:
    """Ultralytics 8.4.190 process_mask_native step by step on whole images (the oracle)."""
    c, mh, mw = protos.shape
    logits = np.stack([np.tensordot(k, protos, axes=1) for k in coefs])  # N x mh x mw
    gain = min(4 * mh / h, 4 * mw / w)
    pad = (4 * mh - max(round(h * gain), 1)) | (4 * mw - max(round(w * gain), 1))
    f = 4 // math.gcd(4, pad | pad // 2)
    if f > 1:  # F.interpolate(scale_factor=f, mode="bilinear")
        logits = bilinear_at(logits, LinearTaps.make(mh, mh * f, f), LinearTaps.make(mw, mw * f, f))
    uh, uw = logits.shape[1:]
    if (uh, uw) != (h, w):  # scale_masks: crop the letterbox padding, F.interpolate to (h, w)
        g = min(uh / h, uw / w)
        ch, cw = max(round(h * g), 1), max(round(w * g), 1)
        top, left = round((uh - ch) / 2 - 0.1), round((uw - cw) / 2 - 0.1)
        crop = logits[:, top : top + ch, left : left + cw]
        logits = bilinear_at(crop, LinearTaps.make(ch, h), LinearTaps.make(cw, w))
    masks = (logits > 0).astype(np.uint8)
    r = np.arange(w, dtype=np.float32)[None, None, :]
    q = np.arange(h, dtype=np.float32)[None, :, None]
    x1, y1, x2, y2 = (boxes[:, k, None, None] for k in range(4))
    return masks * ((r >= x1) & (r < x2)) * ((q >= y1) & (q < y2))  # crop_mask


@pytest.mark.parametrize(
    "size", [(640, 480), (640, 426), (500, 375), (1280, 853), (333, 500), (37, 1000), (640, 640)]
)
def test_box_restricted_masks_equal_the_whole_image_reference(size):
    w, h = size
    rng = np.random.default_rng(w * h)
    protos = rng.normal(size=(32, 160, 160)).astype(np.float32)
    coefs = rng.normal(size=(12, 32)).astype(np.float32) * 0.3
    xy = rng.uniform(-20, max(w, h), (12, 2))
    wh = rng.uniform(0.5, max(w, h) / 2, (12, 2))
    boxes = np.concatenate([xy, xy + wh], 1).astype(np.float32)
    boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(0, w)
    boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(0, h)
    expected = reference_masks(protos, coefs, boxes, h, w)
    crops, keep = process_mask_native(protos, coefs, boxes, h, w)
    np.testing.assert_array_equal(keep, expected.reshape(12, -1).any(1))
    full = np.zeros((len(crops), h, w), np.uint8)
    for k, (y0, x0, crop) in enumerate(crops):
        full[k, y0 : y0 + crop.shape[0], x0 : x0 + crop.shape[1]] = crop
    np.testing.assert_array_equal(full, expected[keep])
