"""OpenCV is optional at run time.

The pip-installed LabelFix has ``opencv-python-headless`` and decodes images and traces mask
contours with it. The one-folder app bundle leaves OpenCV out (it is 155 MB of its own
libraries, more than half the bundle); there Pillow decodes and :mod:`.contours` traces, giving
the same pixels and the same polygons (the tests compare them with OpenCV).
"""

from __future__ import annotations

from types import ModuleType


def module() -> ModuleType | None:
    """The ``cv2`` module, or None when OpenCV is not installed (or fails to load)."""
    try:
        import cv2
    except ImportError:
        return None
    return cv2
