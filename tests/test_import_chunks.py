"""Importing chunk by chunk (files above coco_stream.STREAM_BYTES) builds the same project as
reading the files whole: the same rows, the same prediction columns (stored in parts by image),
the same warnings, the same analysis; and bad files get the same errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from labelfix.core import coco_stream, json_chunks
from labelfix.core.analyze import analyze
from labelfix.core.coco import CocoError
from labelfix.core.errors import AnalysisParams
from labelfix.core.export import export_coco
from labelfix.core.project import add_predictions, import_project
from labelfix.core.store import Store, prediction_parts

from helpers import ROOT, shared_path, sql, tiny_dataset, tiny_predictions, write_json

BAD = ROOT / "tests" / "data" / "bad"


@pytest.fixture
def chunked(monkeypatch: pytest.MonkeyPatch):
    """Every file streamed, in chunks of a few records, predictions in parts of 50."""

    def on() -> None:
        monkeypatch.setattr(coco_stream, "STREAM_BYTES", 0)
        monkeypatch.setattr(json_chunks, "CHUNK_BYTES", 700)
        monkeypatch.setattr(json_chunks, "BLOCK", 1000)
        monkeypatch.setattr(prediction_parts, "PART_PREDICTIONS", 50)
        monkeypatch.setattr(prediction_parts, "PART_IMAGES", 5)

    return on


def _tables(store: Store) -> dict:
    out = {}
    for table, order in (
        ("images", "id"),
        ("categories", "id"),
        ("annotations", "id"),
        ("prediction_shapes", "set_id, id"),
        ("prediction_sets", "id"),
    ):
        rows = sql(store, f"SELECT * FROM {table} ORDER BY {order}").fetchall()
        if table == "prediction_sets":
            rows = [r[:1] + r[2:3] + r[4:] for r in rows]  # not the import time
        out[table] = rows
    out["meta"] = {
        k: store.get_meta(k) for k in ("dataset_top", "warnings", "active_prediction_set")
    }
    return out


def _import_both(tmp_path: Path, chunked, gt: Path, pred: Path | None, images=None) -> list:
    results = []
    for name in ("whole", "chunked"):
        if name == "chunked":
            chunked()
        out = tmp_path / f"{name}.labelfix"
        report = import_project(out, gt, images, pred, "model")
        with Store.open(out) as store:
            tables = _tables(store)
            arrays = store.prediction_arrays(store.active_set_id()) if pred else None
            if pred:
                summary = analyze(store, params=AnalysisParams())
                suspects = sql(
                    store,
                    "SELECT key, kind, score FROM suspects WHERE analysis_id = ? ORDER BY key",
                    [summary.analysis_id],
                ).fetchall()
            else:
                suspects = None
            export_coco(store, tmp_path / f"{name}.json")
        results.append(
            (report, tables, arrays, suspects, json.loads((tmp_path / f"{name}.json").read_text()))
        )
    return results


def _same(whole, chunk) -> None:
    (r1, t1, a1, s1, e1), (r2, t2, a2, s2, e2) = whole, chunk
    assert [str(w) for w in r1.warnings] == [str(w) for w in r2.warnings]
    assert (r1.images, r1.labels, r1.predictions) == (r2.images, r2.labels, r2.predictions)
    assert t1 == t2
    if a1 is not None:
        assert a1.keys() == a2.keys()
        for k in a1:
            np.testing.assert_array_equal(a1[k], a2[k])
    assert s1 == s2
    assert e1 == e2


def test_real_data_imports_the_same_in_chunks(tmp_path: Path, chunked) -> None:
    root = shared_path("coco_real81")
    gt = root / "annotations" / "instances_real81.json"
    pred = root / "predictions" / "centernet_bbox_results.json"
    whole, chunk = _import_both(tmp_path, chunked, gt, pred, root / "images")
    _same(whole, chunk)
    with Store.open(tmp_path / "chunked.labelfix") as store:
        set_id = store.active_set_id()
        assert len(store.prediction_parts(set_id)) > 1  # really stored in parts
        first = store.prediction(set_id, 1)
        assert first is not None and first["id"] == 1
        image = first["image_id"]
        # on its image's part (what the review's fix preview asks with the suspect's image),
        # and found by its id when given the wrong image
        last = store.prediction(set_id, len(whole[2]["id"]))
        assert last is not None
        for pid, hint in ((1, image), (last["id"], last["image_id"]), (last["id"], image)):
            assert store.prediction(set_id, pid, hint) == store.prediction(set_id, pid)
        assert store.prediction(set_id, 10**9, image) is None
        assert [p["id"] for p in store.predictions_for_image(set_id, image)] == [
            int(i) for i, m in zip(whole[2]["id"], whole[2]["image_id"] == image, strict=True) if m
        ]


def test_odd_records_import_the_same_in_chunks(tmp_path: Path, chunked) -> None:
    """Lenient readings (float ids, empty segmentations, unknown keys, masks without boxes)."""
    data = tiny_dataset()
    data["annotations"][0]["id"] = 10.0
    data["annotations"].append(
        {"id": 99, "image_id": 2, "category_id": 7, "bbox": [0, 0, 5, 5], "segmentation": None}
    )
    gt = write_json(tmp_path / "gt.json", data)
    preds = tiny_predictions()
    preds[0]["extra_key"] = {"a": 1}
    preds.append({"image_id": 2.0, "category_id": 3, "bbox": [1, 2, 3, 4], "score": 0.5})
    preds.append({"image_id": 2, "category_id": 3, "bbox": [1, 2, 300, 4], "score": 1})
    pred = write_json(tmp_path / "pred.json", preds * 7)
    whole, chunk = _import_both(tmp_path, chunked, gt, pred)
    _same(whole, chunk)


def _problems(path: Path, pred: Path | None, tmp: Path) -> list[str]:
    try:
        import_project(tmp / "x.labelfix", path, None, pred, "m")
    except CocoError as exc:
        return sorted(str(p) for p in exc.problems)
    return []


@pytest.mark.parametrize(
    "name",
    sorted(
        p.name
        for p in BAD.glob("gt_*.json")
        if p.name not in ("gt_truncated.json", "gt_not_utf8.json", "gt_deep_nesting.json")
    ),
)
def test_bad_labels_files_get_the_same_errors(tmp_path: Path, chunked, name: str) -> None:
    whole = _problems(BAD / name, None, tmp_path)
    chunked()
    assert _problems(BAD / name, None, tmp_path) == whole


@pytest.mark.parametrize("name", sorted(p.name for p in BAD.glob("pred_*.json")))
def test_bad_results_files_get_the_same_errors(tmp_path: Path, chunked, name: str) -> None:
    if name == "pred_truncated.json":
        pytest.skip("a broken file's message comes from the chunk it breaks in")
    gt = BAD / "good_gt.json"
    whole = _problems(gt, BAD / name, tmp_path)
    chunked()
    assert _problems(gt, BAD / name, tmp_path) == whole


def test_a_broken_file_names_its_line(tmp_path: Path, chunked) -> None:
    chunked()
    for name in ("gt_truncated.json", "gt_not_utf8.json"):
        problems = _problems(BAD / name, None, tmp_path)
        assert len(problems) == 1 and "(file)" in problems[0], problems
    assert "line" in _problems(BAD / "gt_truncated.json", None, tmp_path)[0]


def test_add_predictions_in_chunks(tmp_path: Path, chunked) -> None:
    gt = write_json(tmp_path / "gt.json", tiny_dataset())
    pred = write_json(tmp_path / "pred.json", tiny_predictions() * 30)
    import_project(tmp_path / "p.labelfix", gt, None)
    chunked()
    with Store.open(tmp_path / "p.labelfix") as store:
        n, warnings = add_predictions(store, pred, "again")
        assert n == len(tiny_predictions()) * 30
        arrays = store.prediction_arrays(store.resolve_set("again"))
        assert sorted(arrays["id"].tolist()) == list(range(1, n + 1))
