"""A prediction set read whole keeps its compressed RLEs as they came, in one blob of counts
strings (``masks:<set id>``) instead of a ``prediction_shapes`` row each: every reader (the
analysis, the canvas's predictions, push and pull) sees the same segmentations as from rows,
and a mask analysis finds exactly what it found from rows, on SQLite and PostgreSQL; a project
whose set keeps rows (imported before schema version 6, or in chunks) reads as before."""

from __future__ import annotations

import importlib.util
import io
import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from labelfix.core import coco_masks, coco_stream
from labelfix.core.analyze import analyze
from labelfix.core.errors import AnalysisParams
from labelfix.core.project import import_project, pull_project, push_project
from labelfix.core.store import Store, migrations
from labelfix.core.store import predictions as prediction_store
from labelfix.core.store.location import parse_location

from backends import drop, location, pg_url, team_url
from helpers import ROOT, sql, write_json


def _generate():
    spec = importlib.util.spec_from_file_location("generate", ROOT / "bench" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _files(tmp_path: Path, extra: bool = True, shuffle: bool = False) -> tuple[Path, Path]:
    """30 images of polygon labels; 8 RLE predictions an image, some of them a polygon, an RLE
    with its keys the other way round, with a backslash in its counts, or (``extra``) with
    unknown keys; in image order unless ``shuffle``."""
    generate = _generate()
    gt = generate.make_ground_truth(30, seed=5)
    preds = generate.make_predictions(gt, 8, seed=6, segm=True)
    sizes = {im["id"]: (im["height"], im["width"]) for im in gt["images"]}
    for k in range(0, len(preds), 7):
        p = preds[k]
        h, w = sizes[p["image_id"]]
        p["segmentation"] = [[1.0, 2.0, w / 2, 2.0, w / 2, h / 2]]
    for k in range(3, len(preds), 11):
        seg = preds[k]["segmentation"]
        if type(seg) is dict:
            preds[k]["segmentation"] = {"counts": seg["counts"], "size": seg["size"]}
    for k in range(5, len(preds), 13) if extra else ():
        preds[k]["source"] = {"model": "x"}
    if shuffle:
        preds = [preds[k] for k in np.random.default_rng(7).permutation(len(preds)).tolist()]
    assert any("\\" in p["segmentation"]["counts"] for p in preds if "size" in p["segmentation"])
    return write_json(tmp_path / "gt.json", gt), write_json(tmp_path / "p.json", preds)


def _as_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    """Store every segmentation as a row, as LabelFix did before schema version 6."""
    monkeypatch.setattr(prediction_store, "rle_columns", lambda r, indices, *a: (None, indices))
    monkeypatch.setattr(
        prediction_store, "read_rle_columns", lambda pf, masked, ids: (None, masked)
    )


def _read(store: Store) -> dict:
    set_id = store.active_set_id()
    whole = {k: json.loads(v) for k, v in store.prediction_segmentations(set_id).items()}
    ranges = [store.prediction_segmentations(set_id, (lo, lo + 7)) for lo in range(0, 40, 7)]
    images = [p for image_id in range(1, 31) for p in store.predictions_for_image(set_id, image_id)]
    return {
        "whole": whole,
        "ranges": [{k: json.loads(v) for k, v in r.items()} for r in ranges],
        "images": images,
        "one": [store.prediction(set_id, pid) for pid in (1, 4, 6, 8, 240)],
    }


def test_rles_read_back_as_from_rows(tmp_path: Path, monkeypatch, backend: str) -> None:
    gt, pred = _files(tmp_path)
    at = {name: location(backend, tmp_path, name) for name in ("columns", "rows")}
    columns, rows = parse_location(at["columns"]), parse_location(at["rows"])
    try:
        import_project(columns, gt, None, pred)
        with monkeypatch.context() as m:
            _as_rows(m)
            import_project(rows, gt, None, pred)
        with Store.open(columns) as a, Store.open(rows) as b:
            assert a.prediction_rles(a.active_set_id()) is not None
            assert b.prediction_rles(b.active_set_id()) is None
            kept = len(a.prediction_rles(a.active_set_id())["id"])
            shapes = "SELECT COUNT(*) FROM prediction_shapes"
            assert a._db.scalar(shapes) == b._db.scalar(shapes) - kept
            assert kept > 150
            assert _read(a) == _read(b)
            polygons = [v for v in _read(a)["whole"].values() if type(v) is list]
            assert polygons and len(_read(a)["whole"]) == 240
    finally:
        drop(at["columns"])
        drop(at["rows"])


def test_counts_in_many_blobs_read_back_as_from_rows(tmp_path: Path, monkeypatch) -> None:
    """The counts strings written as several ``.npy`` blobs (each made from the check's
    pieces in one copy) read back as the rows would, and each blob is what ``np.save`` of its
    strings joined would write."""
    gt, pred = _files(tmp_path, extra=False)
    with monkeypatch.context() as m:
        _as_rows(m)
        import_project(tmp_path / "rows.labelfix", gt, None, pred)
    monkeypatch.setattr(coco_masks, "_RLE_CHUNK_CHARS", 500)  # the check's pieces
    monkeypatch.setattr(prediction_store, "COUNTS_PIECE", 2000)  # a few of them a blob
    import_project(tmp_path / "columns.labelfix", gt, None, pred)
    with (
        Store.open(tmp_path / "columns.labelfix") as a,
        Store.open(tmp_path / "rows.labelfix") as b,
    ):
        owner = prediction_store.masks_owner(a.active_set_id())
        blobs = a._db.rows("SELECT name, data FROM arrays WHERE owner = ?", [owner])
        pieces = [bytes(data) for name, data in blobs if name.startswith("counts:")]
        assert len(pieces) > 5
        for data in pieces:
            saved = io.BytesIO()
            np.save(saved, prediction_store.npy_array(data))
            assert data == saved.getvalue()
        assert _read(a) == _read(b)


@pytest.mark.parametrize("shuffle", [False, True])
def test_the_strings_as_the_check_read_them(tmp_path: Path, monkeypatch, shuffle: bool) -> None:
    """A file of plain RLEs, in image order or not: the columns come from the strings the RLE
    check encoded (no pass over the records; out of order, put in the set's order). Either
    reads back as the rows would."""
    gt, pred = _files(tmp_path, extra=False, shuffle=shuffle)
    with monkeypatch.context() as m:
        _as_rows(m)
        import_project(tmp_path / "rows.labelfix", gt, None, pred)
    used = []
    by_records = prediction_store.rle_columns
    monkeypatch.setattr(
        prediction_store, "rle_columns", lambda *a: used.append(1) or by_records(*a)
    )
    import_project(tmp_path / "columns.labelfix", gt, None, pred)
    assert used == []
    with (
        Store.open(tmp_path / "columns.labelfix") as a,
        Store.open(tmp_path / "rows.labelfix") as b,
    ):
        assert a.prediction_rles(a.active_set_id()) is not None
        assert _read(a) == _read(b)


def test_a_mask_analysis_finds_the_same_from_columns_and_rows(tmp_path: Path, monkeypatch) -> None:
    gt, pred = _files(tmp_path)
    results = []
    for name, rows in (("columns", False), ("rows", True)):
        with monkeypatch.context() as m:
            if rows:
                _as_rows(m)
            import_project(tmp_path / f"{name}.labelfix", gt, None, pred)
        with Store.open(tmp_path / f"{name}.labelfix") as store:
            summary = analyze(store, params=AnalysisParams(geometry="masks"))
            suspects = sql(
                store,
                "SELECT key, kind, score, image_id, annotation_id, prediction_id, iou "
                "FROM suspects WHERE analysis_id = ? ORDER BY id",
                [summary.analysis_id],
            ).fetchall()
            matches = store.match_arrays(summary.analysis_id)
            results.append((suspects, {k: v.tobytes() for k, v in matches.items()}))
    assert len(results[0][0]) > 20
    assert results[0] == results[1]


def test_push_and_pull_keep_the_rles(tmp_path: Path) -> None:
    pg_url()  # skips without a test server (fails with LABELFIX_TEST_PG_REQUIRED)
    gt, pred = _files(tmp_path)
    project = tmp_path / "p.labelfix"
    import_project(project, gt, None, pred)
    url = team_url()
    try:
        push_project(project, url)
        pulled = tmp_path / "pulled.labelfix"
        pull_project(url, pulled)
        with Store.open(project) as a, Store.open(url) as b, Store.open(pulled) as c:
            assert b.prediction_rles(b.active_set_id()) is not None
            assert _read(a) == _read(b) == _read(c)
    finally:
        drop(url)


def test_a_project_from_before_keeps_its_rows(tmp_path: Path, monkeypatch) -> None:
    """A version 5 project (its RLEs in rows) migrates to 6 and reads its rows as before."""
    gt, pred = _files(tmp_path)
    with monkeypatch.context() as m:
        _as_rows(m)
        import_project(tmp_path / "old.labelfix", gt, None, pred)
    import_project(tmp_path / "new.labelfix", gt, None, pred)
    conn = sqlite3.connect(tmp_path / "old.labelfix")
    conn.execute("DELETE FROM _migrations WHERE version = 6")
    conn.commit()
    conn.close()
    with Store.open(tmp_path / "old.labelfix") as old, Store.open(tmp_path / "new.labelfix") as new:
        assert old.schema_version() == migrations.latest_version() >= 6
        assert _read(old) == _read(new)


def test_a_set_read_in_chunks_keeps_rows(tmp_path: Path, monkeypatch) -> None:
    gt, pred = _files(tmp_path)
    import_project(tmp_path / "whole.labelfix", gt, None, pred)
    monkeypatch.setattr(coco_stream, "STREAM_BYTES", 0)
    import_project(tmp_path / "chunks.labelfix", gt, None, pred)
    with (
        Store.open(tmp_path / "whole.labelfix") as a,
        Store.open(tmp_path / "chunks.labelfix") as b,
    ):
        assert b.prediction_rles(b.active_set_id()) is None
        assert _read(a) == _read(b)


def test_rle_texts_are_what_the_rows_hold() -> None:
    records = [
        {"segmentation": {"size": [3, 4], "counts": "a\\b"}},
        {"segmentation": {"counts": "", "size": [0, 5]}},
        {"segmentation": [[1, 2, 3, 4, 5, 6]]},
        {"segmentation": {"size": [2, 2], "counts": "04"}},
        {"segmentation": {"size": [2, 2], "counts": "04", "note": 1}},
    ]
    indices = np.arange(5)
    order = np.array([3, 0, 1, 2, 4])
    image_id = np.ones(5, np.int64)
    columns, rest = prediction_store.rle_columns(records, indices, order, image_id)
    assert rest.tolist() == [2, 4]
    assert columns["id"].tolist() == [4, 1, 2]
    texts = prediction_store.rle_texts(columns)
    assert [json.loads(t) for t in texts] == [
        {"size": [2, 2], "counts": "04"},
        {"size": [3, 4], "counts": "a\\b"},
        {"size": [0, 5], "counts": ""},
    ]
    assert texts[1] == json.dumps(records[0]["segmentation"], separators=(",", ":"))
    assert prediction_store.rle_texts(columns, 1, 2) == [texts[1]]
    assert prediction_store.rle_texts(columns, 2, 2) == []


def test_mask_inputs_give_the_counts_the_texts_hold(tmp_path: Path) -> None:
    """What a mask analysis reads (prediction_mask_inputs: rows as JSON text, RLE columns as
    counts bytes, no JSON made and parsed again) is the segmentations every other reader
    gets, for the whole set and for ranges of images."""
    gt, pred = _files(tmp_path)
    import_project(tmp_path / "p.labelfix", gt, None, pred, "model")
    with Store.open(tmp_path / "p.labelfix") as store:
        set_id = store.active_set_id()
        for image_range in [None, *((lo, lo + 7) for lo in range(0, 40, 7))]:
            want = store.prediction_segmentations(set_id, image_range)
            texts, counts = store.prediction_mask_inputs(set_id, image_range)
            assert counts and texts or image_range is not None
            assert not set(texts) & set(counts)
            assert set(texts) | set(counts) == set(want)
            assert texts == {k: want[k] for k in texts}
            for pid, raw in counts.items():
                seg = json.loads(want[pid])
                assert type(raw) is bytes and raw == seg["counts"].encode("ascii")
        assert any(b"\\" in raw for raw in store.prediction_mask_inputs(set_id)[1].values())
