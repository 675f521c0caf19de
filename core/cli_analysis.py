"""The analysis commands of the headless CLI: analyze, matches, suspects, apply."""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
import time
from collections.abc import Callable

import numpy as np

from .analyze import OUTCOME_NAMES, AnalysisParams, matches, reanalyze_images
from .errors import KINDS
from .project import ProjectError, analyze_project, open_project
from .review import decide
from .store import Store
from .suspects import CACHE_MIN_ROWS, CLI_FIELDS, SuspectFilter, SuspectIndex, cli_record


def _progress(args: argparse.Namespace, label: str) -> Callable[[int, int], None] | None:
    from .cli import ProgressBar

    return None if args.quiet else ProgressBar(label)


def cmd_analyze(args: argparse.Namespace) -> int:
    """Match the predictions to the labels and find the suspects."""
    params = AnalysisParams(
        iou_threshold=args.iou,
        low_iou=args.low_iou,
        duplicate_iou=args.duplicate_iou,
        min_score=args.min_score,
        max_dets=args.max_dets,
        geometry=args.geometry,
        wrong_class_iou=args.wrong_class_iou,
        missing_same_iou=args.missing_same_iou,
        loose_iou=args.loose_iou,
    )
    with open_project(args.project) as store:
        set_id = store.resolve_set(args.predictions)
        bar = _progress(args, "analysing")
        t0 = time.perf_counter()
        summary = analyze_project(store, params, set_name=args.predictions, progress=bar)
        if bar is not None:
            bar.close()
        if sum(summary.suspects.values()) >= CACHE_MIN_ROWS:
            SuspectIndex.load(store, set_id)  # writes the column cache: the app opens it fast
        if not args.quiet:
            found = ", ".join(f"{n} {k}" for k, n in summary.suspects.items())
            print(
                f"analysed {summary.images} images, {summary.predictions} predictions in "
                f"{time.perf_counter() - t0:.2f} s: {found}",
                file=sys.stderr,
            )
    return 0


def cmd_matches(args: argparse.Namespace) -> int:
    """Print the match of every prediction, one JSON object per line."""
    with open_project(args.project, readonly=True) as store:
        set_id = store.resolve_set(args.predictions)
        arr = matches(store, set_id)
        preds = store.prediction_arrays(set_id)
        order = np.argsort(preds["id"])
        pid_sorted = preds["id"][order]
        pos = order[np.searchsorted(pid_sorted, arr["prediction_id"])]
        out = sys.stdout
        for i in range(len(arr["prediction_id"])):
            ann = int(arr["annotation_id"][i])
            iou = float(arr["iou"][i])
            out.write(
                json.dumps(
                    {
                        "prediction_id": int(arr["prediction_id"][i]),
                        "image_id": int(arr["image_id"][i]),
                        "category_id": int(preds["category_id"][pos[i]]),
                        "score": float(preds["score"][pos[i]]),
                        "outcome": OUTCOME_NAMES[int(arr["outcome"][i])],
                        "annotation_id": None if ann < 0 else ann,
                        "iou": None if math.isnan(iou) else iou,
                    }
                )
                + "\n"
            )
    return 0


def _filter(args: argparse.Namespace, store: Store) -> SuspectFilter:
    cats = None
    if args.class_name:
        names = {n.lower(): i for i, n in store.category_names().items()}
        wanted = [c.strip().lower() for c in args.class_name]
        unknown = [c for c in wanted if c not in names]
        if unknown:
            raise ProjectError(
                f"unknown class {', '.join(unknown)} (the project has: {', '.join(sorted(names))})"
            )
        cats = frozenset(names[c] for c in wanted)
    if args.min_iou > args.max_iou:
        raise ProjectError(f"--min-iou {args.min_iou:g} is above --max-iou {args.max_iou:g}")
    return SuspectFilter(
        min_confidence=args.min_confidence,
        min_iou=args.min_iou,
        max_iou=args.max_iou,
        kinds=frozenset(args.kind) if args.kind else None,
        category_ids=cats,
        statuses=frozenset(args.status) if args.status else None,
    )


def _selected(args: argparse.Namespace, store: Store) -> tuple[SuspectIndex, list[int]]:
    set_id = store.resolve_set(args.predictions)
    index = SuspectIndex.load(store, set_id)
    if index.analysis_id is None:
        raise ProjectError(f"{store.path} has not been analysed yet; run `labelfix analyze` first")
    rows = index.query(_filter(args, store))
    if args.top is not None:
        rows = rows[: args.top]
    return index, [int(r) for r in rows]


def cmd_suspects(args: argparse.Namespace) -> int:
    """List suspects, best first."""
    with open_project(args.project, readonly=True) as store:
        index, rows = _selected(args, store)
        names = store.category_names()
        out = sys.stdout
        if args.format == "json":
            for r in rows:
                out.write(json.dumps(cli_record(index.row(r))) + "\n")
        elif args.format == "csv":
            writer = csv.DictWriter(out, fieldnames=CLI_FIELDS)
            writer.writeheader()
            for r in rows:
                writer.writerow(cli_record(index.row(r)))
        else:
            out.write(
                f"{'kind':<17}{'score':>7}  {'file':<22}{'label':>10} {'class':<15}{'pred':>7} {'predicted':<15}{'iou':>6}{'conf':>6}\n"
            )
            for r in rows:
                s = index.row(r)

                def num(v: float | None) -> str:
                    return "" if v is None else f"{v:.2f}"

                out.write(
                    f"{s['kind']:<17}{s['score']:>7.3f}  {str(s['file_name'])[:21]:<22}"
                    f"{s['annotation_id'] if s['annotation_id'] is not None else '':>10} "
                    f"{names.get(s['category_id'], '')[:14]:<15}"
                    f"{s['prediction_id'] if s['prediction_id'] is not None else '':>7} "
                    f"{names.get(s['predicted_category_id'], '')[:14]:<15}"
                    f"{num(s['iou']):>6}{num(s['confidence']):>6}\n"
                )
            print(f"{len(rows)} suspect(s)", file=sys.stderr)
    return 0


def cmd_apply(args: argparse.Namespace) -> int:
    """Accept or reject suspects in bulk (accepting applies their fixes), as one logged edit."""
    decision = "accepted" if args.accept else "rejected"
    with open_project(args.project) as store:
        index, rows = _selected(args, store)
        suspects = [
            dict(index.row(r), set_id=index.set_id)
            for r in rows
            if index.row(r)["status"] == "open"
        ]
        if not suspects:
            print("no open suspects match", file=sys.stderr)
            return 0
        edit = decide(store, suspects, decision)
        edit.apply(store)
        reanalyze_images(store, edit.image_ids | {s["image_id"] for s in suspects}, index.set_id)
        if not args.quiet:
            print(f"{decision} {len(suspects)} suspect(s)", file=sys.stderr)
    return 0


def add_commands(add: Callable[..., argparse.ArgumentParser]) -> None:
    """Register the analysis commands on the CLI's subparsers."""
    p = add("analyze", cmd_analyze, "match predictions to labels and find suspected label errors")
    p.add_argument("project")
    p.add_argument("--iou", type=float, default=0.5, help="match IoU threshold (0.5)")
    p.add_argument("--low-iou", type=float, default=0.1, help="no-overlap threshold (0.1)")
    p.add_argument("--duplicate-iou", type=float, default=0.85, help="duplicate-label IoU (0.85)")
    p.add_argument(
        "--min-score",
        type=float,
        default=0.05,
        help="least confidence that raises a suspect (0.05)",
    )
    p.add_argument(
        "--max-dets", type=int, default=100, help="COCO max detections per image and class (100)"
    )
    p.add_argument(
        "--wrong-class-iou",
        type=float,
        default=0.4,
        help="other-class overlap that puts a prediction on a label (0.4)",
    )
    p.add_argument(
        "--missing-same-iou",
        type=float,
        default=0.3,
        help="same-class overlap that explains a prediction (0.3)",
    )
    p.add_argument(
        "--loose-iou",
        type=float,
        default=0.6,
        help="a label matched below this IoU is an inaccurate-label suspect; <= --iou: off (0.6)",
    )
    p.add_argument("--geometry", choices=("boxes", "masks"), default="boxes")
    p.add_argument("--predictions", help="prediction set name (default: the active one)")

    p = add("matches", cmd_matches, "print every prediction's match (tp / fp / ignored)")
    p.add_argument("project")
    p.add_argument("--format", choices=("json",), default="json")
    p.add_argument("--predictions", help="prediction set name (default: the active one)")

    def selection(p: argparse.ArgumentParser) -> None:
        p.add_argument("project")
        p.add_argument("--kind", action="append", choices=KINDS, help="only this kind (repeatable)")
        p.add_argument(
            "--min-confidence", type=float, default=0.0, help="least prediction confidence (0)"
        )
        p.add_argument("--min-iou", type=float, default=0.0, help="least IoU (0)")
        p.add_argument("--max-iou", type=float, default=1.0, help="largest IoU (1)")
        p.add_argument(
            "--class", dest="class_name", action="append", help="only this class name (repeatable)"
        )
        p.add_argument(
            "--status", action="append", choices=("open", "accepted", "rejected", "flagged")
        )
        p.add_argument("--top", type=int, help="at most this many (default: all)")
        p.add_argument("--predictions", help="prediction set name (default: the active one)")

    p = add("suspects", cmd_suspects, "list suspected label errors, most likely first")
    selection(p)
    p.add_argument("--format", choices=("table", "json", "csv"), default="table")

    p = add("apply", cmd_apply, "accept or reject suspects in bulk")
    selection(p)
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--accept", action="store_true", help="apply the fixes")
    group.add_argument("--reject", action="store_true", help="mark them not an error")
