"""The suspects table as an analysis writes it: SQLite's rows computed in SQL from bound values
(the key, the kind's name, NULL for missing ids and NaN numbers) equal the rows of
``suspect_columns``, which the other backend inserts as they are."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from labelfix.core.coco import read_ground_truth, read_predictions
from labelfix.core.errors import KINDS, AnalysisParams
from labelfix.core.result_rows import RCOL, RESULT_COLUMNS, Rows
from labelfix.core.store import Store, analyses
from labelfix.core.store.analyses import SUSPECT_FIELDS, suspect_columns

from helpers import sql, tiny_dataset, tiny_predictions, write_json


@pytest.fixture
def store(tmp_path: Path) -> Store:
    gt = read_ground_truth(write_json(tmp_path / "gt.json", tiny_dataset()))
    s = Store.create(tmp_path / "p.labelfix")
    s.import_ground_truth(gt, None)
    for name in ("a", "b"):
        pf = read_predictions(
            write_json(tmp_path / f"{name}.json", tiny_predictions()),
            s.image_sizes(),
            set(s.category_names()),
        )
        s.add_predictions(pf, name, activate=name == "a")
    yield s
    s.close()


def awkward_rows(n: int = 400, seed: int = 5) -> np.ndarray:
    """Suspect rows of every kind with missing ids (NaN or -1), NaN numbers, large ids and
    values that print long."""
    rng = np.random.default_rng(seed)
    rows = np.zeros((n, len(RESULT_COLUMNS)))
    rows[:, RCOL["kind"]] = rng.integers(0, len(KINDS), n)
    for name in ("image_id", "annotation_id", "other_annotation_id", "prediction_id"):
        rows[:, RCOL[name]] = rng.integers(0, 2**40, n)
    for name in ("category_id", "predicted_category_id", "set_id"):
        rows[:, RCOL[name]] = rng.integers(0, 100, n)
    for name in ("annotation_id", "other_annotation_id", "prediction_id", "category_id",
                 "predicted_category_id", "set_id"):  # fmt: skip
        col = rows[:, RCOL[name]]
        col[rng.random(n) < 0.3] = np.nan
        col[rng.random(n) < 0.1] = -1
    for name in ("iou", "confidence", "probability", "score"):
        col = rows[:, RCOL[name]]
        col[:] = rng.random(n) / 3
        if name != "score":  # never missing
            col[rng.random(n) < 0.3] = np.nan
    rows[:, RCOL["group"]] = np.arange(n) // 3
    rows[:, RCOL["group_rank"]] = np.arange(n) % 3
    return rows


@pytest.mark.parametrize("slice_rows", [16_384, 64])
@pytest.mark.parametrize("set_ids", [[1], [1, 2]])
def test_stored_rows_equal_suspect_columns(
    store: Store, set_ids: list[int], slice_rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Written at once or in slices of 64 rows (ids go on across the slices)."""
    monkeypatch.setattr(analyses, "_ROWS_PER_INSERT", slice_rows)
    data = awkward_rows()
    with store.analysis_writer(set_ids, AnalysisParams()) as writer:
        writer.add_rows(Rows(data[:150]))
        writer.add_rows(Rows(data[150:]))
        aid = writer.analysis_id
    stored = sql(
        store,
        f"SELECT {', '.join(SUSPECT_FIELDS)} FROM suspects WHERE analysis_id = ? ORDER BY id",
        [aid],
    ).fetchall()
    first = stored[0][0]
    with np.errstate(invalid="ignore"):  # suspect_columns casts its NaN ids before masking
        columns = suspect_columns(aid, data, first, len(set_ids) > 1)
    want = list(zip(*columns, strict=True))
    assert len(stored) == len(want) == len(data)
    assert stored == want
