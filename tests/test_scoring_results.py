"""What an analysis stores since issue 14, on the real data (CenterNet on 81 COCO images): a
one-set analysis writes exactly the rows its computation found, with their calibrated
probability and group; `labelfix suspects --format json` keeps one line per suspect with the
old fields first; `labelfix report`'s AP per class equals pycocotools'; the fits and report are
on the analysis's row (a project from before migrates its meta keys there)."""

from __future__ import annotations

import contextlib
import io
import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from labelfix.core import analyze as az
from labelfix.core import grouping, project
from labelfix.core.cli import run
from labelfix.core.errors import KINDS, SUSPECT_COL, AnalysisParams
from labelfix.core.store import Store, migrations
from labelfix.core.suspects import CLI_FIELDS, SuspectFilter, SuspectIndex

from helpers import shared_path, sql, suspects_to_rows

COLUMNS = (
    "kind, score, image_id, annotation_id, other_annotation_id, prediction_id, category_id, "
    "predicted_category_id, iou, confidence, probability, group_id, group_rank"
)


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = shared_path("coco_real81")
    out = tmp_path_factory.mktemp("real") / "real.labelfix"
    project.import_project(
        out,
        root / "annotations" / "instances_real81.json",
        root / "images",
        root / "predictions" / "centernet_bbox_results.json",
        "centernet",
    )
    project.analyze_project(out)
    return out


@pytest.fixture
def store(real: Path, tmp_path: Path) -> Store:
    copy = tmp_path / "copy.labelfix"
    copy.write_bytes(real.read_bytes())
    s = Store.open(copy)
    yield s
    s.close()


def stored_rows(store: Store) -> list[tuple]:
    analysis = store.current_analysis()
    return sql(
        store,
        f"SELECT {COLUMNS} FROM suspects WHERE analysis_id = ? ORDER BY id",
        [analysis["id"]],
    ).fetchall()


def test_a_one_set_analysis_stores_the_rows_its_computation_found(store: Store) -> None:
    """Before (the computation's scored rows, as the store wrote them until now) and after
    (the stored rows): row for row the same, with the groups core.grouping gives them."""
    inputs = az.read_inputs(store, store.resolve_set(None), AnalysisParams())
    result = az.compute(inputs)
    az._image_evidence(store, inputs, result)  # score version 8: by the image's edges
    scored = result.suspects
    rows = stored_rows(store)
    assert len(rows) == len(scored) > 500
    col = SUSPECT_COL

    def opt(v: float) -> float | None:
        return None if np.isnan(v) or v < 0 else v

    groups = grouping.group_suspects(
        scored[:, col["kind"]],
        scored[:, col["annotation_id"]],
        scored[:, col["other_annotation_id"]],
        scored[:, col["prediction_id"]],
        scored[:, -1],
    )
    for k, (got, want) in enumerate(zip(rows, scored, strict=True)):
        assert got[0] == KINDS[int(want[col["kind"]])]
        assert got[1] == want[-1]  # the score, exactly
        ids = ("image_id", "annotation_id", "other_annotation_id", "prediction_id")
        ids += ("category_id", "predicted_category_id")
        assert got[2:8] == tuple(opt(want[col[c]]) for c in ids)
        for at, name in ((8, "iou"), (9, "confidence"), (10, "probability")):
            assert got[at] == opt(want[col[name]]) or (
                got[at] is None and np.isnan(want[col[name]])
            )
        assert got[11:] == (groups.group[k], groups.rank[k])


def test_json_keeps_one_line_per_suspect_with_the_old_fields(store: Store) -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = run(["suspects", str(store.path), "--format", "json", "--min-confidence", "0"])
    assert code == 0
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    rows = stored_rows(store)
    assert len(records) == len(rows)  # one line per alternative, none folded into its group
    by_identity = {(r[0], r[2], r[3], r[5]): r for r in rows}  # kind, image, label, prediction
    names = store.file_names()
    for rec in records:
        assert list(rec)[: len(CLI_FIELDS)] == list(CLI_FIELDS)
        row = by_identity[
            (rec["kind"], rec["image_id"], rec["annotation_id"], rec["prediction_id"])
        ]
        assert rec["score"] == row[1] and rec["file_name"] == names[rec["image_id"]]
        assert (rec["category_id"], rec["predicted_category_id"]) == row[6:8]
        assert (rec["iou"], rec["confidence"], rec["probability"]) == row[8:11]
        assert (rec["group"], rec["group_rank"]) == row[11:13]
        assert [s["set"] for s in rec["supported_by"]] == ["centernet"]
    scores = [r["score"] for r in records]
    assert scores == sorted(scores, reverse=True)


def test_report_ap_per_class_equals_pycocotools(store: Store) -> None:
    root = shared_path("coco_real81")
    with contextlib.redirect_stderr(io.StringIO()):
        gt = COCO(str(root / "annotations" / "instances_real81.json"))
        dt = gt.loadRes(str(root / "predictions" / "centernet_bbox_results.json"))
        ev = COCOeval(gt, dt, "bbox")
        ev.params.iouThrs = np.array([0.5])
        ev.evaluate()
        ev.accumulate()
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert run(["report", str(store.path), "--format", "json"]) == 0
    (part,) = json.loads(out.getvalue())["sets"]
    ours = {c["category_id"]: c for c in part["classes"]}
    checked = 0
    for k, cat in enumerate(ev.params.catIds):
        precision = ev.eval["precision"][0, :, k, 0, -1]  # IoU 0.5, all areas, 100 detections
        if (precision == -1).all():
            assert cat not in ours  # no labels of the class
            continue
        assert ours[cat]["ap"] == pytest.approx(float(np.mean(precision)), abs=1e-6), cat
        checked += 1
    assert checked == len(ours) > 50
    assert part["ap"] == pytest.approx(
        ev.eval["precision"][0, :, :, 0, -1][
            :, (ev.eval["precision"][0, :, :, 0, -1] > -1).any(axis=0)
        ].mean(),
        abs=1e-6,
    )
    # precision / recall at the cut: counts of the predictions whose probability reaches it
    fit = store.detector_fit(store.current_analysis()["id"])
    assert fit is not None
    for c in ours.values():
        assert c["recall"] == pytest.approx(c["tp_at_cut"] / c["labels"], abs=1e-6)
        if c["tp_at_cut"] + c["fp_at_cut"]:
            assert c["precision"] == pytest.approx(
                c["tp_at_cut"] / (c["tp_at_cut"] + c["fp_at_cut"]), abs=1e-6
            )


def test_report_lists_the_detectors_confusions(store: Store) -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert run(["report", str(store.path), "--format", "json"]) == 0
    (part,) = json.loads(out.getvalue())["sets"]
    confusions = part["confusions"]
    assert confusions and all(c["label_class"] != c["predicted_class"] for c in confusions)
    assert [c["count"] for c in confusions] == sorted(
        (c["count"] for c in confusions), reverse=True
    )
    assert all(0 <= c["habit"] <= 1 and 0 < c["share"] <= 1 for c in confusions)
    table = io.StringIO()
    with contextlib.redirect_stdout(table):
        assert run(["report", str(store.path)]) == 0
    text = table.getvalue()
    assert "prediction set centernet: AP@0.5" in text and "confusions" in text
    assert f"{confusions[0]['label_class'][:17]:<18}" in text


def test_the_report_and_fits_are_on_the_analysis_row(store: Store) -> None:
    analysis = store.current_analysis()
    report = store.analysis_report(analysis["id"])
    assert set(report) == {"review_cut", "sets"}
    (set_id,) = analysis["set_ids"]
    part = report["sets"][str(set_id)]
    assert {"classes", "confusion", "reliability", "cut", "iou"} <= set(part)
    curves = store.detector_fit(analysis["id"])["calibration"]["classes"]
    assert set(part["reliability"]) <= set(curves)  # a plot per class: curve and observed bins
    for bins in part["reliability"].values():
        assert sum(b[3] for b in bins) > 0 and all(0 <= b[1] <= 1 for b in bins)
    assert not sql(store, "SELECT key FROM meta WHERE key LIKE 'detector_fit:%'").fetchall()


def test_a_project_analysed_before_migrates_its_fit_and_lists_singleton_groups(
    store: Store,
) -> None:
    """Schema 2: the fit in meta ``detector_fit:<id>``, suspects without probability or group."""
    analysis = store.current_analysis()
    fit = store.detector_fit(analysis["id"])
    path = store.path
    suspects_to_rows(store)  # an older LabelFix's suspects are rows
    store.close()
    conn = sqlite3.connect(path)
    conn.execute("ALTER TABLE analyses DROP COLUMN suspect_ids_end")
    conn.execute("DELETE FROM _migrations WHERE version = 7")
    conn.execute("DROP TABLE suspect_support")
    conn.execute("DROP INDEX IF EXISTS suspect_support_key")
    for column in ("probability", "group_id", "group_rank", "set_id"):
        conn.execute(f"ALTER TABLE suspects DROP COLUMN {column}")
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?)",
        [f"detector_fit:{analysis['id']}", json.dumps(fit)],
    )
    for column in ("set_ids", "fits", "report"):
        conn.execute(f"ALTER TABLE analyses DROP COLUMN {column}")
    conn.execute("ALTER TABLE match_updates RENAME TO old_updates")
    conn.execute(
        "CREATE TABLE match_updates (analysis_id INTEGER NOT NULL, prediction_id INTEGER NOT "
        "NULL, image_id INTEGER NOT NULL, outcome INTEGER NOT NULL, annotation_id INTEGER, "
        "iou REAL, PRIMARY KEY (analysis_id, prediction_id)) WITHOUT ROWID"
    )
    conn.execute("DROP TABLE old_updates")
    conn.execute("DELETE FROM arrays WHERE owner LIKE 'suspect_index:%'")
    conn.execute("DELETE FROM _migrations WHERE version = 5")
    conn.commit()
    conn.close()
    with Store.open(path) as migrated:
        assert migrated.schema_version() == migrations.latest_version()
        again = migrated.current_analysis()
        assert again["set_ids"] == analysis["set_ids"]
        assert migrated.detector_fit(again["id"]) == fit
        assert not sql(migrated, "SELECT 1 FROM meta WHERE key LIKE 'detector_fit:%'").fetchall()
        index = SuspectIndex.load(migrated)
        assert len(np.unique(index.group)) == len(index)  # every suspect its own object
        assert (index.group_rank == 0).all() and np.isnan(index.probability).all()
        assert migrated.analysis_report(again["id"]) is None
        row = index.row(0)
        assert row["probability"] is None and row["supported_by"][0]["set"] == "centernet"
        # a re-analysis of some images uses the migrated fit and groups their rows anew
        image = int(index.image_id[0])
        az.reanalyze_images(migrated, [image])
        index.reload_images(migrated, [image])
        mine = index.image_id == image
        assert (index.group[mine] >= 0).all()
        assert len(index.query(SuspectFilter(per_object=True))) <= len(index)
