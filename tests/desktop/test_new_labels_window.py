"""New labels made in the window follow the one rule of core.new_labels: in a polygon dataset
(the demo) a box drawn with W and a duplicate get the rectangle polygon, so pycocotools can build
their masks from the export; their area is that mask's."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

from pycocotools import mask as mask_utils
from pycocotools.coco import COCO

from labelfix.core.export import export_coco
from labelfix.desktop.session import Session


def mask_area(segmentation: list, height: int, width: int) -> float:
    return float(
        mask_utils.area(mask_utils.merge(mask_utils.frPyObjects(segmentation, height, width)))
    )


def test_drawn_and_duplicated_boxes_get_a_polygon_in_a_polygon_dataset(
    demo_project: Path, tmp_path: Path, qtbot: object
) -> None:
    session = Session.open(demo_project)
    image = session.store.images()[0]
    h, w = image["height"], image["width"]
    drawn = session.labels.add(image["id"], bbox=[10.123, 20.456, 50.5, 40.25])
    assert drawn is not None
    label = session.store.annotation(drawn)
    assert label["bbox"] == [10.12, 20.46, 50.5, 40.25]
    assert label["segmentation"] == [[10.12, 20.46, 60.62, 20.46, 60.62, 60.71, 10.12, 60.71]]
    assert label["area"] == mask_area(label["segmentation"], h, w)
    copy = session.labels.duplicate(drawn)
    assert copy is not None
    twin = session.store.annotation(copy)
    assert twin["segmentation"] and twin["area"] == mask_area(twin["segmentation"], h, w)
    out = tmp_path / "out.json"
    export_coco(session.store, out)
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO(str(out))
    for ann_id in (drawn, copy):
        ann = coco.anns[ann_id]
        assert coco.annToMask(ann).sum() == ann["area"]
    session.close()
