"""Pixel snapshots of the canvas: render a widget at a fixed size, compare it with a reference
PNG under tests/desktop/snapshots/ with a tolerance, regenerate with LABELFIX_UPDATE_SNAPSHOTS=1.

Two tolerances keep font antialiasing and JPEG-free rounding differences from flaking: a pixel
differs only when one of its channels is off by more than PIXEL_TOLERANCE, and a snapshot fails
only when more than MAX_DIFFERING of its pixels differ. Text uses the bundled test font (see
snapshots/font/README.md), so tags have the same size on every machine.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PySide6.QtGui import QFont, QFontDatabase, QFontInfo, QImage
from PySide6.QtWidgets import QApplication, QWidget

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
FONT_DIR = SNAPSHOTS / "font"
UPDATE_ENV = "LABELFIX_UPDATE_SNAPSHOTS"
PIXEL_TOLERANCE = 40  # of 255, per channel
MAX_DIFFERING = 0.004  # share of the pixels (0.4%)


def use_test_font() -> QFont:
    """Load the bundled font and make it the application's; returns the font it replaced."""
    previous = QApplication.font()
    family = None
    for name in ("LabelFixTestSans.ttf", "LabelFixTestSans-Bold.ttf"):
        font_id = QFontDatabase.addApplicationFont(str(FONT_DIR / name))
        assert font_id >= 0, f"cannot load {FONT_DIR / name}"
        family = QFontDatabase.applicationFontFamilies(font_id)[0]
    font = QFont(family)
    font.setPointSizeF(9.0)
    font.setHintingPreference(QFont.HintingPreference.PreferNoHinting)
    font.setStyleStrategy(QFont.StyleStrategy.NoSubpixelAntialias)
    QApplication.setFont(font)
    assert QFontInfo(QFont()).family() == family, "the test font is not the default font"
    return previous


def grab(widget: QWidget) -> QImage:
    """The widget as an RGB image at one device pixel per pixel."""
    return widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)


def to_array(image: QImage) -> np.ndarray:
    """An RGB888 QImage as an (h, w, 3) uint8 array."""
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    h, w = image.height(), image.width()
    data = np.frombuffer(image.constBits(), dtype=np.uint8, count=image.sizeInBytes())
    return data.reshape(h, image.bytesPerLine())[:, : 3 * w].reshape(h, w, 3).copy()


def from_array(pixels: np.ndarray) -> QImage:
    """An (h, w, 3) uint8 array as an RGB888 QImage (a copy)."""
    h, w = pixels.shape[:2]
    data = np.ascontiguousarray(pixels)
    return QImage(data.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def compare(image: QImage, name: str, out_dir: Path) -> None:
    """Assert ``image`` matches snapshots/<name>.png within the tolerances (or write it when
    LABELFIX_UPDATE_SNAPSHOTS=1); on a mismatch the actual image and a diff land in out_dir."""
    reference = SNAPSHOTS / f"{name}.png"
    if os.environ.get(UPDATE_ENV) == "1":
        assert image.save(str(reference)), f"cannot write {reference}"
        return
    assert reference.exists(), (
        f"no reference {reference}; run the test with {UPDATE_ENV}=1 to create it, then look at it"
    )
    want = to_array(QImage(str(reference)))
    got = to_array(image)
    actual = out_dir / f"{name}.actual.png"
    if want.shape != got.shape:
        image.save(str(actual))
        raise AssertionError(f"{name}: size {got.shape[1::-1]} != {want.shape[1::-1]} ({actual})")
    delta = np.abs(got.astype(np.int16) - want.astype(np.int16)).max(axis=2)
    differing = delta > PIXEL_TOLERANCE
    share = float(differing.mean())
    if share > MAX_DIFFERING:
        image.save(str(actual))
        diff = np.zeros_like(got)
        diff[..., 0] = np.where(differing, 255, got.mean(axis=2) // 3).astype(np.uint8)
        diff_path = out_dir / f"{name}.diff.png"
        from_array(diff).save(str(diff_path))
        raise AssertionError(
            f"{name}: {share:.2%} of the pixels differ (at most {MAX_DIFFERING:.2%} may); "
            f"see {actual} and {diff_path}; if the change is intended, regenerate with "
            f"{UPDATE_ENV}=1 and look at the new PNG"
        )
