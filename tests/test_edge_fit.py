"""Score version 8's image evidence for inaccurate_label (core.edge_fit): a label on its object's
edges fits better than a shifted one; no image, no polygon or an old score version: no change."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from labelfix.core import edge_fit
from labelfix.core.analyze import analyze
from labelfix.core.errors import KIND_CODE, SUSPECT_COL, SUSPECT_COLUMNS, AnalysisParams
from labelfix.core.store import Store
from labelfix.core.suspects import SuspectFilter, SuspectIndex

from helpers import (
    DRAWN_OBJECTS,
    DRAWN_SIZE,
    drawn_picture,
    drawn_project,
    polygon_bounds,
)

SIZE, OBJECTS, _picture = DRAWN_SIZE, DRAWN_OBJECTS, drawn_picture


def _shifted(poly: list[float], dx: float, dy: float, scale: float = 1.0) -> list[float]:
    xy = np.asarray(poly).reshape(-1, 2)
    centre = xy.mean(axis=0)
    return ((xy - centre) * scale + centre + [dx, dy]).ravel().tolist()


_bounds = polygon_bounds


def _gray(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"), dtype=np.float32) @ edge_fit._GRAY


def test_a_label_on_its_edges_fits_better_than_a_shifted_one(tmp_path: Path) -> None:
    gray = _gray(_picture(tmp_path / "a.png"))
    obj = OBJECTS[0]
    right = edge_fit.polygons_of([obj])
    shifted = edge_fit.polygons_of([_shifted(obj, 12, 9, 1.2)])
    # a right label against a prediction that is off: the moved outline fits worse
    off = _bounds(_shifted(obj, 12, 9, 1.2))
    assert edge_fit.fit_ratio(gray, right, off) < 0.7
    # a shifted label against a prediction on the object: the moved outline fits better
    ratio = edge_fit.fit_ratio(gray, shifted, _bounds(obj))
    assert ratio > 1.5
    assert edge_fit.factor(ratio) > 1.2 and edge_fit.factor(1 / ratio) < 0.8
    assert edge_fit.factor(1.0) == 1.0 and edge_fit.factor(float("nan")) == 1.0
    # the gradient of a crop is the whole image's inside it (the ratio reads crops)
    whole = edge_fit.gradient_magnitude(gray)
    assert np.allclose(
        edge_fit.gradient_magnitude(gray[10:90, 20:90])[1:-1, 1:-1], whole[11:89, 21:89]
    )


def _rows(pairs: list[tuple[int, int, int, float]]) -> np.ndarray:
    """A suspects array (+ score) of inaccurate_label rows (image, label, prediction, score)."""
    out = np.full((len(pairs), len(SUSPECT_COLUMNS) + 1), np.nan)
    for r, (im, ann, pred, score) in enumerate(pairs):
        out[r, SUSPECT_COL["kind"]] = KIND_CODE["inaccurate_label"]
        out[r, SUSPECT_COL["image_id"]] = im
        out[r, SUSPECT_COL["annotation_id"]] = ann
        out[r, SUSPECT_COL["prediction_id"]] = pred
        out[r, -1] = score
    return out


def test_apply_reads_within_its_budget_and_keeps_missing_images_neutral(tmp_path: Path) -> None:
    good = _picture(tmp_path / "good.png")
    labels = {1: {"segmentation": [_shifted(OBJECTS[0], 12, 9, 1.2)]}, 2: {"bbox": [1, 2, 3, 4]}}
    labels[3] = labels[1]
    files = {1: good, 2: good, 3: tmp_path / "gone.png"}
    reads: list[int] = []

    def image(im: int) -> tuple[Path | None, tuple[int, int]]:
        reads.append(im)
        return files[im], SIZE

    def boxes(ids: object) -> dict[int, np.ndarray]:
        return {p: np.asarray(_bounds(OBJECTS[0])) for p in (10, 20, 30)}

    scored = _rows([(1, 1, 10, 0.4), (2, 2, 20, 0.5), (3, 3, 30, 0.3)])
    before = scored.copy()
    done = edge_fit.apply(scored, boxes, labels.get, image)
    assert scored[0, -1] > 0.5  # the shifted polygon: raised
    assert scored[1, -1] == before[1, -1]  # a box-only label: no outline, unchanged
    assert scored[2, -1] == before[2, -1]  # its image file is missing: unchanged, no crash
    assert done.measured == 1 and done.missing == [str(tmp_path / "gone.png")]
    assert "1 image file(s) missing" in done.warnings()[0]
    # a budget of one image: only the best-scored row's image is looked at
    reads.clear()
    scored = before.copy()
    edge_fit.apply(scored, boxes, labels.get, image, budget=1)
    assert reads == [2] and np.array_equal(scored, before, equal_nan=True)


def _project(tmp_path: Path, images: Path | None) -> tuple[Store, int]:
    labels = [
        _shifted(OBJECTS[0], 12, 9, 1.2),  # the inaccurate label
        OBJECTS[1],
        OBJECTS[2],
    ]
    preds = [
        {"image_id": 1, "category_id": 1, "bbox": _bounds(p), "score": s}
        for p, s in zip(OBJECTS, (0.9, 0.95, 0.85), strict=True)
    ]
    return drawn_project(tmp_path, labels, preds, images)


def _inaccurate_score(store: Store, set_id: int, version: int) -> float:
    analyze(store, set_id, AnalysisParams(score_version=version))
    index = SuspectIndex.load(store, set_id)
    rows = [index.row(int(r)) for r in index.query(SuspectFilter(min_score=0.0))]
    scores = [r["score"] for r in rows if r["kind"] == "inaccurate_label"]
    assert len(scores) == 1
    return scores[0]


@pytest.mark.parametrize("with_images", [True, False])
def test_version_8_raises_a_shifted_label_only_with_its_image(
    tmp_path: Path, with_images: bool
) -> None:
    store, set_id = _project(tmp_path, tmp_path if with_images else None)
    try:
        v7 = _inaccurate_score(store, set_id, 7)
        v8 = _inaccurate_score(store, set_id, 8)
    finally:
        store.close()
    if with_images:
        assert v8 > v7 * 1.2
    else:
        assert v8 == v7


def test_a_missing_image_file_keeps_the_score_and_is_warned_about(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    store, set_id = _project(tmp_path, elsewhere)  # an image folder without the image
    try:
        v7 = _inaccurate_score(store, set_id, 7)
        summary = analyze(store, set_id, AnalysisParams(score_version=8))
        v8 = _inaccurate_score(store, set_id, 8)
    finally:
        store.close()
    assert v8 == v7
    assert len(summary.warnings) == 1 and "1 image file(s) missing" in summary.warnings[0]
    assert str(elsewhere / "im.png") in summary.warnings[0]
