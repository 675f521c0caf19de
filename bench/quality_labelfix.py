"""LabelFix in the quality benchmark: a project imported from a dataset and prediction sets,
analysed like the CLI does; its suspects as ranked candidates, its default cut's numbers, its
earlier scorings (:data:`EARLIER`) and its top suspects on clean labels."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from quality_baselines import Candidate
from quality_data import IMAGES
from quality_inject import KIND_ORDER, Injected
from quality_metrics import _all_hits

from labelfix.core import project
from labelfix.core.analyze import analyze
from labelfix.core.coco import read_ground_truth, read_predictions
from labelfix.core.errors import AnalysisParams
from labelfix.core.store import Store
from labelfix.core.suspects import SuspectIndex


def run_labelfix(
    data: dict,
    pred_records: list[dict] | dict[str, list[dict]],
    params: AnalysisParams,
    workdir: Path,
    images: Path | None = IMAGES,
) -> list[dict]:
    """Import the dataset and predictions into a project (its image folder ``images``: score
    version 8 reads them), analyse it, return its suspects. Several prediction sets (name ->
    records) are analysed together by the project service, as ``labelfix analyze
    --predictions A,B`` does; each suspect then names its best set's prediction."""
    sets = pred_records if isinstance(pred_records, dict) else {"detector": pred_records}
    gt_path = workdir / "gt.json"
    gt_path.write_text(json.dumps(data))
    project_path = workdir / "bench.labelfix"
    gt = read_ground_truth(gt_path, None)
    sizes = {im["id"]: (im["height"], im["width"]) for im in gt.images}
    store = Store.create(project_path, overwrite=True)
    try:
        store.import_ground_truth(gt, None)
        if images is not None and images.is_dir():
            store.set_images_root(images)
        records_of = {}
        for name, records in sets.items():
            pred_path = workdir / "predictions.json"
            pred_path.write_text(json.dumps(records))
            preds = read_predictions(pred_path, sizes, {c["id"] for c in gt.categories})
            records_of[store.add_predictions(preds, name)] = records
        set_ids = sorted(records_of)
        if len(set_ids) == 1:
            analyze(store, set_ids[0], params)
            index = SuspectIndex.load(store, set_ids[0])
        else:
            project.analyze_project(store, params, set_ids=set_ids)
            index = SuspectIndex.load(store)
        cols = (
            "kind",
            "score",
            "image_id",
            "annotation_id",
            "other_annotation_id",
            "prediction_id",
            "category_id",
            "predicted_category_id",
            "iou",
            "confidence",
            "probability",
            "set_id",
        )
        rows = [index.row(p) for p in range(len(index))]  # in suspect-id order
        cut = index.review_cut
        names = {int(s["id"]): s["name"] for s in store.prediction_sets()}
    finally:
        store.close()
    out = []
    for r in rows:
        s = {c: r[c] for c in cols}
        s["head"] = r["group_rank"] == 0  # heads its group: a row of the default view
        s["review_cut"] = cut  # the analysis's default cut
        s["sets"] = [names[x["set_id"]] for x in r["supported_by"] or []] or [names[r["set_id"]]]
        pid = s["prediction_id"]
        # ids are file order + 1 in each set
        s["prediction"] = None if pid is None else records_of[s["set_id"]][pid - 1]
        s["box"] = None if pid is None else tuple(s["prediction"]["bbox"])
        out.append(s)
    return out


def labelfix_by_kind(suspects: list[dict]) -> dict[str, list[Candidate]]:
    """All LabelFix suspects as candidates, per kind (spurious_label too)."""
    return {k: labelfix_candidates(suspects, k) for k in sorted({s["kind"] for s in suspects})}


def labelfix_candidates(suspects: list[dict], kind: str) -> list[Candidate]:
    """LabelFix suspects of one kind as ranked candidates."""
    return [
        Candidate(
            s["score"],
            s["image_id"],
            tuple(a for a in (s["annotation_id"], s["other_annotation_id"]) if a is not None),
            s["box"],
        )
        for s in suspects
        if s["kind"] == kind
    ]


V2_NAME = "LabelFix (calibrated, v2 scores)"
V1_NAME = "LabelFix (calibrated, v1 scores)"
RAW_NAME = "LabelFix (raw confidence, v1 scores)"
# the earlier LabelFix scorings, beside the current one: (method, summary suffix, params change)
# (with one min_score cut for every kind, as they had: on_label_score_ratio 1)
EARLIER = (
    (V2_NAME, "calibrated, v2 scores", {"score_version": 2, "on_label_score_ratio": 1.0}),
    (V1_NAME, "calibrated, v1 scores", {"score_version": 1, "on_label_score_ratio": 1.0}),
    (
        RAW_NAME,
        "raw confidence, v1 scores",
        {"calibrate": False, "score_version": 1, "on_label_score_ratio": 1.0},
    ),
)


CUT = "default cut"
CUT_METRICS = ("cut", "listed", "P@cut", "found@cut", "expected@cut")


def cut_stats(suspects: list[dict], truth: Injected) -> tuple[float, ...]:
    """The analysis's default cut (core.review_cut), the groups it lists (their heads scored
    >= it), the precision and recall of the suspects scored >= it in the all-kinds ranking,
    and the errors its heads' scores expect there over the injected ones (1: the scores'
    sum is as many errors as there are)."""
    if not suspects:
        return (float("nan"), 0.0, float("nan"), 0.0, float("nan"))
    cut = suspects[0]["review_cut"]
    above = [s for s in suspects if s["score"] >= cut]
    n = sum(truth.count(k) for k in KIND_ORDER)
    heads = [s for s in above if s["head"]]
    if not above:
        return (cut, 0.0, float("nan"), 0.0, 0.0)
    hits = _all_hits(labelfix_by_kind(above), truth)
    expected = sum(s["score"] for s in heads)
    return (cut, float(len(heads)), float(hits.mean()), float(hits.sum()) / n, expected / n)


def top_clean_suspects(
    data: dict,
    pred_records: list[dict] | dict[str, list[dict]],
    params: AnalysisParams,
    n: int = 20,
) -> tuple[str, list[dict]]:
    """The n highest-scored suspects on the clean data (real label-error candidates): a table
    and the suspects."""
    with tempfile.TemporaryDirectory() as tmp:
        suspects = run_labelfix(data, pred_records, params, Path(tmp))
    files = {im["id"]: im["file_name"] for im in data["images"]}
    names = {c["id"]: c["name"] for c in data["categories"]}
    lines = [
        "| # | kind | file | label id | label class | predicted class | IoU | conf | prob | score "
        "| sets |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    top = sorted(suspects, key=lambda s: -s["score"])[:n]
    for r, s in enumerate(top, start=1):
        ann = (
            s["annotation_id"]
            if s["other_annotation_id"] is None
            else f"{s['annotation_id']}/{s['other_annotation_id']}"
        )
        conf = "" if s["confidence"] is None else f"{s['confidence']:.2f}"
        prob = "" if s.get("probability") is None else f"{s['probability']:.2f}"
        iou = "" if s["iou"] is None else f"{s['iou']:.2f}"
        lines.append(
            f"| {r} | {s['kind']} | {files[s['image_id']]} | {ann or ''} | {names.get(s['category_id'], '')} | "
            f"{names.get(s['predicted_category_id'], '')} | {iou} | {conf} | {prob} | {s['score']:.3f} "
            f"| {', '.join(s['sets'])} |"
        )
    return "\n".join(lines), top
