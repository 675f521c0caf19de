"""New labels: one rule for every label LabelFix adds, whatever made it (a box drawn with W, a
polygon drawn with P, a duplicate, an accepted missing_label suspect).

- **Shape, matching the dataset**: in a dataset whose labels have polygons or masks, a new box
  label gets the box as a rectangle polygon (pycocotools' ``annToMask`` and segm evaluation need
  one); in a box-only dataset it is stored the way that dataset stores box labels (no
  ``segmentation`` key, or ``"segmentation": []``). A drawn or predicted polygon stays a polygon.
- **Numbers**: coordinates LabelFix computes are rounded to :data:`DECIMALS` decimals (what COCO
  tools write); the bbox of a polygon is its tight bounds.
- **Area**: what pycocotools computes from the segmentation (``maskUtils.area`` of
  ``frPyObjects``, a pixel count); for a box-only label, width x height (as ``loadRes`` gives a
  box).
- **Duplicates**: a copy of a label sits :data:`DUPLICATE_OFFSET` pixels right and down of it
  (up and left where that leaves the image); a mask copies as its box.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from . import geometry
from .editing import offset_geometry
from .store import Store

DECIMALS = 2
DUPLICATE_OFFSET = 8.0  # pixels right and down of the original
SAMPLE = 2000
"""How many labels (the first by id) tell how a dataset stores shapes."""


@dataclass(frozen=True)
class LabelStyle:
    """How a dataset stores the shape of its (non-crowd) labels."""

    polygons: bool  # labels have polygons or masks: new box labels get a rectangle polygon
    box_segmentation: str = "absent"  # box labels of a box-only dataset: "absent" or "empty" ([])


def dataset_style(store: Store) -> LabelStyle:
    """The style of the project's labels (polygons when there are no labels yet)."""
    forms = store.segmentation_forms(SAMPLE)
    if not forms or forms.get("polygon", 0) or forms.get("mask", 0):
        return LabelStyle(polygons=True)
    empty, absent = forms.get("empty", 0), forms.get("none", 0)
    return LabelStyle(polygons=False, box_segmentation="empty" if empty > absent else "absent")


def rounded(values: Sequence[float]) -> list[float]:
    """Numbers rounded to DECIMALS (floats; -0.0 becomes 0.0)."""
    return [round(float(v), DECIMALS) + 0.0 for v in values]


def rounded_polygon(parts: Sequence[Sequence[float]]) -> list[list[float]]:
    """Every vertex of every part rounded to DECIMALS."""
    return [rounded(part) for part in parts]


def box_only_area(box: Sequence[float]) -> float:
    """The area of a label without segmentation: width x height, rounded."""
    return round(float(box[2]) * float(box[3]), DECIMALS) + 0.0


def shape_fields(
    height: int,
    width: int,
    style: LabelStyle,
    *,
    bbox: Sequence[float] | None = None,
    segmentation: list[list[float]] | None = None,
) -> dict[str, Any]:
    """bbox, area and segmentation (None: no segmentation key) of a new label from a polygon,
    else a box, clamped into the image and rounded, with its shape matching the dataset."""
    if segmentation:
        polygon = rounded_polygon(geometry.clamp_polygon(segmentation, height, width))
        box = rounded(geometry.polygon_bbox(polygon))
    else:
        if bbox is None:
            raise ValueError("a new label needs a box or a polygon")
        box = rounded(geometry.clamp_box(bbox, height, width))
        if not style.polygons:
            seg: Any = [] if style.box_segmentation == "empty" else None
            return {"bbox": box, "area": box_only_area(box), "segmentation": seg}
        polygon = rounded_polygon(geometry.box_to_polygon(box))
    area = geometry.segmentation_area(polygon, height, width, box)
    return {"bbox": box, "area": area, "segmentation": polygon}


def new_label(
    annotation_id: int,
    image: dict,
    category_id: int,
    style: LabelStyle,
    *,
    bbox: Sequence[float] | None = None,
    segmentation: list[list[float]] | None = None,
) -> dict[str, Any]:
    """A new label dict (for :class:`.edits.AddLabel`) by the one rule above."""
    fields = shape_fields(
        int(image["height"]),
        int(image["width"]),
        style,
        bbox=bbox,
        segmentation=segmentation,
    )
    return {
        "id": annotation_id,
        "image_id": image["id"],
        "category_id": category_id,
        "bbox": fields["bbox"],
        "area": fields["area"],
        "iscrowd": 0,
        "segmentation": fields["segmentation"],
    }


def duplicate_label(
    annotation_id: int,
    original: dict,
    image: dict,
    style: LabelStyle,
    offset: float = DUPLICATE_OFFSET,
) -> dict[str, Any]:
    """A copy of ``original`` (same class) moved by ``offset`` pixels, by the one rule above."""
    seg = original.get("segmentation")
    polygon = seg if geometry.is_polygon(seg) and seg else None  # a mask copies as its box
    height, width = int(image["height"]), int(image["width"])
    box, polygon = offset_geometry(original["bbox"], polygon, offset, height, width)
    return new_label(
        annotation_id, image, original["category_id"], style, bbox=box, segmentation=polygon
    )
