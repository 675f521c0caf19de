"""One run of the quality benchmark: per setup and seed, inject errors, collect every
method's candidates (LabelFix, its earlier scorings, cleanlab tuned per setup, the baselines)
and their metrics. Seeds run in worker processes."""

from __future__ import annotations

import contextlib
import io
import tempfile
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import replace
from pathlib import Path

import numpy as np
from quality_baselines import CleanlabScores, fp_baseline, iou_duplicate_baseline
from quality_data import setup_named
from quality_inject import KIND_ORDER, Injected, inject
from quality_labelfix import CUT, EARLIER, cut_stats, labelfix_by_kind, run_labelfix
from quality_metrics import ALL_KINDS, evaluate, evaluate_all

from labelfix.core.errors import AnalysisParams

THRESHOLD_GRID = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6, 0.7, 0.8, 0.95)


def _seed_methods(
    truth: Injected,
    pred_records: list[dict] | dict[str, list[dict]],
    params: AnalysisParams,
    workdir: Path,
    tuned: dict[str, float] | None,
    baselines: bool,
    earlier: bool = True,
) -> dict[str, dict]:
    """Every method's candidates per kind for one injected dataset; under ALL_KINDS, LabelFix's
    candidates by kind (current scores, and the earlier scorings of EARLIER unless not
    ``earlier``); under CUT, LabelFix's :func:`cut_stats`. Several prediction sets (name ->
    records): LabelFix only (the baselines and earlier scorings take one set)."""
    suspects = run_labelfix(truth.data, pred_records, params, workdir)
    if isinstance(pred_records, dict):
        if len(pred_records) == 1:
            (pred_records,) = pred_records.values()
        else:
            baselines, earlier = False, False
    every = {"LabelFix": labelfix_by_kind(suspects)}
    for name, _, change in EARLIER if earlier else ():
        earlier = replace(params, **change)
        every[name] = labelfix_by_kind(run_labelfix(truth.data, pred_records, earlier, workdir))
    out: dict[str, dict] = {k: {} for k in KIND_ORDER}
    out[ALL_KINDS] = every
    out[CUT] = {"LabelFix": cut_stats(suspects, truth)}
    cl = CleanlabScores(truth.data, pred_records) if baselines else None
    for kind in KIND_ORDER:
        for name, by_kind in every.items():
            out[kind][name] = by_kind.get(kind, [])
        if cl is None:
            continue
        if kind == "duplicate_label":
            out[kind]["label IoU (trivial)"] = iou_duplicate_baseline(truth.data)
            continue
        out[kind]["cleanlab (defaults)"] = cl.by_kind(kind, None)
        if tuned is not None:
            out[kind][f"cleanlab (tuned, thr={tuned[kind]:g})"] = cl.by_kind(kind, tuned[kind])
        if kind == "missing_label":
            out[kind]["unmatched preds by confidence"] = fp_baseline(
                truth.data, pred_records, params
            )
    return out


def _quiet(fn: Callable, *args: object) -> object:
    """Call fn without cleanlab's prints and warnings."""
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        return fn(*args)


def _tune_seed(setup: str, seed: int) -> dict[str, dict[float, float]]:
    """AP of cleanlab's scores per kind and threshold on one seed (runs in a worker process)."""
    data, pred_records = setup_named(setup).load()
    truth = inject(data, seed)
    cl = _quiet(CleanlabScores, truth.data, pred_records)
    return {
        kind: {t: evaluate(kind, _quiet(cl.by_kind, kind, t), truth)[-1] for t in THRESHOLD_GRID}
        for kind in KIND_ORDER[:3]
    }


def tune_cleanlab(setup: str, seeds: Sequence[int], pool: Executor) -> dict[str, float]:
    """cleanlab's threshold (high for overlooked/swap, low for badloc) with the best mean AP."""
    per_seed = list(pool.map(_tune_seed, [setup] * len(seeds), seeds))
    return {
        k: max(THRESHOLD_GRID, key=lambda t, k=k: (np.mean([s[k][t] for s in per_seed]), -t))
        for k in KIND_ORDER[:3]
    }


def _report_seed(
    setup: str,
    seed: int,
    params: AnalysisParams,
    tuned: dict[str, float] | None,
    baselines: bool,
    earlier: bool = True,
) -> tuple[dict, dict]:
    """Per kind (and all kinds) and method, the metrics on one seed (and LabelFix's default
    cut's, under CUT); the injected counts."""
    data, pred_records = setup_named(setup).load_sets()
    truth = inject(data, seed)
    with tempfile.TemporaryDirectory() as tmp:
        methods = _quiet(
            _seed_methods, truth, pred_records, params, Path(tmp), tuned, baselines, earlier
        )
    every = methods.pop(ALL_KINDS)
    cut = methods.pop(CUT)
    scores = {
        kind: {name: evaluate(kind, cands, truth) for name, cands in ms.items()}
        for kind, ms in methods.items()
    }
    scores[ALL_KINDS] = {name: evaluate_all(by_kind, truth) for name, by_kind in every.items()}
    scores[CUT] = cut
    return scores, {k: truth.count(k) for k in KIND_ORDER}


def run(
    setup: str,
    seeds: Sequence[int],
    params: AnalysisParams,
    tuned: dict[str, float] | None,
    pool: Executor,
    baselines: bool = True,
    earlier: bool = True,
) -> tuple[dict[str, dict[str, np.ndarray]], list[dict]]:
    """Per kind (and all kinds) and method, a (seeds, metrics) array; and the injected counts."""
    results: dict[str, dict[str, list]] = {}
    counts = []
    n = len(seeds)
    for scores, count in pool.map(
        _report_seed,
        [setup] * n,
        seeds,
        [params] * n,
        [tuned] * n,
        [baselines] * n,
        [earlier] * n,
    ):
        counts.append(count)
        for kind, by_method in scores.items():
            for name, value in by_method.items():
                results.setdefault(kind, {}).setdefault(name, []).append(value)
    return {k: {m: np.asarray(v) for m, v in ms.items()} for k, ms in results.items()}, counts
