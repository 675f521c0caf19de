"""Score version 9's image-only inaccurate_label suspects (core.outline_search): a polygon label
off its drawn object, with no prediction on it, becomes a suspect whose fix lands on the object;
a right label does not; no image, an old score version: nothing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from labelfix.core import outline_search
from labelfix.core.analyze import analyze
from labelfix.core.coco import read_predictions
from labelfix.core.edits import EditError
from labelfix.core.errors import AnalysisParams
from labelfix.core.review import decide, fix_preview, fix_variants
from labelfix.core.store import Store
from labelfix.core.suspects import SuspectFilter, SuspectIndex

from helpers import (
    DRAWN_OBJECTS,
    DRAWN_SIZE,
    drawn_picture,
    drawn_project,
    polygon_bounds,
    write_json,
)

SIZE, OBJECTS, _picture = DRAWN_SIZE, DRAWN_OBJECTS, drawn_picture


def _moved(poly: list[float], dx: float, dy: float, sx: float, sy: float) -> list[float]:
    xy = np.asarray(poly).reshape(-1, 2)
    centre = (xy.min(axis=0) + xy.max(axis=0)) / 2
    return ((xy - centre) * [sx, sy] + centre + [dx, dy]).ravel().tolist()


_bounds = polygon_bounds


def _iou(a: list[float], b: list[float]) -> float:
    iw = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    return iw * ih / (a[2] * a[3] + b[2] * b[3] - iw * ih)


OFF = _moved(OBJECTS[0], -10, -7, 1.3, 1.2)  # label 1: scaled and shifted off object 0


def _project(tmp_path: Path, images: Path | None) -> tuple[Store, int]:
    """Label 1 off object 0 (no prediction on it), label 2 right with a prediction on it,
    label 3 right with none."""
    preds = [{"image_id": 1, "category_id": 1, "bbox": _bounds(OBJECTS[1]), "score": 0.9}]
    return drawn_project(tmp_path, [OFF, OBJECTS[1], OBJECTS[2]], preds, images)


def _inaccurate(store: Store, set_id: int, version: int) -> list[dict]:
    analyze(store, set_id, AnalysisParams(score_version=version))
    index = SuspectIndex.load(store, set_id)
    rows = [index.row(int(r)) for r in index.query(SuspectFilter(min_score=0.0))]
    return [r for r in rows if r["kind"] == "inaccurate_label"]


def test_best_move_lands_a_shifted_polygon_on_its_object_and_keeps_a_right_one(
    tmp_path: Path,
) -> None:
    gray = np.asarray(Image.open(_picture(tmp_path / "a.png")).convert("L"), dtype=np.float32)
    g = outline_search.ImageGradient(gray)
    off = outline_search.best_move(g, [np.asarray(OFF).reshape(-1, 2)])
    assert off is not None and off.ratio > 1.5 and outline_search.score(off.ratio) > 0.1
    assert _iou(_bounds(OFF), _bounds(OBJECTS[0])) < 0.6  # the label: off
    assert _iou(list(off.box), _bounds(OBJECTS[0])) > 0.75
    assert 100 < off.contours < 3000
    right = outline_search.best_move(g, [np.asarray(OBJECTS[2]).reshape(-1, 2)])
    assert right is not None and outline_search.score(right.ratio) == 0.0
    assert outline_search.score(float("nan")) == 0.0 and outline_search.score(1.0) == 0.0


def test_version_9_finds_the_label_off_its_object_from_the_image_and_the_fix_lands_on_it(
    tmp_path: Path,
) -> None:
    store, set_id = _project(tmp_path, tmp_path)
    try:
        rows = _inaccurate(store, set_id, 9)
        assert [r["annotation_id"] for r in rows] == [1]  # not the right labels 2 and 3
        s = rows[0]
        assert s["prediction_id"] is None and 0.1 < s["score"] < 0.5
        assert fix_variants(store, s) == ()
        preview = fix_preview(store, s)
        assert preview.action == "set_geometry" and preview.annotation_id == 1
        decide(store, [s], "accepted").apply(store)
        fixed = store.annotation(1)
        assert fixed is not None
        assert _iou(_bounds(fixed["segmentation"][0]), _bounds(OBJECTS[0])) > 0.75
        assert _iou(fixed["bbox"], _bounds(OBJECTS[0])) > 0.75
        # analysed again, the fixed label sits on its object: only the accepted row is left
        assert [r["status"] for r in _inaccurate(store, set_id, 9)] == ["accepted"]
    finally:
        store.close()


def test_gates_a_right_label_before_any_search_and_an_unsure_move_offers_no_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gray = np.asarray(Image.open(_picture(tmp_path / "a.png")).convert("L"), dtype=np.float32)
    assert not outline_search.pre_gate(gray, [np.asarray(OBJECTS[2]).reshape(-1, 2)])
    off = [np.asarray(OFF).reshape(-1, 2)]
    assert outline_search.pre_gate(gray, off)
    move = outline_search.search(outline_search.Pixels(gray), off)
    assert move is not None and move.sure and move.better >= outline_search.MIN_BETTER
    store, set_id = _project(tmp_path, tmp_path)
    try:
        s = _inaccurate(store, set_id, 9)[0]
        before = store.annotation(1)
        monkeypatch.setattr(outline_search, "SURE_RATIO", 1e9)  # no gain holds that far
        with pytest.raises(EditError, match="no sure outline"):
            fix_preview(store, s)
        with pytest.raises(EditError, match="no sure outline"):
            decide(store, [s], "accepted")
        assert store.annotation(1) == before
        # in a batch it is left open and the rest applies
        index = SuspectIndex.load(store, set_id)
        rows = [index.row(int(r)) for r in index.query(SuspectFilter(min_score=0.0))]
        other = [r for r in rows if r["annotation_id"] == 3 and r["kind"] == "spurious_label"]
        assert len(other) == 1
        decide(store, [s, *other], "accepted").apply(store)
        assert store.annotation(1) == before and store.annotation(3) is None
        assert store.decision(set_id, s["key"]) is None
        with pytest.raises(EditError, match="no suspect of the batch"):
            decide(store, [s, s], "accepted")
    finally:
        store.close()


def test_no_image_or_version_8_gives_no_image_only_suspect(tmp_path: Path) -> None:
    store, set_id = _project(tmp_path, tmp_path)
    try:
        assert _inaccurate(store, set_id, 8) == []
    finally:
        store.close()
    store, set_id = _project(tmp_path, None)  # no image folder
    try:
        assert _inaccurate(store, set_id, 9) == []
    finally:
        store.close()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    store, set_id = _project(tmp_path / "elsewhere", elsewhere)  # a folder without the image
    (elsewhere / "im.png").unlink()
    try:
        summary = analyze(store, set_id, AnalysisParams(score_version=9))
        assert _inaccurate(store, set_id, 9) == []
    finally:
        store.close()
    assert any("image-only search: 1 image file(s) missing" in w for w in summary.warnings)


def test_several_prediction_sets_count_the_image_evidence_once(tmp_path: Path) -> None:
    store, first = _project(tmp_path, tmp_path)
    try:
        same = [{"image_id": 1, "category_id": 1, "bbox": _bounds(OBJECTS[1]), "score": 0.8}]
        path = write_json(tmp_path / "pr2.json", same)
        second = store.add_predictions(read_predictions(path, store.image_sizes(), {1}), "other")
        one = _inaccurate(store, first, 9)[0]["score"]
        store.set_active_sets([first, second])
        analyze(store, None, AnalysisParams(score_version=9))
        index = SuspectIndex.load(store)
        assert index.multi
        rows = [index.row(int(r)) for r in index.query(SuspectFilter(min_score=0.0))]
        image_only = [r for r in rows if r["kind"] == "inaccurate_label"]
        assert [r["annotation_id"] for r in image_only] == [1]
        assert image_only[0]["score"] == pytest.approx(one)  # not raised as two sets' support
    finally:
        store.close()


def test_accepting_both_suspects_of_a_label_in_one_batch_applies_the_first_fix_only(
    tmp_path: Path,
) -> None:
    store, set_id = _project(tmp_path, tmp_path)
    try:
        analyze(store, set_id, AnalysisParams(score_version=9))
        index = SuspectIndex.load(store, set_id)
        rows = [index.row(int(r)) for r in index.query(SuspectFilter(min_score=0.0))]
        on_label = sorted(
            (r for r in rows if r["annotation_id"] == 1),
            key=lambda r: r["kind"] != "inaccurate_label",
        )
        assert [r["kind"] for r in on_label] == ["inaccurate_label", "spurious_label"]
        decide(store, on_label, "accepted").apply(store)  # a bulk accept of both
        fixed = store.annotation(1)
        assert fixed is not None  # moved by the first, not deleted by the second
        assert _iou(fixed["bbox"], _bounds(OBJECTS[0])) > 0.75
        assert {store.decision(set_id, r["key"])["decision"] for r in on_label} == {"accepted"}
    finally:
        store.close()
