"""Where the canvas looks when a suspect is shown: plain arithmetic (no Qt), tested directly.

Framing a suspect shows it with a fixed share of context: its boxes fill ``CONTEXT_FILL`` of
the view (along whichever side is tighter), never zoomed out beyond fitting the whole image nor
in beyond ``CONTEXT_MAX_SCALE``, and the view is shifted to stay on the image where the image
is larger than the view (a suspect at an edge is shown against the image, not the background).
Zooming to the object (Z) does the same with the object filling ``OBJECT_FILL`` of the view.
"""

from __future__ import annotations

from dataclasses import dataclass

CONTEXT_FILL = 0.4  # the suspect fills this share of the view when it is framed
OBJECT_FILL = 0.85  # ... when zoomed to the object (Z)
# Screen pixels per image pixel, at most. A 12 px object framed at 12x is 144 px on screen, each
# of its pixels a 12 px block: its box's edges can be judged to the pixel, and the view still shows
# ~3x the object around it (at 6x it was 72 px: tiny, in a 450-900 px wide canvas).
CONTEXT_MAX_SCALE = 12.0
# Z: a 12x15 px object fills OBJECT_FILL of any canvas up to ~850 px high (at 16x it was 240 px);
# a 4 px one is 190 px. Beyond that only wheel zoom goes on (MAX_SCALE in view_zoom.py).
OBJECT_MAX_SCALE = 48.0
MIN_OBJECT = 4.0  # image pixels: a degenerate box is framed as if it were this big


@dataclass(frozen=True)
class Frame:
    """A view: its scale (screen pixels per image pixel) and the image point at its centre."""

    scale: float
    cx: float
    cy: float

    def visible(self, view_w: float, view_h: float) -> tuple[float, float, float, float]:
        """The image rectangle (x, y, w, h) a view of this size shows."""
        w, h = view_w / self.scale, view_h / self.scale
        return (self.cx - w / 2, self.cy - h / 2, w, h)


def fit_scale(image_w: float, image_h: float, view_w: float, view_h: float) -> float:
    """The scale that shows the whole image."""
    return min(view_w / max(image_w, 1.0), view_h / max(image_h, 1.0))


def _centre(c: float, visible: float, size: float) -> float:
    """A centre coordinate kept so that the visible span stays on the image (centred on the
    image when the image is smaller than the span)."""
    if visible >= size:
        return size / 2
    return min(max(c, visible / 2), size - visible / 2)


def frame_box(
    box: tuple[float, float, float, float],
    image: tuple[float, float],
    view: tuple[float, float],
    *,
    fill: float = CONTEXT_FILL,
    max_scale: float = CONTEXT_MAX_SCALE,
) -> Frame:
    """The view that shows ``box`` (x, y, w, h, image pixels) filling ``fill`` of a view of
    size ``view``, clamped to the image (see the module's note)."""
    x, y, w, h = box
    image_w, image_h = image
    view_w, view_h = view
    fit = fit_scale(image_w, image_h, view_w, view_h)
    w, h = max(w, MIN_OBJECT), max(h, MIN_OBJECT)
    scale = fill * min(view_w / w, view_h / h)
    scale = max(fit, min(scale, max(max_scale, fit)))
    cx = _centre(x + box[2] / 2, view_w / scale, image_w)
    cy = _centre(y + box[3] / 2, view_h / scale, image_h)
    return Frame(scale, cx, cy)
