"""Offline merging of several prediction sets' suspects (the quality benchmark's multi-set
setups): analyse each real detector on each injected seed once, keep its scored suspects, the
boxes of their predictions and its matches; then merge any combination of sets with
``core.result_rows.several_sets`` (what ``labelfix analyze --predictions A,B`` writes) in a
second, and score the ranking with the benchmark's metrics.

A multi-set analysis analyses each set on its own (core.analyze._compute_set, the same rows as
the set's own analysis) and merges them: so the merge of the dumped rows is the analysis's.
``python bench/quality_multiset.py dump`` writes ``bench/out/multiset.pkl`` (about 10 minutes
for the four detectors and seeds 0-9); ``python bench/quality_multiset.py eval --seeds 5-9
[--score-version 10]`` prints each set's and the multi-set setups' numbers, merged by
core.consensus's formulas of that version: the same numbers as ``bench_quality.py --setups
A+B`` (checked for the four multi-set setups, seeds 5-9, versions 10, 12 and 13; version 13
weighs each set by its recall, which dumps made before it get from their matches).
``--weight gini|bss|lls`` multiplies each set's recall by how well its calibrated probabilities
separate its true positives from its false positives (:func:`separation`, bench/quality_log.md,
separation session; measured, not landed).
"""

from __future__ import annotations

import argparse
import pickle
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from labelfix.core import analyze as az
from labelfix.core import result_rows, scoring
from labelfix.core.errors import KINDS, AnalysisParams
from labelfix.core.matching import FP, TP

sys.path.insert(0, str(Path(__file__).resolve().parent))
from quality_baselines import Candidate  # noqa: E402
from quality_data import IMAGES, MULTI_SETUPS, labelled_store, setup_named  # noqa: E402
from quality_inject import KIND_ORDER, inject  # noqa: E402
from quality_metrics import evaluate, evaluate_all  # noqa: E402

OUT = Path(__file__).resolve().parent / "out" / "multiset.pkl"
DETECTORS = ("centernet", "nanodet", "yolov8s", "ssdlite")
COLUMNS = ("missing", "wrong_class", "inaccurate", "duplicate", "P@50", "P@100", "AP all")
R = result_rows.RCOL


def _one(data: dict, records: list[dict], params: AnalysisParams, workdir: Path) -> dict:
    store, preds = labelled_store(data, records, workdir, "m.labelfix")
    try:
        store.set_images_root(IMAGES)
        sid = store.add_predictions(preds, "d")
        inputs, outcome = az._compute_set(store, sid, params, None, None, True)
        r = outcome.result
        return {
            "suspects": r.suspects.copy(),
            "boxes": dict(outcome.boxes),
            "matches": {k: v.copy() for k, v in r.matches.items()},
            "probability": None if r.probability is None else r.probability.copy(),
            "recall": None if r.fit is None else scoring.set_recall(r.fit),
            "pred_id": inputs.predictions["id"].copy(),
            "pred_box": inputs.predictions["box"].copy(),
            "pred_cat": inputs.predictions["category_id"].copy(),
        }
    finally:
        store.close()


def dump(
    seeds: Sequence[int], params: AnalysisParams | None = None, detectors: Sequence[str] = DETECTORS
) -> None:
    """Each detector's own analysis on each seed's injected labels (added to the dump)."""
    params = params or AnalysisParams()
    out: dict = pickle.loads(OUT.read_bytes()) if OUT.exists() else {"truth": {}, "sets": {}}
    for det in detectors:
        data, records = setup_named(det).load()
        for seed in seeds:
            truth = inject(data, seed)
            out["truth"][seed] = truth
            with tempfile.TemporaryDirectory() as tmp:
                out["sets"][(det, seed)] = _one(truth.data, records, params, Path(tmp))
            print(det, seed, file=sys.stderr)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_bytes(pickle.dumps(out))


_LOADED: dict = {}


def load() -> dict:
    if not _LOADED:
        _LOADED.update(pickle.loads(OUT.read_bytes()))
    return _LOADED


def candidates(rows: np.ndarray, boxes: dict[int, dict[int, np.ndarray]]) -> dict:
    """The merged rows as the benchmark's candidates per kind (box: the row's set's)."""
    out: dict[str, list[Candidate]] = {}
    for row in rows:
        kind = KINDS[int(row[R["kind"]])]
        anns = tuple(
            int(row[R[c]])
            for c in ("annotation_id", "other_annotation_id")
            if not np.isnan(row[R[c]]) and row[R[c]] >= 0
        )
        pid = row[R["prediction_id"]]
        box = None
        if not np.isnan(pid) and pid >= 0:
            box = tuple(boxes[int(row[R["set_id"]])][int(pid)].tolist())
        out.setdefault(kind, []).append(
            Candidate(float(row[R["score"]]), int(row[R["image_id"]]), anns, box)
        )
    return out


def _recall(dumped: dict, data: dict) -> float:
    """The set's recall as core.scoring.set_recall gives it (dumps before it: from the
    matches, true positives over the regular labels)."""
    if dumped.get("recall") is not None:
        return float(dumped["recall"])
    labels = sum(1 for a in data["annotations"] if not a.get("iscrowd", 0))
    return float((np.asarray(dumped["matches"]["outcome"]) == TP).sum() / max(labels, 1))


SEPARATIONS = ("recall", "gini", "bss", "lls", "ll")


def separation(dumped: dict, how: str) -> float:
    """How well the set's calibrated probabilities separate its true positives from its false
    positives (its matches, ignored ones left out): ``gini`` 2 AUC - 1 (ties halved), ``bss``
    the Brier skill (1 - Brier over the base rate's), ``lls`` the log-loss skill, ``ll`` one
    over the log loss (the best set's log loss over this one's, once a ratio)."""
    o = np.asarray(dumped["matches"]["outcome"])
    p = np.asarray(dumped["probability"], dtype=np.float64)
    keep = ((o == TP) | (o == FP)) & np.isfinite(p)
    y, p = o[keep] == TP, np.clip(p[keep], 1e-6, 1 - 1e-6)
    n1, n0 = int(y.sum()), int((~y).sum())
    if n1 == 0 or n0 == 0:
        return 1.0
    if how == "gini":
        order = np.argsort(p, kind="stable")
        ranks = np.empty(len(p))
        ranks[order] = np.arange(1, len(p) + 1)
        _, inv = np.unique(p, return_inverse=True)  # ties: their mean rank
        ranks = (np.bincount(inv, ranks) / np.bincount(inv))[inv]
        return float(2 * (ranks[y].sum() - n1 * (n1 + 1) / 2) / (n1 * n0) - 1)
    base = n1 / (n1 + n0)
    if how == "bss":
        return float(1 - np.mean((p - y) ** 2) / (base * (1 - base)))
    loss = -np.mean(np.where(y, np.log(p), np.log(1 - p)))
    if how == "ll":
        return float(1 / loss)
    return float(1 - loss / -(base * np.log(base) + (1 - base) * np.log(1 - base)))


def evaluate_sets(
    dets: Sequence[str], seeds: Sequence[int], version: int | None = None, weight: str = "recall"
) -> np.ndarray:
    """Per seed :data:`COLUMNS` for ``dets`` merged by the formulas of score ``version``
    (default the current one); ``weight``: each set's recall, or times its
    :func:`separation` of that name."""
    d = load()
    version = AnalysisParams().score_version if version is None else version
    res = []
    for seed in seeds:
        truth = d["truth"][seed]
        per = [(k + 1, d["sets"][(det, seed)]) for k, det in enumerate(dets)]
        if len(per) == 1:
            rows = result_rows.one_set(per[0][1]["suspects"].copy(), 1).rows
        else:
            merging = [
                (
                    sid,
                    s["suspects"],
                    s["boxes"],
                    result_rows.set_cover(
                        s["matches"],
                        s["pred_id"],
                        s["pred_box"],
                        _recall(s, truth.data)
                        * (1.0 if weight == "recall" else max(separation(s, weight), 1e-9)),
                    ),
                )
                for sid, s in per
            ]
            rows = result_rows.several_sets(merging, version=version).rows
        boxes = {
            sid: dict(zip(s["pred_id"].tolist(), s["pred_box"], strict=True)) for sid, s in per
        }
        by_kind = candidates(rows, boxes)
        row = [evaluate(k, by_kind.get(k, []), truth)[-1] for k in KIND_ORDER]
        every = evaluate_all(by_kind, truth)
        res.append([*row, every[1], every[2], every[-1]])
    return np.array(res)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=("dump", "eval"))
    ap.add_argument("--seeds", default="0-9")
    ap.add_argument("--score-version", type=int)
    ap.add_argument("--detectors", default=",".join(DETECTORS), help="setups to dump")
    ap.add_argument("--weight", choices=SEPARATIONS, default="recall", help="each set's weight")
    ap.add_argument("--setups", help="comma-separated sets to evaluate (default: all)")
    args = ap.parse_args(argv)
    lo, _, hi = args.seeds.partition("-")
    seeds = list(range(int(lo), int(hi or lo) + 1))
    params = AnalysisParams()
    if args.score_version is not None:
        params = replace(params, score_version=args.score_version)
    if args.what == "dump":
        dump(seeds, params, args.detectors.split(","))
        return 0
    print("| sets | " + " | ".join(COLUMNS) + " | all kinds AP per seed |")
    names = args.setups.split(",") if args.setups else (*DETECTORS, *MULTI_SETUPS)
    for name in names:
        per = evaluate_sets(name.split("+"), seeds, args.score_version, args.weight)
        cells = " | ".join(f"{x:.3f}" for x in per.mean(axis=0))
        print(f"| {name} | {cells} | " + " ".join(f"{x:.3f}" for x in per[:, -1]) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
