"""A project file built by an import has 64 KiB SQLite pages (its blobs are written in half the
time); a file made otherwise keeps SQLite's 4 KiB, and both read and edit alike."""

from __future__ import annotations

from pathlib import Path

import pytest

from labelfix.core import coco_stream
from labelfix.core.edits import SetCategory
from labelfix.core.project import import_project
from labelfix.core.store import Store
from labelfix.core.store.project import BUILT_PAGE_SIZE

from helpers import sql, write_json


def _gt() -> dict:
    return {
        "images": [{"id": 1, "file_name": "a.jpg", "height": 40, "width": 60}],
        "categories": [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 2, 10, 10], "area": 100}
        ],
    }


def _import(out: Path) -> None:
    """Import one image's labels and a prediction into ``out``."""
    gt = write_json(out.with_name("gt.json"), _gt())
    preds = write_json(
        out.with_name("p.json"),
        [{"image_id": 1, "category_id": 2, "bbox": [1, 2, 10, 10], "score": 0.9}],
    )
    import_project(out, gt, None, preds, "m")


def test_imported_project_has_large_pages_and_edits(tmp_path: Path) -> None:
    _import(tmp_path / "x.labelfix")
    with Store.open(tmp_path / "x.labelfix") as store:
        assert sql(store, "PRAGMA page_size").fetchone()[0] == BUILT_PAGE_SIZE == 65_536
        SetCategory(1, 2).apply(store)
    with Store.open(tmp_path / "x.labelfix") as store:
        assert store.annotation(1)["category_id"] == 2
        assert len(store.prediction_arrays(store.active_set_id())["id"]) == 1


def test_project_made_otherwise_keeps_small_pages(tmp_path: Path) -> None:
    with Store.create(tmp_path / "y.labelfix") as store:
        assert sql(store, "PRAGMA page_size").fetchone()[0] == 4096


def test_import_built_chunk_by_chunk_keeps_small_pages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Large pages made a chunked import's peak memory grow with the dataset (10M labels:
    1.9 -> 3.1 GB): an import too large to hold whole keeps SQLite's 4 KiB."""
    monkeypatch.setattr(coco_stream, "STREAM_BYTES", 0)  # every file is imported in chunks
    _import(tmp_path / "x.labelfix")
    with Store.open(tmp_path / "x.labelfix") as store:
        assert sql(store, "PRAGMA page_size").fetchone()[0] == 4096
        assert len(store.prediction_arrays(store.active_set_id())["id"]) == 1
