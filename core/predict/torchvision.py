"""torchvision detection exports (Faster R-CNN, Mask R-CNN, RetinaNet, SSD, FCOS) via ``torch.onnx.export``.

The graph holds the model's own transform (normalise, resize) and postprocessing (score
threshold, NMS, ``detections_per_img``, boxes back to the input's size), so LabelFix feeds the
image as the models take it (torchvision 0.29 ``GeneralizedRCNNTransform`` input, the reference
``references/detection`` loading: RGB, float32 ``/ 255``, C x H x W at the image's own size; a
leading batch axis if the graph has one) and reads the named outputs ``boxes`` (x1, y1, x2, y2),
``labels`` (torchvision's 91-entry COCO list for COCO weights), ``scores`` and ``masks``
(N x 1 x H x W probabilities, binarised ``> 0.5`` as ``references/detection/coco_eval.py`` does).
Predictions scoring ``<= conf`` are dropped and the best ``max_dets`` kept.

A graph with a fixed input size other than the image's cannot follow the model's own resizing;
such an image is reported and skipped.
"""

from __future__ import annotations

import numpy as np

from .detections import Detections, ModelError, Prepared, Settings
from .imageops import to_input

OUTPUT_ROLES = ("boxes", "labels", "scores", "masks")


def output_roles(names: list[str]) -> dict[str, int]:
    """Which output is which, by name (``boxes``, ``labels``, ``scores``, ``masks``)."""
    roles: dict[str, int] = {}
    for role in OUTPUT_ROLES:
        exact = [i for i, n in enumerate(names) if n.lower() == role]
        loose = [i for i, n in enumerate(names) if role in n.lower() or role[:-1] == n.lower()]
        found = exact or loose
        if found:
            roles[role] = found[0]
    return roles


class TorchVision:
    """A torchvision detector exported with named outputs."""

    def __init__(
        self,
        *,
        roles: dict[str, int],
        rank: int,
        fixed_hw: tuple[int, int] | None,
        dtype: type = np.float32,
    ) -> None:
        missing = [r for r in OUTPUT_ROLES[:3] if r not in roles]
        if missing:
            raise ModelError(f"a torchvision-style model needs outputs named {', '.join(missing)}")
        self.name, self.roles, self.rank, self.fixed_hw, self.dtype = (
            "torchvision",
            roles,
            rank,
            fixed_hw,
            dtype,
        )
        self.masks = "masks" in roles

    def prepare(self, rgb: np.ndarray) -> Prepared:
        """RGB, /255, C x H x W (1 x C x H x W for a graph with a batch axis) at the image size."""
        height, width = rgb.shape[:2]
        if self.fixed_hw is not None and self.fixed_hw != (height, width):
            raise ValueError(
                f"the model's input is fixed at {self.fixed_hw[1]}x{self.fixed_hw[0]} pixels but the "
                f"image is {width}x{height}; export the model with dynamic height and width"
            )
        tensor = to_input(rgb, bgr=False, scale01=True, dtype=self.dtype)
        return Prepared(tensor if self.rank == 4 else tensor[0], height, width)

    def decode(
        self, outputs: list[np.ndarray], prepared: Prepared, settings: Settings
    ) -> Detections:
        """Score threshold and max_dets on the graph's own detections."""
        boxes = np.asarray(outputs[self.roles["boxes"]], np.float32).reshape(-1, 4)
        scores = np.asarray(outputs[self.roles["scores"]], np.float32).reshape(-1)
        labels = np.asarray(outputs[self.roles["labels"]]).reshape(-1).astype(np.int64)
        keep = np.flatnonzero(scores > settings.conf)
        keep = keep[np.argsort(-scores[keep], kind="stable")][: settings.max_dets]
        masks = None
        if self.masks:
            raw = np.asarray(outputs[self.roles["masks"]])
            raw = raw.reshape(-1, *raw.shape[-2:])
            if raw.shape[-2:] != (prepared.height, prepared.width):
                raise ValueError(
                    f"the model's masks are {raw.shape[-1]}x{raw.shape[-2]}, not the image's "
                    f"{prepared.width}x{prepared.height}"
                )
            masks = [crop_of(raw[k] > 0.5) for k in keep]
        hw = (prepared.height, prepared.width)
        return Detections(boxes[keep], scores[keep], labels[keep], masks, hw)


def crop_of(mask: np.ndarray) -> tuple[int, int, np.ndarray]:
    """(top, left, crop) of the smallest rectangle holding a boolean mask's pixels."""
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    if not len(rows):
        return 0, 0, np.zeros((0, 0), np.uint8)
    crop = mask[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    return int(rows[0]), int(cols[0]), crop.astype(np.uint8)
