"""Image operations exactly as the reference pre/post-processing does them.

* :func:`resize_linear` is OpenCV's ``cv2.resize(..., interpolation=cv2.INTER_LINEAR)`` on 8-bit
  images, which every YOLO reference uses. With OpenCV installed it is called; without it (the
  app bundle leaves OpenCV out) a numpy version computes the same fixed-point arithmetic
  (11-bit coefficients rounded from float32, horizontal pass in int32, vertical pass as OpenCV's
  vectorised ``VResizeLinearVec_32s8u``: ``((h0 >> 4) * b0 >> 16) + ((h1 >> 4) * b1 >> 16)``,
  then ``+2 >> 2``). The tests check it is bit-identical to OpenCV on hundreds of sizes.
* :class:`LinearTaps` / :func:`bilinear_at` are PyTorch's ``F.interpolate(mode="bilinear",
  align_corners=False)`` (float32 source index ``scale * (i + 0.5) - 0.5`` clamped at 0,
  float32 weights, the inner (width) pass first), evaluated only at the requested output pixels
  so a mask is computed inside its box only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import opencv

COEF_BITS = 11
COEF_SCALE = 1 << COEF_BITS


def _opencv_taps(src: int, dst: int, clamp_weights: bool) -> tuple[np.ndarray, ...]:
    """OpenCV's INTER_LINEAR source indices and 11-bit weights for one axis."""
    scale = 1.0 / (dst / src)  # OpenCV keeps inv_scale = dst / src and inverts it
    f = ((np.arange(dst, dtype=np.float64) + 0.5) * scale - 0.5).astype(np.float32)
    s = np.floor(f).astype(np.int64)
    f = f - s.astype(np.float32)
    if (
        clamp_weights
    ):  # the horizontal table clamps the weight at the borders, the vertical does not
        low = s < 0
        high = s >= src - 1
        f[low | high] = 0
        s[low] = 0
        s[high] = src - 1
    w0 = np.rint((np.float32(1) - f) * np.float32(COEF_SCALE)).astype(np.int32)
    w1 = np.rint(f * np.float32(COEF_SCALE)).astype(np.int32)
    return np.clip(s, 0, src - 1), np.clip(s + 1, 0, src - 1), w0, w1


def resize_linear_numpy(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """``cv2.resize(image, (width, height), interpolation=cv2.INTER_LINEAR)`` for uint8, in numpy."""
    src_h, src_w = image.shape[:2]
    if (src_w, src_h) == (width, height):
        return image.copy()
    x0, x1, a0, a1 = _opencv_taps(src_w, width, True)
    y0, y1, b0, b1 = _opencv_taps(src_h, height, False)
    pixels = image if image.ndim == 3 else image[:, :, None]
    rows = np.union1d(y0, y1)
    lookup = np.searchsorted(rows, np.arange(src_h))
    src = pixels[rows].astype(np.int32)
    horizontal = src[:, x0] * a0[None, :, None] + src[:, x1] * a1[None, :, None]
    top = (horizontal[lookup[y0]] >> 4) * b0[:, None, None] >> 16
    bottom = (horizontal[lookup[y1]] >> 4) * b1[:, None, None] >> 16
    out = np.clip((top + bottom + 2) >> 2, 0, 255).astype(np.uint8)
    return out if image.ndim == 3 else out[:, :, 0]


def resize_linear(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """OpenCV INTER_LINEAR resize of a uint8 image to (width, height): OpenCV itself or its twin."""
    cv2 = opencv.module()
    if cv2 is not None:
        return cv2.resize(image, (width, height), interpolation=cv2.INTER_LINEAR)
    return resize_linear_numpy(image, width, height)


@dataclass(frozen=True)
class Placement:
    """Where a resized image sits in the network input: content size and top-left offset."""

    input_hw: tuple[int, int]
    """(height, width) of the network input."""
    content_wh: tuple[int, int]
    """(width, height) of the resized image inside it."""
    left: int
    top: int


def place(image: np.ndarray, placement: Placement, pad: int) -> np.ndarray:
    """The image resized (INTER_LINEAR) into a padded canvas of the network input's size."""
    h, w = placement.input_hw
    cw, ch = placement.content_wh
    resized = image if image.shape[1::-1] == (cw, ch) else resize_linear(image, cw, ch)
    canvas = np.full((h, w, 3), pad, np.uint8)
    canvas[placement.top : placement.top + ch, placement.left : placement.left + cw] = resized
    return canvas


def to_input(
    canvas: np.ndarray, *, bgr: bool, scale01: bool, dtype: type = np.float32
) -> np.ndarray:
    """An H x W x 3 uint8 RGB canvas as a 1 x 3 x H x W tensor (RGB or BGR; /255 or 0-255)."""
    channels = canvas[:, :, ::-1] if bgr else canvas
    out = np.empty((1, 3, *canvas.shape[:2]), np.float32)
    for c in range(3):
        if scale01:  # the references divide (float32), they do not multiply by 1/255
            np.divide(channels[:, :, c], np.float32(255), out=out[0, c], dtype=np.float32)
        else:
            out[0, c] = channels[:, :, c]
    return out if dtype is np.float32 else out.astype(dtype)


@dataclass(frozen=True)
class LinearTaps:
    """PyTorch bilinear (align_corners=False) source indices and weights along one axis."""

    i0: np.ndarray
    i1: np.ndarray
    w0: np.ndarray
    w1: np.ndarray

    @classmethod
    def make(cls, src: int, dst: int, scale_factor: float | None = None) -> LinearTaps:
        """Taps for resizing `src` samples to `dst`; `scale_factor` as given to F.interpolate."""
        scale = (
            np.float32(1.0 / scale_factor) if scale_factor else np.float32(src) / np.float32(dst)
        )
        idx = np.arange(dst).astype(np.float32)
        real = np.maximum(scale * (idx + np.float32(0.5)) - np.float32(0.5), np.float32(0))
        i0 = np.minimum(real.astype(np.int64), src - 1)
        w1 = np.clip(real - i0.astype(np.float32), np.float32(0), np.float32(1))
        i1 = np.where(i0 < src - 1, i0 + 1, i0)
        return cls(i0, i1, np.float32(1) - w1, w1)

    def take(self, index: np.ndarray) -> LinearTaps:
        """The taps of some output positions only."""
        return LinearTaps(self.i0[index], self.i1[index], self.w0[index], self.w1[index])


def bilinear_at(src: np.ndarray, rows: LinearTaps, cols: LinearTaps) -> np.ndarray:
    """Bilinear samples of a (..., H, W) float32 array at the output positions the taps describe."""
    left = src[..., cols.i0]
    right = src[..., cols.i1]
    inner = left * cols.w0 + right * cols.w1  # PyTorch: width pass first, then height
    top = inner[..., rows.i0, :]
    bottom = inner[..., rows.i1, :]
    return top * rows.w0[:, None] + bottom * rows.w1[:, None]
