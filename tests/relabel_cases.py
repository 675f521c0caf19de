"""A small analysed project for the re-decide and relabel tests, and an editor's round trip
(what CVAT or Label Studio do to a subset: renumber images, labels and classes, add their own
keys, and the annotator's edits)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from labelfix.core.analyze import analyze
from labelfix.core.coco import read_ground_truth, read_predictions
from labelfix.core.errors import AnalysisParams
from labelfix.core.store import Store
from labelfix.core.suspects import SuspectIndex

from helpers import write_json

# a.jpg (200x150) holds every kind of suspect; b.jpg (100x80) none. Classes 1 cat, 2 dog.
LABELS = [  # id, image, class, box, polygon
    (1, 1, 1, [10, 10, 40, 40], None),  # a dog predicted on it: wrong_class
    (2, 1, 1, [100, 10, 40, 40], [[100, 10, 140, 10, 140, 50, 100, 50]]),  # inaccurate_label
    (3, 1, 1, [150, 100, 30, 30], None),  # 3 and 4: duplicate_label
    (4, 1, 1, [151, 100, 30, 30], None),
    (5, 1, 1, [60, 110, 20, 20], None),  # nothing on it: spurious_label
    (6, 2, 2, [10, 10, 20, 20], None),  # matched: no suspect
]
PREDICTIONS = [  # image, class, box, score
    (1, 2, [10, 10, 40, 40], 0.9),  # 1: wrong_class on label 1
    (1, 1, [110, 15, 40, 40], 0.9),  # 2: partly on label 2: inaccurate_label
    (1, 1, [10, 100, 30, 30], 0.9),  # 3: nobody labelled it: missing_label
    (1, 1, [150, 100, 30, 30], 0.9),  # 4: matches label 3
    (2, 2, [10, 10, 20, 20], 0.9),  # 5: matches label 6
]
CATEGORIES = [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"}]


def dataset() -> dict[str, Any]:
    """The labels above as COCO (each label with an unknown key the project must keep)."""
    anns = []
    for ann_id, image_id, cat, box, polygon in LABELS:
        ann = {"id": ann_id, "image_id": image_id, "category_id": cat, "bbox": box,
               "iscrowd": 0, "area": box[2] * box[3], "note": f"kept {ann_id}"}  # fmt: skip
        if polygon:
            ann["segmentation"] = polygon
        anns.append(ann)
    return {
        "info": {"description": "relabel cases"},
        "images": [
            {"id": 1, "file_name": "a.jpg", "width": 200, "height": 150},
            {"id": 2, "file_name": "b.jpg", "width": 100, "height": 80},
        ],
        "categories": CATEGORIES,
        "annotations": anns,
    }


def build(tmp_path: Path) -> Store:
    """The project above, imported and analysed with raw confidences (deterministic suspects)."""
    preds = [{"image_id": i, "category_id": c, "bbox": b, "score": s} for i, c, b, s in PREDICTIONS]
    gt = read_ground_truth(write_json(tmp_path / "gt.json", dataset()))
    store = Store.create(tmp_path / "p.labelfix")
    store.import_ground_truth(gt, None)
    pf = read_predictions(
        write_json(tmp_path / "p.json", preds), store.image_sizes(), set(store.category_names())
    )
    store.add_predictions(pf, "model")
    analyze(store, params=AnalysisParams(calibrate=False))
    return store


def suspect(store: Store, kind: str) -> dict:
    """The first suspect of a kind, as the index lists it (with set_id)."""
    index = SuspectIndex.load(store)
    for pos in range(len(index)):
        row = index.row(pos)
        if row["kind"] == kind:
            return dict(row, set_id=index.set_id)
    kinds = [index.row(p)["kind"] for p in range(len(index))]
    raise AssertionError(f"no {kind} suspect: {kinds}")


def editor_round_trip(
    subset: dict[str, Any], *, label_studio: bool = False
) -> tuple[dict[str, Any], dict[str, int]]:
    """What an editor gives back for a subset: images, labels and classes renumbered (CVAT:
    from 1; Label Studio: from 0, file names as ``images/1a2b3c4d-a.jpg``, sizes as null),
    classes listed in another order, the editor's own keys added, the subset's dropped. Returns
    it and, by old label id, each label's new id."""
    out = copy.deepcopy(subset)
    base = 0 if label_studio else 1
    out.pop("labelfix", None)
    cats = list(reversed(out["categories"]))
    new_cat = {c["id"]: base + i for i, c in enumerate(cats)}
    out["categories"] = [{"id": new_cat[c["id"]], "name": c["name"], "supercategory": ""}
                         for c in cats]  # fmt: skip
    new_image = {}
    for i, image in enumerate(out["images"]):
        new_image[image["id"]] = base + 100 + i
        image.pop("labelfix", None)
        image["id"] = new_image[image["id"]]
        if label_studio:
            image["file_name"] = f"images/1a2b3c4d-{image['file_name']}"
            image["width"] = image["height"] = None
    new_label = {}
    for i, ann in enumerate(out["annotations"]):
        new_label[ann["id"]] = base + 500 + i
        ann["id"] = new_label[ann["id"]]
        ann["image_id"] = new_image[ann["image_id"]]
        ann["category_id"] = new_cat[ann["category_id"]]
        ann.pop("note", None)
        ann["attributes"] = {"occluded": False}
    return out, new_label


def cat_id(subset: dict[str, Any], name: str) -> int:
    """The id a subset gives a class name."""
    return next(c["id"] for c in subset["categories"] if c["name"] == name)
