"""What every model family hands back for one image, and the settings it decodes with."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np


class ModelError(ValueError):
    """A model file that cannot be used: names the file and what was expected."""


@dataclass(frozen=True)
class Settings:
    """Decoding settings: score threshold, NMS IoU, predictions kept per image, class-agnostic NMS."""

    conf: float
    iou: float
    max_dets: int
    agnostic: bool


@dataclass
class Detections:
    """One image's predictions in its own pixel coordinates, best first.

    `boxes` are float32 x1, y1, x2, y2; `classes` are model class indices; `masks` (mask
    models) holds per prediction (top row, left column, 0/1 crop): the mask is zero outside the
    crop, so a large image's masks stay small.
    """

    boxes: np.ndarray
    scores: np.ndarray
    classes: np.ndarray
    masks: list[tuple[int, int, np.ndarray]] | None = None
    image_hw: tuple[int, int] = (0, 0)

    @classmethod
    def empty(cls, height: int, width: int, masks: bool) -> Detections:
        """No prediction."""
        return cls(
            np.zeros((0, 4), np.float32),
            np.zeros(0, np.float32),
            np.zeros(0, np.int64),
            [] if masks else None,
            (height, width),
        )

    def __len__(self) -> int:
        return len(self.scores)


@dataclass
class Prepared:
    """A network input for one image and what decoding needs to map back to the image."""

    tensor: np.ndarray
    height: int
    width: int
    context: Any = None
    feeds: dict[str, np.ndarray] = field(default_factory=dict)
    """The model's other inputs, by name (an image size, a pixel mask)."""


class Family(Protocol):
    """A model family's pre- and post-processing."""

    name: str
    masks: bool

    def prepare(self, rgb: np.ndarray) -> Prepared:
        """The network input for an H x W x 3 uint8 RGB image."""
        ...

    def decode(
        self, outputs: list[np.ndarray], prepared: Prepared, settings: Settings
    ) -> Detections:
        """The image's predictions from the network outputs."""
        ...
