"""A detector with another score scale gets the same suspects, scores and ranking (real data).

CenterNet's scores on coco_real81, passed through a different increasing function per class,
are another detector with the same opinions; scoring fitted from the data (calibration on rank
positions) must not see the difference. With raw confidences (``calibrate=False``) it does:
the same check fails there, which is what makes this test mean something.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from labelfix.core.analyze import analyze
from labelfix.core.coco import read_ground_truth, read_predictions
from labelfix.core.errors import AnalysisParams
from labelfix.core.store import Store

from helpers import shared_path, sql, write_json


def perturb(records: list[dict], seed: int = 7) -> list[dict]:
    """``score -> a_c * score ** g_c`` per class: increasing, a different scale per class."""
    rng = np.random.default_rng(seed)
    cats = sorted({r["category_id"] for r in records})
    a = dict(zip(cats, rng.uniform(0.2, 1.0, len(cats)).tolist(), strict=True))
    g = dict(zip(cats, np.exp(rng.uniform(-1.4, 1.4, len(cats))).tolist(), strict=True))
    return [
        {**r, "score": a[r["category_id"]] * r["score"] ** g[r["category_id"]]} for r in records
    ]


def _suspects(tmp: Path, name: str, records: list[dict], params: AnalysisParams) -> list[tuple]:
    """(key, score) of every suspect, best first (ties by key), after a full analysis."""
    root = shared_path("coco_real81")
    gt = read_ground_truth(root / "annotations" / "instances_real81.json")
    store = Store.create(tmp / f"{name}.labelfix")
    try:
        store.import_ground_truth(gt, None)
        preds = read_predictions(
            write_json(tmp / f"{name}.json", records),
            store.image_sizes(),
            set(store.category_names()),
        )
        set_id = store.add_predictions(preds, name)
        summary = analyze(store, set_id, params)
        rows = sql(
            store, "SELECT key, score FROM suspects WHERE analysis_id = ?", [summary.analysis_id]
        ).fetchall()
    finally:
        store.close()
    return sorted(rows, key=lambda r: (-r[1], r[0]))


@pytest.fixture(scope="module")
def records() -> list[dict]:
    path = shared_path("coco_real81", "predictions", "centernet_bbox_results.json")
    return json.loads(path.read_text())


def test_rescaled_scores_give_the_same_suspects(tmp_path: Path, records: list[dict]) -> None:
    params = AnalysisParams()
    original = _suspects(tmp_path, "original", records, params)
    rescaled = _suspects(tmp_path, "rescaled", perturb(records), params)
    assert len(original) > 500
    assert [k for k, _ in rescaled] == [k for k, _ in original]  # the same ranking
    assert np.allclose([s for _, s in rescaled], [s for _, s in original], rtol=0, atol=1e-12)


def test_raw_confidences_do_see_the_rescaling(tmp_path: Path, records: list[dict]) -> None:
    params = AnalysisParams(calibrate=False)
    original = _suspects(tmp_path, "original", records, params)
    rescaled = _suspects(tmp_path, "rescaled", perturb(records), params)
    assert [k for k, _ in rescaled] != [k for k, _ in original]


def test_reanalysis_reuses_the_stored_fit(tmp_path: Path, records: list[dict]) -> None:
    """Re-analysing images (nothing edited) gives back their suspects and scores exactly: the
    calibration and habits come from the stored fit, not from the few images re-analysed."""
    from labelfix.core import analyze as az

    root = shared_path("coco_real81")
    gt = read_ground_truth(root / "annotations" / "instances_real81.json")
    store = Store.create(tmp_path / "p.labelfix")
    try:
        store.import_ground_truth(gt, None)
        preds = read_predictions(
            write_json(tmp_path / "p.json", records),
            store.image_sizes(),
            set(store.category_names()),
        )
        store.add_predictions(preds, "centernet")
        summary = analyze(store)
        images = store.image_ids()[:5]
        query = (
            "SELECT key, score FROM suspects WHERE analysis_id = ? AND image_id IN (?,?,?,?,?) "
            "ORDER BY key"
        )
        before = sql(store, query, [summary.analysis_id, *images]).fetchall()
        az.reanalyze_images(store, images)
        after = sql(store, query, [summary.analysis_id, *images]).fetchall()
    finally:
        store.close()
    assert len(before) > 10 and after == before
