"""``labelfix report``: how good the model is per class, from the current analysis's matches.

Per prediction set of the analysis: AP at the analysis's IoU per class (pycocotools'
definition), precision and recall of the predictions at the calibrated cut (probability >=
0.5), and the confusion table's most frequent confusions with the detector's habit rate (see
core.analysis_report). A reviewer reads it to know which classes' suspects to trust.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from . import score_scale
from .analysis_report import (
    confusion_rows,
    report_dependence_sentence,
    set_weights,
    weight_sentence,
)
from .project import ProjectError
from .store import Store

TOP_CONFUSIONS = 15


def report_data(store: Store, set_spec: str | None = None) -> dict[str, Any]:
    """The current analysis's report as printed by ``--format json``: per set its classes
    (sorted by name) and confusions (most frequent first; agreements and misses left out)."""
    set_ids = store.resolve_sets(set_spec)
    analysis = store.current_analysis(set_ids)
    if analysis is None:
        raise ProjectError(
            f"{store.location} has not been analysed yet; run `labelfix analyze` first"
        )
    report = store.analysis_report(analysis["id"])
    if not report or not report.get("sets"):
        raise ProjectError(
            f"{store.location}: its analysis has no report (made by an earlier LabelFix, or "
            "without calibration); run `labelfix analyze` again"
        )
    names = store.category_names()
    set_names = {s["id"]: s["name"] for s in store.prediction_sets()}
    sets = []
    for set_id in analysis["set_ids"]:
        part = report["sets"].get(str(set_id))
        if part is None:
            continue
        classes = [
            {"class": names.get(int(c), str(c)), "category_id": int(c), **metrics}
            for c, metrics in part["classes"].items()
        ]
        classes.sort(key=lambda r: r["class"].lower())
        confusions = [
            {
                "label_class": names.get(r["label_class"], str(r["label_class"])),
                "predicted_class": names.get(r["predicted_class"], str(r["predicted_class"])),
                **{k: r[k] for k in ("count", "share", "habit")},
            }
            for r in confusion_rows(part)
            if r["confusion"]
        ]
        sets.append(
            {
                "set": set_names.get(set_id),
                "set_id": set_id,
                "iou": part["iou"],
                "cut": part["cut"],
                "ap": _mean([c["ap"] for c in classes]),
                "classes": classes,
                "confusions": confusions,
                "score_scale": score_scale_data(part.get("score_scale")),
                "recall": part.get("recall"),
            }
        )
    weights = set_weights(report, analysis["params"].score_version)
    for part in sets:
        part["weight"] = weights.get(str(part["set_id"]))
    return {
        "analysis_id": analysis["id"],
        "created_at": analysis["created_at"],
        "review_cut": report.get("review_cut"),
        "sets": sets,
        "dependence": report.get("dependence"),  # several sets, score version 14
    }


def score_scale_data(stored: dict | None) -> dict | None:
    """A set's score-scale diagnostic (core.score_scale) with its sentence; None for analyses
    without one (uncalibrated, or stored before it)."""
    if not stored:
        return None
    pooled, per_class = float(stored["pooled_loss"]), float(stored["class_loss"])
    used = stored.get("scores") == "comparable"
    return {
        "comparable": score_scale.comparable(pooled, per_class),
        "pooled_log_loss": pooled,
        "per_class_log_loss": per_class,
        "predictions": int(stored["n"]),
        "scores": "comparable" if used else "per-class",
        "sentence": score_scale.sentence(pooled, per_class, used),
    }


def _mean(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None


def cmd_report(args: argparse.Namespace) -> int:
    """Print per-class AP, precision/recall at the calibrated cut and the top confusions."""
    from .cli import open_from

    with open_from(args, readonly=True) as store:
        data = report_data(store, args.predictions)
    if args.format == "json":
        json.dump(data, sys.stdout, indent=1)
        sys.stdout.write("\n")
        return 0
    out = sys.stdout

    num = number_text
    for part in data["sets"]:
        out.write(
            f"prediction set {part['set']}: AP@{part['iou']:g} {num(part['ap'])} (mean over "
            f"classes); precision / recall of predictions with probability >= {part['cut']:g}\n"
        )
        out.write(
            f"  {'class':<18}{'labels':>7}{'preds':>7}{'AP':>7}{'prec':>7}{'recall':>7}"
            f"{'tp':>6}{'fp':>6}\n"
        )
        for c in data_classes(part, args.sort):
            out.write(
                f"  {c['class'][:17]:<18}{c['labels']:>7}{c['predictions']:>7}{num(c['ap']):>7}"
                f"{num(c['precision']):>7}{num(c['recall']):>7}{c['tp_at_cut']:>6}"
                f"{c['fp_at_cut']:>6}\n"
            )
        confusions = part["confusions"][: args.top]
        if confusions:
            out.write(
                "  confusions (labels of a class whose most probable prediction is another "
                "class; habit: the detector's rate of that confusion):\n"
            )
            out.write(
                f"  {'label class':<18}{'predicted':<18}{'count':>6}{'share':>7}{'habit':>7}\n"
            )
            for r in confusions:
                out.write(
                    f"  {r['label_class'][:17]:<18}{r['predicted_class'][:17]:<18}"
                    f"{r['count']:>6}{share_text(r['share']):>7}{r['habit']:>7.2f}\n"
                )
        if part["recall"] is not None:
            out.write(f"  {weight_sentence(part['recall'], part['weight'])}\n")
        if part["score_scale"] is not None:
            out.write(f"  {part['score_scale']['sentence']}\n")
        out.write("\n")
    dependence = report_dependence_sentence(data)
    if dependence is not None:
        out.write(dependence + "\n")
    if data["review_cut"] is not None:
        out.write(f"default review cut: suspects scored >= {data['review_cut']:.2f}\n")
    return 0


def number_text(v: float | None) -> str:
    """A table's number (3 decimals), or "-" when there is none (ASCII: any terminal)."""
    return "-" if v is None else f"{v:.3f}"


def share_text(share: float) -> str:
    """A share as a whole percentage; above 0 but under half a percent "<1%", never "0%"."""
    return "<1%" if 0 < share < 0.005 else f"{share:.0%}"


def data_classes(part: dict, sort: str) -> list[dict]:
    """A set's classes in the table's order: by name, or worst AP first."""
    if sort == "ap":
        return sorted(part["classes"], key=lambda c: (c["ap"] is None, c["ap"] or 0.0))
    return part["classes"]


def add_commands(
    add: Callable[..., argparse.ArgumentParser],
    project_options: Callable[[argparse.ArgumentParser], None],
) -> None:
    """Register ``report`` on the CLI's subparsers."""
    p = add(
        "report", cmd_report, "how good the model is per class (AP, precision, recall, confusions)"
    )
    project_options(p)
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.add_argument(
        "--predictions",
        help="the analysis of this set, or of several together (A,B or all) "
        "(default: the sets reviewed now)",
    )
    p.add_argument("--sort", choices=("class", "ap"), default="class", help="class order (table)")
    p.add_argument(
        "--top", type=int, default=TOP_CONFUSIONS, help=f"confusions listed ({TOP_CONFUSIONS})"
    )
