"""The re-labelling commands of the headless CLI: ``export --for-relabel`` and ``merge``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from . import cli_analysis
from .project import ProjectError, Store, export_for_relabel, merge_relabelled


def _open(args: argparse.Namespace) -> Store:
    from .cli import open_from

    return open_from(args)


def export_subset(args: argparse.Namespace) -> int:
    """Write the selected suspects' images as a COCO subset and a CSV work list beside it
    (flagged suspects unless ``--status`` says otherwise)."""
    if args.changes:
        raise ProjectError("--changes goes with a full export, not --for-relabel")
    args.status = args.status or ["flagged"]
    with _open(args) as store:
        index, rows = cli_analysis.selected(args, store)
        suspects = [index.row(r) for r in rows]
        if not suspects:
            statuses = ", ".join(args.status)
            raise ProjectError(
                f"no suspects to send for re-labelling (status {statuses}); flag some first "
                "(`labelfix apply X --flag --note TEXT`), or choose others with --status"
            )
        done = export_for_relabel(store, suspects, Path(args.output))
    if not args.quiet:
        print(
            f"wrote {done.images} image(s) with {done.labels} labels and {done.suspects} "
            f"suspect(s) to {done.subset}, and the work list to {done.work_list}",
            file=sys.stderr,
        )
        if done.note():
            print(f"note: {done.note()}", file=sys.stderr)
    return 0


def cmd_merge(args: argparse.Namespace) -> int:
    """Replace the labels of a relabelled subset's images (matched by file name, classes by
    name), one logged edit per image, and re-analyse them."""
    with _open(args) as store:
        plan = merge_relabelled(store, Path(args.subset))
    if not args.quiet:
        for warning in plan.warnings:
            print(f"  warning: {warning}", file=sys.stderr)
        print(plan.summary(), file=sys.stderr)
        for change in plan.changes:
            print(f"  {change.edit.description}", file=sys.stderr)
    return 0


def add_commands(
    add: Callable[..., argparse.ArgumentParser],
    project_options: Callable[[argparse.ArgumentParser], None],
) -> None:
    """Register ``merge`` on the CLI's subparsers."""
    p = add("merge", cmd_merge, "merge a relabelled COCO subset back into a project")
    project_options(p)
    p.add_argument("subset", help="the relabelled subset (COCO JSON from CVAT, Label Studio, ...)")


def add_export_options(p: argparse.ArgumentParser) -> None:
    """``export``'s --for-relabel and its selection options."""
    p.add_argument(
        "--for-relabel",
        action="store_true",
        help="write the selected suspects' images as a COCO subset for an editor (CVAT, Label "
        "Studio) and a CSV work list beside it (OUT.csv)",
    )
    group = p.add_argument_group("with --for-relabel: which suspects")
    cli_analysis.add_filters(group, status_default="flagged")
