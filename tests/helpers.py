"""Small synthetic COCO datasets for tests (no files from outside the repo needed)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from labelfix.core.consensus import Cover, SetSuspects
from labelfix.core.errors import KIND_CODE

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
DEMO = ROOT / "resources" / "demo"


def shared_path(*parts: str) -> Path:
    """A path under ../shared/data, skipping the test (or, called at import, the module)
    cleanly where it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared data not present: {path}", allow_module_level=True)
    return path


def tiny_dataset() -> dict[str, Any]:
    """Two images, three categories, a polygon label, a box-only label, a crowd RLE label."""
    return {
        "info": {"description": "tiny", "year": 2026},
        "licenses": [{"id": 1, "name": "CC BY 4.0", "url": "https://example.org"}],
        "custom_top": {"keep": [1, 2, 3]},
        "images": [
            {
                "id": 1,
                "file_name": "a.jpg",
                "width": 100,
                "height": 80,
                "license": 1,
                "source": "x",
            },
            {"id": 2, "file_name": "b.jpg", "width": 60, "height": 50},
        ],
        "categories": [
            {"id": 1, "name": "person", "supercategory": "person"},
            {"id": 3, "name": "car", "supercategory": "vehicle", "color": "red"},
            {"id": 7, "name": "dog", "supercategory": "animal"},
        ],
        "annotations": [
            {
                "id": 10,
                "image_id": 1,
                "category_id": 1,
                "iscrowd": 0,
                "area": 600.5,
                "bbox": [10.5, 10.0, 30.0, 40.0],
                "segmentation": [[10.5, 10.0, 40.5, 10.0, 40.5, 50.0, 10.5, 50.0]],
                "attributes": {"occluded": True},
            },
            {
                "id": 11,
                "image_id": 1,
                "category_id": 3,
                "iscrowd": 0,
                "area": 400,
                "bbox": [50, 20, 20, 20],
            },
            {
                "id": 12,
                "image_id": 2,
                "category_id": 7,
                "iscrowd": 1,
                "area": 100,
                "bbox": [0, 0, 10, 10],
                "segmentation": {"size": [50, 60], "counts": [0, 10, 40, 10, 40, 10, 2890]},
            },
        ],
    }


def tiny_predictions() -> list[dict[str, Any]]:
    """Predictions on the tiny dataset: a match, a missing label, a wrong class."""
    return [
        {"image_id": 1, "category_id": 1, "bbox": [11.0, 10.0, 30.0, 40.0], "score": 0.95},
        {"image_id": 1, "category_id": 7, "bbox": [70.0, 50.0, 20.0, 20.0], "score": 0.9},
        {"image_id": 1, "category_id": 1, "bbox": [50.0, 20.0, 20.0, 20.0], "score": 0.85},
        {"image_id": 2, "category_id": 7, "bbox": [1.0, 1.0, 10.0, 10.0], "score": 0.3},
    ]


def write_json(path: Path, data: Any) -> Path:
    """Write JSON and return the path."""
    path.write_text(json.dumps(data))
    return path


def sql(store: Any, query: str, params: Any = ()) -> Any:
    """Run raw SQL on a store's own connection (returns the cursor), for tests that inspect or
    corrupt the file itself: the application asks the store for operations, never writes SQL.
    A read of ``suspects`` sees the suspects of analyses stored as columns as rows too
    (``store.suspect_rows_view``); its rows are fetched at once."""
    if re.search(r"\bsuspects\b", query) and query.lstrip().upper().startswith("SELECT"):
        with store.suspect_rows_view():
            return _Fetched(store._db.execute(query, params).fetchall())
    return store._db.execute(query, params)


def suspects_to_rows(store: Any) -> None:
    """Store a project file's analyses whose suspects are column blobs as rows of ``suspects``
    instead, as a LabelFix before schema 7 kept them (for tests that make older files)."""
    from labelfix.core.store.suspect_blobs import ROW_FIELDS

    with store.suspect_rows_view():
        rows = store._db.rows(
            "SELECT * FROM temp.suspects WHERE analysis_id IN "
            "(SELECT id FROM analyses WHERE suspect_ids_end IS NOT NULL)"
        )
    with store.atomic():
        if rows:
            columns = [list(c) for c in zip(*rows, strict=True)]
            store._db.insert_columns("suspects", ROW_FIELDS, columns)
        store._db.execute("UPDATE analyses SET suspect_ids_end = NULL")
        store._db.execute("DELETE FROM arrays WHERE owner LIKE 'suspect_rows:%'")


class _Fetched:
    """The rows of a query already run, read like its cursor."""

    def __init__(self, rows: list) -> None:
        self._rows = list(rows)

    def fetchall(self) -> list:
        rows, self._rows = self._rows, []
        return rows

    def fetchone(self) -> Any:
        return self._rows.pop(0) if self._rows else None

    def __iter__(self) -> Any:
        return iter(self.fetchall())


def real81_project(out: Path) -> Path:
    """The 81 real COCO images' labels with CenterNet's box predictions (set ``centernet``),
    imported into a project file at ``out``."""
    from labelfix.core.project import import_project

    root = shared_path("coco_real81")
    import_project(
        out,
        root / "annotations" / "instances_real81.json",
        None,
        root / "predictions" / "centernet_bbox_results.json",
        "centernet",
    )
    return out


def val2014_segm_project(out: Path, name: str = "model") -> Path:
    """COCO val2014's first 100 images (polygon labels) with the cocoapi demo's segm (RLE)
    results (set ``name``), imported into a project file at ``out``."""
    from labelfix.core.project import import_project

    root = shared_path("coco_val2014_100")
    import_project(
        out,
        root / "instances_val2014_100.json",
        None,
        root / "instances_val2014_fakesegm100_results.json",
        name,
    )
    return out


def label_mask_ious(labels: Any) -> Any:
    """The label-label mask IoU matrix of one image's labels (None below two labels), with its
    own pycocotools call: the reference for the analysis's IoUs taken from the matching's call
    (matching.mask_ious)."""
    from pycocotools import mask as mask_utils

    if len(labels) < 2:
        return None
    return np.asarray(mask_utils.iou(labels.rles, labels.rles, [0] * len(labels)), np.float64)


def image_labels(*rows: tuple, crowd: tuple[int, ...] = ()) -> Any:
    """One image's labels (core.matching.ImageLabels) from (id, category, x, y, w, h) rows;
    ids in ``crowd`` are crowd regions."""
    from labelfix.core.matching import ImageLabels

    arr = np.asarray(rows, dtype=np.float64).reshape(-1, 6)
    return ImageLabels(
        ids=arr[:, 0].astype(np.int64),
        category_ids=arr[:, 1].astype(np.int64),
        boxes=arr[:, 2:6].copy(),
        iscrowd=np.isin(arr[:, 0], crowd),
        areas=arr[:, 4] * arr[:, 5],
    )


def image_predictions(*rows: tuple) -> Any:
    """One image's predictions (core.matching.ImagePredictions) from (id, category, score, x,
    y, w, h) rows."""
    from labelfix.core.matching import ImagePredictions

    arr = np.asarray(rows, dtype=np.float64).reshape(-1, 7)
    return ImagePredictions(
        ids=arr[:, 0].astype(np.int64),
        category_ids=arr[:, 1].astype(np.int64),
        scores=arr[:, 2].copy(),
        boxes=arr[:, 3:7].copy(),
    )


def tied_scores(rng: np.random.Generator, n: int, nan: bool = False) -> np.ndarray:
    """Scores with many ties, zeros of both signs and infinities (and nan if ``nan``): the
    cases where a faster sort may order differently from the plain one."""
    score = np.round(rng.random(n), int(rng.integers(1, 4)))
    special = rng.random(n)
    score[special < 0.05] = 0.0
    score[(special >= 0.05) & (special < 0.1)] = -0.0
    score[(special >= 0.1) & (special < 0.12)] = np.inf
    if nan:
        score[(special >= 0.12) & (special < 0.14)] = np.nan
    return score


DRAWN_SIZE = (120, 160)  # height, width of :func:`drawn_picture`
DRAWN_OBJECTS = [  # its objects, polygons x, y, ...: a pentagon and two quadrilaterals
    [30.0, 20.0, 70.0, 25.0, 75.0, 60.0, 50.0, 80.0, 25.0, 55.0],
    [95.0, 15.0, 140.0, 15.0, 145.0, 50.0, 100.0, 55.0],
    [90.0, 70.0, 130.0, 75.0, 125.0, 110.0, 85.0, 105.0],
]


def drawn_picture(path: Path) -> Path:
    """A noisy gray background with :data:`DRAWN_OBJECTS` filled brighter (for the tests of
    the image's edges: core.edge_fit, core.outline_search)."""
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(0)
    pixels = (60 + rng.normal(0, 6, DRAWN_SIZE)).clip(0, 255).astype(np.uint8)
    img = Image.fromarray(pixels).convert("RGB")
    draw = ImageDraw.Draw(img)
    for poly in DRAWN_OBJECTS:
        draw.polygon(list(zip(poly[0::2], poly[1::2], strict=True)), fill=(200, 190, 180))
    img.save(path)
    return path


def polygon_bounds(poly: list[float]) -> list[float]:
    """A flat polygon's box [x, y, w, h]."""
    xs, ys = poly[0::2], poly[1::2]
    return [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)]


def drawn_project(
    tmp_path: Path, labels: list[list[float]], preds: list[dict], images: Path | None
) -> tuple[Any, int]:
    """A project of :func:`drawn_picture` (written as ``im.png`` in ``tmp_path``) with these
    polygon labels (class 1, ids from 1) and box predictions, its image folder ``images``;
    returns the open store and the prediction set's id."""
    from labelfix.core.coco import read_ground_truth, read_predictions
    from labelfix.core.store import Store

    drawn_picture(tmp_path / "im.png")
    h, w = DRAWN_SIZE
    gt = {
        "images": [{"id": 1, "file_name": "im.png", "height": h, "width": w}],
        "categories": [{"id": 1, "name": "thing"}],
        "annotations": [
            {
                "id": i + 1,
                "image_id": 1,
                "category_id": 1,
                "segmentation": [p],
                "bbox": polygon_bounds(p),
                "area": polygon_bounds(p)[2] * polygon_bounds(p)[3],
                "iscrowd": 0,
            }
            for i, p in enumerate(labels)
        ],
    }
    store = Store.create(tmp_path / f"p{images is not None}.labelfix")
    store.import_ground_truth(read_ground_truth(write_json(tmp_path / "gt.json", gt)), None)
    if images is not None:
        store.set_images_root(images)
    pf = read_predictions(write_json(tmp_path / "pr.json", preds), store.image_sizes(), {1})
    return store, store.add_predictions(pf, "model")


def a_group(index: Any, size: int = 2) -> int:
    """A row of a ``SuspectIndex`` heading a group of at least ``size`` open suspects (one
    object's suspect and its alternatives)."""
    heads = np.flatnonzero(index.group_rank == 0)
    return int(heads[np.flatnonzero(index.group_size(heads) >= size)[0]])


def scored_suspects(rows: list[tuple], confidence: float = float("nan")) -> np.ndarray:
    """Scored suspects (SUSPECT_COLUMNS + score) of (kind, image, label, prediction, score)
    rows, every one with this ``confidence``."""
    from labelfix.core.errors import KIND_CODE, SUSPECT_COL, SUSPECT_COLUMNS

    out = np.full((len(rows), len(SUSPECT_COLUMNS) + 1), np.nan)
    for i, (kind, image, ann, pred, score) in enumerate(rows):
        out[i, SUSPECT_COL["kind"]] = KIND_CODE[kind]
        out[i, SUSPECT_COL["image_id"]] = image
        out[i, SUSPECT_COL["annotation_id"]] = ann
        out[i, SUSPECT_COL["prediction_id"]] = pred
        out[i, SUSPECT_COL["confidence"]] = confidence
        out[i, -1] = score
    return out


def set_suspects(
    rows: list[tuple], recall: float | None = 0.5, labels: tuple[int, ...] = ()
) -> SetSuspects:
    """One prediction set's suspects for core.consensus: rows of (kind, image, annotation, box,
    score); the set's recall and the labels its true positives match."""
    return SetSuspects(
        kind=np.array([KIND_CODE[r[0]] for r in rows], dtype=np.int64),
        image_id=np.array([r[1] for r in rows], dtype=np.int64),
        annotation_id=np.array([r[2] for r in rows], dtype=np.int64),
        other_annotation_id=np.full(len(rows), -1, dtype=np.int64),
        box=np.array([r[3] for r in rows], dtype=float).reshape(-1, 4),
        score=np.array([r[4] for r in rows], dtype=float),
        probability=np.full(len(rows), 0.5),
        cover=Cover(frozenset(labels), {}, recall),
    )
