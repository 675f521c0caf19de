"""Offline re-ranking of the quality benchmark's suspects: analyse each setup and seed once,
keep what the analysis found, then try a new scoring factor in seconds.

``bench_quality.py`` runs the whole analysis per try (about 30 s per setup and five seeds);
most scoring ideas only multiply some rows' scores. This dumps, per setup and seed, the
injected truth, the LabelFix suspects (as ``bench_quality.run_labelfix`` gives them) and every
prediction's match and calibrated probability (``core.analyze.compute``) into
``bench/out/offline_SETUP.pkl``; :func:`evaluate_setup` then scores a re-scoring of the
suspects with the benchmark's own metrics (its numbers equal ``bench_quality.py
--labelfix-only`` for the unchanged scores: score version 7, seeds 5-9, missing / wrong class /
inaccurate / all kinds AP: CenterNet 0.239 / 0.703 / 0.351 / 0.504, NanoDet 0.124 / 0.432 /
0.209 / 0.368; version 8: 0.239 / 0.703 / 0.442 / 0.535, 0.124 / 0.432 / 0.307 / 0.390;
version 9, also a version 8 dump with ``--outline``: 0.239 / 0.703 / 0.454 / 0.541, 0.124 /
0.432 / 0.336 / 0.404). A factor that helps here must still be built in core/ and measured
there.

:func:`observed_over_expected` is the per-analysis fit the score version 6 context uses
(core.class_context; version 7's part odds too): per bin of a per-prediction feature, true
positives over the sum of the calibrated probabilities, over the same ratio of all counted
predictions (a ratio of counts: scale-free).

What was measured with it, session by session (landed and not, with the numbers):
``bench/quality_log.md``. Read it before trying a new factor.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import pickle
import sys
import tempfile
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from labelfix.core import calibration, edge_fit, outline_search
from labelfix.core.analyze import compute, read_inputs
from labelfix.core.errors import AnalysisParams, _box_iou
from labelfix.core.matching import FP, IGNORED, TP

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_quality import evaluate, evaluate_all, labelfix_by_kind, run_labelfix  # noqa: E402
from quality_data import IMAGES, SETUPS, labelled_store  # noqa: E402
from quality_inject import KIND_ORDER, Injected, inject  # noqa: E402

OUT = Path(__file__).resolve().parent / "out"
REAL_SETUPS = ("centernet", "nanodet", "centernet-blurred", "synthetic")
COLUMNS = ("missing", "wrong_class", "inaccurate", "duplicate", "P@50", "P@100", "AP all")

# seed -> (truth, suspects, match columns, calibrated probability in the matches' order)
Dump = dict[int, tuple[Injected, list[dict], dict[str, np.ndarray], np.ndarray]]
Rescore = Callable[[str, int, Injected, list[dict], list[dict]], np.ndarray]
Extra = Callable[[str, int, Injected, list[dict], list[dict]], list[dict]]


def _matches(truth: Injected, pred_records: list[dict], workdir: Path) -> tuple[dict, np.ndarray]:
    """Every prediction's match columns and calibrated probability (core.analyze.compute)."""
    store, preds = labelled_store(truth.data, pred_records, workdir, "offline.labelfix")
    try:
        set_id = store.add_predictions(preds, "detector")
        result = compute(read_inputs(store, set_id, AnalysisParams()), processes=1)
    finally:
        store.close()
    return {k: v.copy() for k, v in result.matches.items()}, result.probability.copy()


def dump(setup: str, seeds: Sequence[int], params: AnalysisParams | None = None) -> Path:
    """Analyse ``setup`` on each seed (with ``params``, default the defaults) and keep what
    :func:`evaluate` needs."""
    data, pred_records = SETUPS[setup].load()
    out: Dump = {}
    for seed in seeds:
        truth = inject(data, seed)
        with (
            tempfile.TemporaryDirectory() as tmp,
            warnings.catch_warnings(),
            contextlib.redirect_stdout(io.StringIO()),
        ):
            warnings.simplefilter("ignore")
            suspects = run_labelfix(truth.data, pred_records, params or AnalysisParams(), Path(tmp))
            cols, prob = _matches(truth, pred_records, Path(tmp))
        out[seed] = (truth, suspects, cols, prob)
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"offline_{setup}.pkl"
    path.write_bytes(pickle.dumps((pred_records, out)))
    return path


_LOADED: dict[str, tuple[list[dict], Dump]] = {}


def load(setup: str) -> tuple[list[dict], Dump]:
    """The prediction records and the per-seed dump of a setup (made by :func:`dump`)."""
    if setup not in _LOADED:
        _LOADED[setup] = pickle.loads((OUT / f"offline_{setup}.pkl").read_bytes())
    return _LOADED[setup]


def evaluate_setup(
    setup: str, seeds: Sequence[int], rescore: Rescore | None = None, extra: Extra | None = None
) -> np.ndarray:
    """Mean over the seeds of :data:`COLUMNS` (AP per kind; all kinds P@50, P@100, AP), with
    the suspects' scores replaced by ``rescore(setup, seed, truth, suspects, pred_records)``
    and the suspects ``extra(...)`` (same arguments) gives added."""
    pred_records, per_seed = load(setup)
    rows = []
    for seed in seeds:
        truth, suspects, _, _ = per_seed[seed]
        if rescore is not None:
            new = rescore(setup, seed, truth, suspects, pred_records)
            suspects = [dict(s, score=float(v)) for s, v in zip(suspects, new, strict=True)]
        if extra is not None:
            suspects = suspects + extra(setup, seed, truth, suspects, pred_records)
        by_kind = labelfix_by_kind(suspects)
        row = [evaluate(k, by_kind.get(k, []), truth)[-1] for k in KIND_ORDER]
        every = evaluate_all(by_kind, truth)
        rows.append([*row, every[1], every[2], every[-1]])
    return np.mean(rows, axis=0)


def observed_over_expected(
    feature: np.ndarray, outcome: np.ndarray, probability: np.ndarray, prior: float = 10.0
) -> dict[int, float]:
    """Per bin of ``feature`` (one int per prediction): (true positives + prior x R) / (sum of
    probabilities + prior), over R, the ratio of all counted (tp or fp) predictions."""
    counted = (outcome == TP) | (outcome == FP)
    tp = counted & (outcome == TP)
    ratio = tp.sum() / max(float(probability[counted].sum()), 1e-12)
    out = {}
    for b in np.unique(feature[counted]):
        sel = counted & (feature == b)
        side = (tp[sel].sum() + prior * ratio) / (probability[sel].sum() + prior)
        out[int(b)] = float(side / ratio)
    return out


def paired(
    name: str,
    rescore: Rescore | None,
    column: int = 0,
    seeds: Sequence[int] = range(10),
    extra: Extra | None = None,
) -> str:
    """Per setup, the mean change of one of :data:`COLUMNS` (default missing_label AP) seed by
    seed against the dumped scores, how many seeds rose / fell, and the change of all kinds'
    AP: with about 40 injected errors of a kind per seed, differences under ~0.01 in the mean
    of five seeds are noise; the seed-by-seed count says more."""
    cells = []
    for setup in REAL_SETUPS:
        if not (OUT / f"offline_{setup}.pkl").exists():
            continue
        base = np.array([evaluate_setup(setup, [s]) for s in seeds])
        new = np.array([evaluate_setup(setup, [s], rescore, extra) for s in seeds])
        d = new[:, column] - base[:, column]
        d_all = float(np.mean(new[:, 6] - base[:, 6]))
        up, down = int(np.sum(d > 1e-9)), int(np.sum(d < -1e-9))
        cells.append(f"{setup} {d.mean():+.4f} ({up}+/{down}-) all {d_all:+.4f}")
    return f"{name}: " + " | ".join(cells)


def recalibrated(
    setup: str,
    seed: int,
    class_sd: tuple[float, float] = calibration.CLASS_SD,
    rank_counts: Callable[[dict[int, int], np.ndarray, np.ndarray], dict[int, int]] | None = None,
    counted: Callable[[np.ndarray], np.ndarray] | None = None,
) -> np.ndarray:
    """Every dumped prediction's calibrated probability (matches' order) fitted again as
    core.calibration does, with the classes' prior widths ``class_sd``, the rank positions'
    counts ``rank_counts(label_counts, categories, outcome)`` (default: the regular labels per
    class) and the predictions learnt from ``counted(outcome)`` (default: not ignored). With
    the defaults it equals the dump's probabilities exactly."""
    pred_records, per_seed = load(setup)
    truth, _, cols, _ = per_seed[seed]
    cats = np.array([r["category_id"] for r in pred_records], dtype=np.int64)
    scores = np.array([r["score"] for r in pred_records], dtype=np.float64)
    labels: dict[int, int] = {}
    for a in truth.data["annotations"]:
        if not a.get("iscrowd"):
            labels[a["category_id"]] = labels.get(a["category_id"], 0) + 1
    outcome = cols["outcome"]
    cm, sm = cats[cols["prediction_id"] - 1], scores[cols["prediction_id"] - 1]
    counts = labels if rank_counts is None else rank_counts(labels, cm, outcome)
    x = calibration.rank_positions(cats, scores, counts, cm, sm)
    keep = outcome != IGNORED if counted is None else counted(outcome)
    fit = calibration.fit_calibration(
        cm, x, (outcome == TP).astype(np.float64), counts, keep, class_sd=class_sd
    )
    return calibration.probabilities(fit, cm, x)


def recalibrated_example(**kwargs: object) -> Rescore:
    """missing_label scores x (:func:`recalibrated` probability over the dumped one) of their
    prediction (its other factors kept; candidates the new probability would add or drop at
    min_score are not: close to bench_quality for small changes, e.g. class_sd (1, 0.25) on
    seeds 0-4 gave 0.2554 / 0.1055 here against 0.255 / 0.106 there)."""
    cache: dict[tuple[str, int], dict[int, float]] = {}

    def rescore(
        setup: str, seed: int, truth: Injected, suspects: list[dict], pred_records: list[dict]
    ) -> np.ndarray:
        if (setup, seed) not in cache:
            cols, old = load(setup)[1][seed][2], load(setup)[1][seed][3]
            new = recalibrated(setup, seed, **kwargs)  # type: ignore[arg-type]
            ratio = new / np.maximum(old, 1e-12)
            ids = cols["prediction_id"].tolist()
            cache[setup, seed] = dict(zip(ids, ratio.tolist(), strict=True))
        ratio = cache[setup, seed]
        return np.array(
            [
                s["score"] * ratio[s["prediction_id"]]
                if s["kind"] == "missing_label"
                else s["score"]
                for s in suspects
            ]
        )

    return rescore


def colocated_ratio(setup: str, seed: int, iou: float) -> dict[int, float]:
    """Prediction id -> the summed calibrated probability of the predictions of any class on
    its image whose box has IoU >= ``iou`` with its box (itself included), over its own: how
    many class hypotheses the detector puts on the same object (the example of ``--example``)."""
    pred_records, per_seed = load(setup)
    cols, prob = per_seed[seed][2], per_seed[seed][3]
    pid, img = cols["prediction_id"], cols["image_id"]
    out: dict[int, float] = {}
    for im in np.unique(img):
        sel = np.flatnonzero(img == im)
        boxes = np.asarray([pred_records[i - 1]["bbox"] for i in pid[sel]], dtype=np.float64)
        near = _box_iou(boxes, boxes) >= iou
        total = near.astype(np.float64) @ prob[sel]
        for i, t, p in zip(pid[sel].tolist(), total, prob[sel], strict=True):
            out[i] = float(t / max(p, 1e-12))
    return out


def colocated_example(iou: float = 0.6, power: float = 0.25) -> Rescore:
    """missing_label scores x (colocated_ratio) ** power: the best of this session's tries
    (see bench_quality.py's docstring; not landed: about +0.005 AP, a tuned power)."""
    cache: dict[tuple[str, int], dict[int, float]] = {}

    def rescore(
        setup: str, seed: int, truth: Injected, suspects: list[dict], pred_records: list[dict]
    ) -> np.ndarray:
        if (setup, seed) not in cache:
            cache[setup, seed] = colocated_ratio(setup, seed, iou)
        ratio = cache[setup, seed]
        return np.array(
            [
                s["score"] * ratio[s["prediction_id"]] ** power
                if s["kind"] == "missing_label"
                else s["score"]
                for s in suspects
            ]
        )

    return rescore


def edge_example() -> Rescore:
    """inaccurate_label scores x core.edge_fit's factor of the label's polygon moved onto its
    prediction's box (what score version 8 does; run it on a dump of version 7)."""
    gray: dict[str, np.ndarray] = {}

    def rescore(
        setup: str, seed: int, truth: Injected, suspects: list[dict], pred_records: list[dict]
    ) -> np.ndarray:
        labels = {a["id"]: a for a in truth.data["annotations"]}
        names = {im["id"]: im["file_name"] for im in truth.data["images"]}
        out = []
        for s in suspects:
            v = s["score"]
            polygons = []
            if s["kind"] == "inaccurate_label" and s["box"] is not None:
                polygons = edge_fit.polygons_of(labels[s["annotation_id"]].get("segmentation"))
            if polygons:
                name = names[s["image_id"]]
                if name not in gray:
                    gray[name] = edge_fit.gray_pixels(IMAGES / name, None)
                ratio = edge_fit.fit_ratio(gray[name], polygons, s["box"])
                v = min(1.0, v * edge_fit.factor(ratio))
            out.append(v)
        return np.array(out)

    return rescore


_MOVES: dict[tuple[str, str], outline_search.Move | None] = {}


def outline_example(
    search: Callable[
        [outline_search.Pixels, Sequence[np.ndarray]], outline_search.Move | None
    ] = outline_search.search,
) -> Extra:
    """Image-only inaccurate_label suspects (core.outline_search, score version 9) added to a
    version 8 dump: every polygon label no true positive matches and no inaccurate_label
    suspect names, scored by ``outline_search.score`` of its best move (moves cached across
    setups and seeds by image and polygon; ``search`` gives a label's move when it makes a
    suspect)."""
    pixels: dict[str, outline_search.Pixels] = {}

    def extra(
        setup: str, seed: int, truth: Injected, suspects: list[dict], pred_records: list[dict]
    ) -> list[dict]:
        cols = load(setup)[1][seed][2]
        confirmed = set(cols["annotation_id"][cols["outcome"] == TP].astype(int).tolist())
        named = {s["annotation_id"] for s in suspects if s["kind"] == "inaccurate_label"}
        names = {im["id"]: im["file_name"] for im in truth.data["images"]}
        out = []
        for a in truth.data["annotations"]:
            polygons = edge_fit.polygons_of(a.get("segmentation"))
            if a.get("iscrowd") or not polygons or a["id"] in confirmed | named:
                continue
            name = names[a["image_id"]]
            key = (name, repr(a["segmentation"]))
            if key not in _MOVES:
                if name not in pixels:
                    pixels.clear()  # labels come image by image
                    pixels[name] = outline_search.Pixels(edge_fit.gray_pixels(IMAGES / name, None))
                _MOVES[key] = search(pixels[name], polygons)
            move = _MOVES[key]
            value = 0.0 if move is None else outline_search.score(move.ratio)
            if value > 0:
                out.append(
                    {
                        "kind": "inaccurate_label",
                        "score": value,
                        "image_id": a["image_id"],
                        "annotation_id": a["id"],
                        "other_annotation_id": None,
                        "prediction_id": None,
                        "box": move.box,
                    }
                )
        return out

    return extra


def table(
    name: str, rescore: Rescore | None, seeds: Sequence[int], extra: Extra | None = None
) -> str:
    """One line per setup: missing / wrong_class / inaccurate AP and all kinds' AP."""
    cells = []
    for setup in REAL_SETUPS:
        if (OUT / f"offline_{setup}.pkl").exists():
            m = evaluate_setup(setup, seeds, rescore, extra)
            cells.append(f"{setup} {m[0]:.3f}/{m[1]:.3f}/{m[2]:.3f}/{m[6]:.3f}")
    return f"{name}: " + "  ".join(cells)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dump", action="store_true", help="analyse and keep each setup and seed")
    ap.add_argument("--setups", default=",".join(REAL_SETUPS))
    ap.add_argument(
        "--example", action="store_true", help="seed-by-seed change of colocated_example"
    )
    ap.add_argument(
        "--score-version", type=int, default=None, help="the dump's score version (--dump)"
    )
    ap.add_argument(
        "--edge", action="store_true", help="core.edge_fit on top (on a version 7 dump)"
    )
    ap.add_argument(
        "--outline",
        action="store_true",
        help="core.outline_search's image-only suspects added (on a version 8 dump)",
    )
    args = ap.parse_args(argv)
    setups = [s for s in args.setups.split(",") if s]
    if args.dump:
        params = (
            None if args.score_version is None else AnalysisParams(score_version=args.score_version)
        )
        for setup in setups:
            print(dump(setup, range(10), params), flush=True)
    for seeds in (range(0, 5), range(5, 10)):
        print(
            table(
                f"seeds {seeds.start}-{seeds.stop - 1} (missing/wrong/inaccurate/all)", None, seeds
            )
        )
    if args.edge:
        for seeds in (range(0, 5), range(5, 10)):
            print(table(f"edge seeds {seeds.start}-{seeds.stop - 1}", edge_example(), seeds))
        for column, name in ((2, "inaccurate_label"), (6, "all kinds")):
            print(paired(f"edge fit, {name}", edge_example(), column))
    if args.outline:
        extra = outline_example()
        for seeds in (range(0, 5), range(5, 10)):
            name = f"image-only seeds {seeds.start}-{seeds.stop - 1}"
            print(table(name, None, seeds, extra))
        for column, name in ((2, "inaccurate_label"), (6, "all kinds")):
            print(paired(f"image-only, {name}", None, column, extra=extra))
    if args.example:
        print(paired("missing_label x colocated ratio ** 0.25 (IoU 0.6)", colocated_example()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
