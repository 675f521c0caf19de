"""The analysis commands of the headless CLI: analyze, matches, suspects, apply."""

from __future__ import annotations

import argparse
import csv
import json
import math
import shlex
import sys
import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from .analyze import OUTCOME_NAMES, AnalysisParams, matches, reanalyze_images
from .bulk import BulkPlan, describe, plan_accepts
from .edits import CompositeEdit, Edit, EditError, SetDecision
from .errors import KINDS
from .project import ProjectError, analyze_project, sets_geometry
from .redecide import redecide
from .review import decide
from .store import Store
from .suspects import (
    CACHE_MIN_ROWS,
    CLI_FIELDS,
    STATUSES,
    SuspectFilter,
    SuspectIndex,
    cli_record,
)

# the JSON records keep CLI_FIELDS first (scripts read them), then probability, group,
# group_rank and supported_by; the CSV's columns follow the same order, with the status
CSV_FIELDS = (*CLI_FIELDS, "status", "probability", "group", "group_rank", "supported_by")


def _progress(args: argparse.Namespace, label: str) -> Callable[[int, int], None] | None:
    from .cli import ProgressBar

    return None if args.quiet else ProgressBar(label)


def _open(args: argparse.Namespace, *, readonly: bool = False) -> Store:
    from .cli import open_from

    return open_from(args, readonly=readonly)


def cmd_analyze(args: argparse.Namespace) -> int:
    """Match the predictions to the labels and find the suspects."""
    params = AnalysisParams(
        iou_threshold=args.iou,
        low_iou=args.low_iou,
        duplicate_iou=args.duplicate_iou,
        min_score=args.min_score,
        max_dets=args.max_dets,
        geometry=args.geometry or "boxes",
        wrong_class_iou=args.wrong_class_iou,
        missing_same_iou=args.missing_same_iou,
        loose_iou=args.loose_iou,
        scores=args.scores,
    )
    with _open(args) as store:
        if args.geometry is None:  # masks when every set and the labels have shapes
            geometry = sets_geometry(store, store.resolve_sets(args.predictions))
            params = replace(params, geometry=geometry)
        analyse_and_report(args, store, params, args.predictions)
    return 0


def analyse_and_report(
    args: argparse.Namespace, store: Store, params: AnalysisParams, set_name: str | None
) -> None:
    """Analyse a prediction set, or several together ("A,B", "all"), with a progress bar and
    say what was found (``analyze``, and ``predict --analyze``)."""
    set_ids = store.resolve_sets(set_name)
    bar = _progress(args, "analysing")
    t0 = time.perf_counter()
    summary = analyze_project(store, params, set_name=set_name, progress=bar)
    if bar is not None:
        bar.close()
    if sum(summary.suspects.values()) >= CACHE_MIN_ROWS:
        SuspectIndex.load(store, set_ids)  # writes the column cache: the app opens it fast
    if not args.quiet:
        found = ", ".join(f"{n} {k}" for k, n in summary.suspects.items())
        sets = ""
        if len(set_ids) > 1:
            names = {s["id"]: s["name"] for s in store.prediction_sets()}
            sets = f" of {len(set_ids)} sets ({', '.join(names[i] for i in set_ids)})"
        print(
            f"analysed {summary.images} images, {summary.predictions} predictions{sets} "
            f"({params.geometry}) in {time.perf_counter() - t0:.2f} s: {found}",
            file=sys.stderr,
        )
        for warning in summary.warnings:  # e.g. image files the image evidence could not read
            print(f"warning: {warning}", file=sys.stderr)


def cmd_matches(args: argparse.Namespace) -> int:
    """Print the match of every prediction, one JSON object per line."""
    with _open(args, readonly=True) as store:
        set_ids = store.resolve_sets(args.predictions)
        if len(set_ids) != 1:
            raise ProjectError("matches lists one prediction set's matches: name one set")
        set_id = set_ids[0]
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
    """The listing's filter. Without a cut (``--min-confidence`` / ``--min-score``) it is the
    default view's: scored >= the analysis's default cut (open suspects only: listing decided
    ones drops the cut); with ``--min-confidence`` alone no score cut (``--min-confidence 0`` lists every suspect, ``0.75`` is the seed's view)."""
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
    statuses = _statuses(args.status)
    if args.min_score is not None:
        min_score: float | None = args.min_score
    elif args.min_confidence is not None or statuses != frozenset({"open"}):
        min_score = 0.0  # a decided suspect was seen by a reviewer: listed whatever its score
    else:
        min_score = None
    return SuspectFilter(
        min_confidence=args.min_confidence or 0.0,
        min_score=min_score,
        min_iou=args.min_iou,
        max_iou=args.max_iou,
        kinds=frozenset(args.kind) if args.kind else None,
        category_ids=cats,
        statuses=statuses,
    )


def _statuses(chosen: list[str] | None) -> frozenset[str] | None:
    """The --status filter: open by default, any with ``all``."""
    if not chosen:
        return frozenset({"open"})
    if "all" in chosen:
        return None
    return frozenset(chosen)


def not_analysed(store: Store, set_ids: list[int], asked: str | None) -> str:
    """Why there are no suspects to list: the sets asked for (the active ones by default) have
    no analysis; names the sets that have one and how to list or make them."""
    names = {int(s["id"]): s["name"] for s in store.prediction_sets()}
    analysed = [sid for sid in names if store.current_analysis(sid) is not None]
    shown = ", ".join(repr(names[sid]) for sid in set_ids)
    if len(set_ids) > 1:
        what = f"the prediction sets {shown} together have"
    elif asked is None:
        what = f"the active prediction set {shown} has"
    else:
        what = f"the prediction set {shown} has"
    loc = store.location
    first = f"{loc}: {what} not been analysed yet"
    again = f" --predictions {shlex.quote(asked)}" if asked is not None else ""
    if not analysed:
        return f"{first}; run `labelfix analyze {shlex.quote(str(loc))}{again}` first"
    other = names[analysed[0]]
    return (
        f"{first} (analysed: {', '.join(repr(names[sid]) for sid in analysed)}); list "
        f"another set's suspects with `--predictions {shlex.quote(other)}`, or analyse this "
        f"one with `labelfix analyze {shlex.quote(str(loc))}{again}`"
    )


def selected(
    args: argparse.Namespace, store: Store, *, limit: bool = True
) -> tuple[SuspectIndex, list[int]]:
    """The suspect index and the rows the command's selection options list (--top applied)."""
    set_ids = store.resolve_sets(args.predictions)
    index = SuspectIndex.load(store, set_ids)
    if index.analysis_id is None:
        raise ProjectError(not_analysed(store, set_ids, args.predictions))
    flt = _filter(args, store)
    if getattr(args, "format", None) == "table" and not args.every_row:
        flt = flt.with_(per_object=True)
    rows = index.query(flt)
    if args.claimed or args.decided_by:
        keep = np.ones(len(index), dtype=bool)
        if args.claimed:
            claimed = [(sid, key) for sid in index.set_ids for key in store.my_claims(sid)]
            keep &= _marked(index, claimed)
        if args.decided_by:
            decided = [
                (sid, d["suspect_key"])
                for sid in index.set_ids
                for d in store.decisions_by_reviewer(sid, args.decided_by)
            ]
            keep &= _marked(index, decided)
        rows = rows[keep[rows]]
    if limit and args.top is not None:
        rows = rows[: args.top]
    args.used_filter = flt
    return index, [int(r) for r in rows]


def _marked(index: SuspectIndex, pairs: list[tuple[int, str]]) -> np.ndarray:
    """A mask over the index's rows: True at the suspects of these (set id, key) pairs."""
    mask = np.zeros(len(index), dtype=bool)
    if pairs:
        mask[index.positions_of_decisions(pairs)] = True
    return mask


def _sets_text(row: dict) -> str:
    return "+".join(str(s["set"]) for s in row["supported_by"])


def _csv_record(row: dict) -> dict:
    record = cli_record(row)
    record["status"] = row["status"]
    record["supported_by"] = ";".join(
        f"{s['set']}:{'' if s['prediction_id'] is None else s['prediction_id']}"
        for s in row["supported_by"]
    )
    return {k: record[k] for k in CSV_FIELDS}


def cmd_suspects(args: argparse.Namespace) -> int:
    """List suspects, best first (the table: one row per object, its alternatives counted)."""
    with _open(args, readonly=True) as store:
        index, rows = selected(args, store)
        names = store.category_names()
        out = sys.stdout
        if args.format == "json":
            for r in rows:
                out.write(json.dumps(cli_record(index.row(r))) + "\n")
        elif args.format == "csv":
            writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, lineterminator="\n")
            writer.writeheader()
            for r in rows:
                writer.writerow(_csv_record(index.row(r)))
        else:
            _print_table(args, index, rows, names)
        _say_cut(args, index, len(rows))
    return 0


def _print_table(
    args: argparse.Namespace, index: SuspectIndex, rows: list[int], names: dict[int, str]
) -> None:
    """One row per object; ``alt`` counts its other suspects the filter lists (printed below
    it, marked, with ``--alternatives``)."""
    out = sys.stdout
    multi = index.multi
    listed = index.mask(args.used_filter.with_(per_object=False))
    out.write(
        f"{'kind':<17}{'score':>7}  {'status':<9}{'file':<22}{'label':>10} "
        f"{'class':<15}{'pred':>7} {'predicted':<15}{'iou':>6}{'conf':>6}{'prob':>6}{'alt':>5}"
        + (f"  {'sets'}" if multi else "")
        + "\n"
    )

    def num(v: float | None) -> str:
        return "" if v is None else f"{v:.2f}"

    def line(s: dict, mark: str, alt: str) -> str:
        return (
            f"{mark + s['kind']:<17}{s['score']:>7.3f}  "
            f"{s['status']:<9}{str(s['file_name'])[:21]:<22}"
            f"{s['annotation_id'] if s['annotation_id'] is not None else '':>10} "
            f"{names.get(s['category_id'], '')[:14]:<15}"
            f"{s['prediction_id'] if s['prediction_id'] is not None else '':>7} "
            f"{names.get(s['predicted_category_id'], '')[:14]:<15}"
            f"{num(s['iou']):>6}{num(s['confidence']):>6}{num(s['probability']):>6}{alt:>5}"
            + (f"  {_sets_text(s)}" if multi else "")
            + "\n"
        )

    for r in rows:
        alts = [int(p) for p in index.alternatives(r) if listed[p]]
        out.write(line(index.row(r), "", f"+{len(alts)}" if alts and not args.every_row else ""))
        if args.alternatives and not args.every_row:
            for p in alts:
                out.write(line(index.row(p), "└ ", ""))
    shown = "" if args.status else " (open; --status all lists decided ones too)"
    unit = "suspect(s)" if args.every_row else "object(s)"
    print(f"{len(rows)} {unit}{shown}", file=sys.stderr)


def _say_cut(args: argparse.Namespace, index: SuspectIndex, shown: int) -> None:
    """Under the default cut, say so and how to list everything."""
    if args.quiet or args.used_filter.min_score is not None:
        return
    every = int(index.mask(args.used_filter.with_(min_score=0.0, per_object=False)).sum())
    print(
        f"listed those scored >= {index.review_cut:.2f} (the default cut for this analysis; "
        f"{every} suspect(s) match without it: --min-confidence 0 lists all, "
        "--min-confidence 0.75 is the confidence cut of earlier versions)",
        file=sys.stderr,
    )


def cmd_apply(args: argparse.Namespace) -> int:
    """Accept, reject, flag or reopen suspects in bulk (accepting applies their fixes), as one
    logged edit.

    Accepting walks the listing in order and skips a suspect whose prediction or label an
    earlier fix of the run already used (saying which and why); with ``--top N`` the next
    suspects of the listing are taken in their place (and named); accepting a suspect closes
    the other open suspects of its object (rejected in the same edit) and says so. Decided
    suspects in the listing (``--status``) are decided again by the re-decide rule
    (core.redecide); one whose accepted fix cannot be reverted is named with the reason and
    left as it is."""
    decision = _decision(args)
    if args.note is not None and decision != "flagged":
        raise ProjectError("--note goes with --flag (the note of the flag)")
    with _open(args) as store:
        index, rows = selected(args, store, limit=False)
        rows, held = _without_others_claims(store, index, rows)
        if held and not args.quiet:
            print(
                f"left {sum(held.values())} suspect(s) claimed by other reviewers alone ("
                + ", ".join(f"{who} {n}" for who, n in sorted(held.items()))
                + ")",
                file=sys.stderr,
            )
        listing = [index.row(r) for r in rows]
        if decision == "accepted":  # accepting a suspect closes its object's other open ones
            for row, r in zip(listing, rows, strict=True):
                row["alternatives"] = _open_alternatives(index, r)
        parts, changed, refused = _plan_decisions(args, store, listing, decision)
        if not parts:
            hint = (
                "; --reopen acts on decided ones: list them with --status"
                if (decision is None and not args.status)
                else ""
            )
            print(f"no listed suspect changes{hint}", file=sys.stderr)
            _report_refused(args, refused)
            if isinstance(changed, BulkPlan):
                _report_skipped(args, changed)
            return 0
        suspects = changed.suspects if isinstance(changed, BulkPlan) else changed
        touched = {s["image_id"] for s in suspects}
        before = _open_keys(index, touched)
        edit = parts[0] if len(parts) == 1 else CompositeEdit(_leaves(parts), parts[0].description)
        with store.atomic():  # the edit and its images' new suspects land together
            edit.apply(store)
            label_images = {
                i for e in _leaves([edit]) if not isinstance(e, SetDecision) for i in e.image_ids
            }
            touched |= label_images
            before |= _open_keys(index, label_images)
            if label_images:
                reanalyze_images(store, touched, index.set_ids)
        closed = _closed_keys(suspects) if decision == "accepted" else set()
        if not args.quiet:
            verb = "reopened" if decision is None else decision
            print(f"{verb} {len(suspects)} suspect(s)", file=sys.stderr)
            if closed:
                shown = ", ".join(sorted(closed)[:5]) + (", ..." if len(closed) > 5 else "")
                print(
                    f"closed {len(closed)} other suspect(s) of the same objects (rejected: "
                    f"another fix of the object was accepted): {shown}",
                    file=sys.stderr,
                )
            _report_refused(args, refused)
            if isinstance(changed, BulkPlan):
                _report_skipped(args, changed)
            index.reload_images(store, touched)
            decided = {s["key"] for s in suspects} | closed
            _report_reanalysis(len(touched), before - decided, _open_keys(index, touched))
    return 0


def _without_others_claims(
    store: Store, index: SuspectIndex, rows: list[int]
) -> tuple[list[int], dict[str, int]]:
    """The rows no other session holds (another reviewer's claim is theirs to review, as in
    the window), and how many of the rows each other reviewer holds."""
    by_reviewer: dict[str, list[tuple[int, str]]] = {}
    for sid in index.set_ids:
        for key, c in store.claims(sid).items():
            if c["session"] != store.session:  # one's own window is another session too
                who = c["reviewer"] + (" in another session" * (c["reviewer"] == store.reviewer))
                by_reviewer.setdefault(who, []).append((sid, key))
    holder: dict[int, str] = {}
    for who, pairs in by_reviewer.items():
        holder.update((int(p), who) for p in index.positions_of_decisions(pairs))
    held: dict[str, int] = {}
    for r in rows:
        if r in holder:
            held[holder[r]] = held.get(holder[r], 0) + 1
    return [r for r in rows if r not in holder], held


def _decision(args: argparse.Namespace) -> str | None:
    """The decision apply records (None: reopen)."""
    if args.accept:
        return "accepted"
    if args.reject:
        return "rejected"
    if args.flag:
        return "flagged"
    return None


def _plan_decisions(
    args: argparse.Namespace, store: Store, listing: list[dict], decision: str | None
) -> tuple[list[Edit], BulkPlan | list[dict], list[tuple[dict, str]]]:
    """The edits of one apply, the suspects they decide, and the decided ones refused."""
    note = args.note if decision == "flagged" else None
    refused: list[tuple[dict, str]] = []
    if decision == "accepted":  # open, rejected and flagged ones, by the bulk rule
        plan = plan_accepts((s for s in listing if s["status"] != "accepted"), args.top)
        parts = [decide(store, plan.suspects, decision)] if plan.suspects else []
        return parts, plan, refused
    opened = [s for s in listing if s["status"] == "open"] if decision is not None else []
    redo = [s for s in listing if s["status"] != "open"]
    chosen: list[dict] = []
    parts: list[Edit] = []
    if opened:
        opened = opened[: args.top]
        parts.append(decide(store, opened, decision, note))
        chosen += opened
    for s in redo:
        if args.top is not None and len(chosen) >= args.top:
            break
        try:
            edit = redecide(store, s, decision, note)
        except EditError as exc:
            refused.append((s, str(exc)))
            continue
        if edit is not None:
            parts.append(edit)
            chosen.append(s)
    return parts, chosen, refused


def _leaves(edits: list[Edit]) -> list[Edit]:
    """The plain edits inside composites (so one apply is one command in the change log)."""
    out: list[Edit] = []
    for edit in edits:
        out += _leaves(edit.edits) if isinstance(edit, CompositeEdit) else [edit]
    return out


def _report_refused(args: argparse.Namespace, refused: list[tuple[dict, str]]) -> None:
    """Name each decided suspect whose decision could not change, with the reason."""
    if args.quiet or not refused:
        return
    print(f"left {len(refused)} decided suspect(s) as they were:", file=sys.stderr)
    for s, reason in refused:
        print(f"  {describe(s)}: {reason}", file=sys.stderr)


def _closed_keys(suspects: list[dict]) -> set[str]:
    """The keys of the alternatives accepting these suspects closed."""
    taken = {s["key"] for s in suspects}
    return {a["key"] for s in suspects for a in s.get("alternatives", ())} - taken


def _open_alternatives(index: SuspectIndex, pos: int) -> list[dict]:
    """The open suspects of the row's object other than it (accepting it closes them)."""
    return [
        index.row(int(p))
        for p in index.alternatives(pos)
        if STATUSES[int(index.status[p])] == "open"
    ]


def _open_keys(index: SuspectIndex, image_ids: set[int]) -> set[str]:
    """The keys of the open suspects on these images."""
    if not image_ids:
        return set()
    rows = index.query(SuspectFilter(statuses=frozenset({"open"}), image_ids=frozenset(image_ids)))
    return {index.key(int(r)) for r in rows}


def _report_skipped(args: argparse.Namespace, plan: BulkPlan) -> None:
    """Say which listed suspects were skipped and why, and which were taken instead."""
    if args.quiet or not plan.skipped:
        return
    print(
        f"skipped {len(plan.skipped)} listed suspect(s): an earlier fix of this run used their "
        "evidence (they stay open; the re-analysis decides whether they still apply):",
        file=sys.stderr,
    )
    for skipped in plan.skipped:
        print(f"  #{skipped.rank} {describe(skipped.suspect)}: {skipped.reason}", file=sys.stderr)
    if plan.instead:
        print(f"took {len(plan.instead)} more from the listing in their place:", file=sys.stderr)
        for rank, suspect in plan.instead:
            print(f"  #{rank} {describe(suspect)}", file=sys.stderr)


def _report_reanalysis(images: int, before: set[str], after: set[str]) -> None:
    """Say what the re-analysis of the changed images did to the other open suspects."""
    gone, new = sorted(before - after), sorted(after - before)
    if not gone and not new:
        return
    parts = []
    if gone:
        shown = ", ".join(gone[:5]) + (", ..." if len(gone) > 5 else "")
        parts.append(
            f"{len(gone)} open suspect(s) no longer apply (their label or prediction was used "
            f"by these fixes): {shown}"
        )
    if new:
        parts.append(f"{len(new)} new open suspect(s)")
    print(f"re-analysed {images} image(s): " + "; ".join(parts), file=sys.stderr)


def add_commands(
    add: Callable[..., argparse.ArgumentParser],
    project_options: Callable[[argparse.ArgumentParser], None],
) -> None:
    """Register the analysis commands on the CLI's subparsers."""
    p = add("analyze", cmd_analyze, "match predictions to labels and find suspected label errors")
    project_options(p)
    p.add_argument("--iou", type=float, default=0.5, help="match IoU threshold (0.5)")
    p.add_argument("--low-iou", type=float, default=0.1, help="no-overlap threshold (0.1)")
    p.add_argument("--duplicate-iou", type=float, default=0.85, help="duplicate-label IoU (0.85)")
    p.add_argument(
        "--min-score",
        type=float,
        default=0.05,
        help="least probability that raises a missing-label suspect; wrong_class and "
        "inaccurate_label take down to a tenth of it (0.05)",
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
    p.add_argument(
        "--geometry",
        choices=("boxes", "masks"),
        default=None,
        help="compare boxes or masks (default: masks when every prediction set has masks and "
        "the labels have shapes, else boxes)",
    )
    p.add_argument(
        "--scores",
        choices=("per-class", "comparable"),
        default="per-class",
        help="per-class: each class's scores calibrated on their own (default); comparable: "
        "for a detector whose scores mean the same on every class, missing labels ranked by "
        "one curve over all classes (`labelfix report` says whether they look comparable)",
    )
    p.add_argument(
        "--predictions",
        help="prediction set name, several separated by commas (A,B), or all: one analysis of "
        "them together, reviewed by default from then on (default: the sets reviewed now)",
    )

    p = add("matches", cmd_matches, "print every prediction's match (tp / fp / ignored)")
    project_options(p)
    p.add_argument(
        "--format", choices=("json",), default="json", help="json: JSON Lines, one match a line"
    )
    p.add_argument("--predictions", help="prediction set name (default: the active one)")

    p = add("suspects", cmd_suspects, "list suspected label errors, most likely first")
    project_options(p)
    add_filters(p)
    p.add_argument(
        "--format",
        choices=("table", "json", "csv"),
        default="table",
        help="table: one row per object; json (JSON Lines: one object a line), csv: one "
        "record per suspect (each alternative)",
    )
    p.add_argument(
        "--alternatives", action="store_true", help="table: list each object's alternatives"
    )
    p.add_argument(
        "--every-row", action="store_true", help="table: one row per suspect, not per object"
    )

    p = add("apply", cmd_apply, "accept, reject, flag or reopen suspects in bulk")
    project_options(p)
    add_filters(p)
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--accept", action="store_true", help="apply the fixes")
    group.add_argument("--reject", action="store_true", help="mark them not an error")
    group.add_argument("--flag", action="store_true", help="flag them for re-labelling")
    group.add_argument(
        "--reopen",
        action="store_true",
        help="clear their decisions (list them with --status; an accepted fix is reverted)",
    )
    p.add_argument("--note", help="the note of --flag")


def add_filters(p: argparse._ActionsContainer, status_default: str = "open") -> None:
    """The suspect selection options (kind, confidence, score, IoU, class, status, top, claims,
    sets)."""
    p.add_argument("--kind", action="append", choices=KINDS, help="only this kind (repeatable)")
    p.add_argument(
        "--min-confidence",
        type=float,
        help="least raw prediction confidence; replaces the default cut (0: every suspect; "
        "0.75: the confidence cut of earlier versions)",
    )
    p.add_argument(
        "--min-score",
        type=float,
        help="least suspect score (default when listing open suspects only: the analysis's "
        "default cut, from its score distribution; otherwise none)",
    )
    p.add_argument("--min-iou", type=float, default=0.0, help="least IoU (0)")
    p.add_argument("--max-iou", type=float, default=1.0, help="largest IoU (1)")
    p.add_argument(
        "--class", dest="class_name", action="append", help="only this class name (repeatable)"
    )
    p.add_argument(
        "--status",
        action="append",
        choices=("open", "accepted", "rejected", "flagged", "all"),
        help=f"only suspects with this review status (repeatable; default: {status_default}; "
        "all: any)",
    )
    p.add_argument("--top", type=int, help="at most this many (default: all)")
    p.add_argument(
        "--claimed", action="store_true", help="only the suspects you claimed (labelfix claim)"
    )
    p.add_argument("--decided-by", metavar="REVIEWER", help="only suspects this reviewer decided")
    p.add_argument(
        "--predictions",
        help="prediction set name, or several together (A,B or all) as analysed together "
        "(default: the sets reviewed now)",
    )
