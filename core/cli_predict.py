"""``labelfix predict``: run an ONNX model over a project's images into a new prediction set.

Ctrl-C stops after the image being predicted (a second Ctrl-C quits at once): the project is
left as it was, and the same command run again goes on where it stopped.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

from .predict import (
    DEFAULT_CONF,
    DEFAULT_MAX_DETS,
    FAMILIES,
    ClassesError,
    ModelError,
    set_name_for,
)
from .progress import duration
from .project import (
    ModelPlan,
    PredictOptions,
    PredictReport,
    ProjectError,
    analysis_params_for,
    predict,
)

EXIT_CANCELLED = 130
PROBLEMS_SHOWN = 20
SAME_NAMES_SHOWN = 12  # more classes mapped to their own name are counted, not listed


class _Stop:
    """The first Ctrl-C asks the run to stop after the current image; the second interrupts."""

    def __init__(self, say: Callable[[str], None]) -> None:
        self.asked = False
        self.say = say

    def __call__(self) -> bool:
        return self.asked

    def handler(self, signum: int, frame: object) -> None:
        if self.asked:
            raise KeyboardInterrupt
        self.asked = True
        self.say("\nstopping after the current image (Ctrl-C again to quit at once)…")


@contextlib.contextmanager
def _ctrl_c_stops(stop: _Stop) -> Iterator[None]:
    try:
        previous = signal.signal(signal.SIGINT, stop.handler)
    except ValueError:  # not the main thread: Ctrl-C keeps its usual meaning
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def mapping_lines(plan: ModelPlan, categories: dict[int, str]) -> list[str]:
    """The model, its input and the class mapping, as the CLI prints them."""
    info, mapping = plan.info, plan.mapping
    size = info.size_text
    lines = [
        f"model: {info.path.name}: {info.family_title} (detected by {info.detected_by}); "
        f"images fitted to {size}; {'masks and boxes' if info.masks else 'boxes'}",
        f"classes ({info.class_names_from}): {mapping.summary()}",
    ]
    same, other = [], []
    for index, name, category, category_name in mapping.rows(categories):
        if category is None:
            continue
        note = {"synonym": " (synonym)", "chosen": " (chosen)"}.get(mapping.how.get(index, ""), "")
        if name == category_name and not note:
            same.append(name)
        else:
            other.append(f"{name} -> {category_name}{note}")
    pairs = (same if len(same) <= SAME_NAMES_SHOWN else [f"{len(same)} by the same name"]) + other
    lines += textwrap.wrap(
        "mapped: " + ", ".join(pairs), width=100, subsequent_indent="  ", break_on_hyphens=False
    )
    if mapping.unused_categories:
        shown = ", ".join(mapping.unused_categories[:10])
        more = " ..." if len(mapping.unused_categories) > 10 else ""
        lines.append(f"no model class for the categories: {shown}{more}")
    if plan.discarded:
        lines.append(
            f"an unfinished run of this name with another model or options was dropped "
            f"({plan.discarded} images)"
        )
    if plan.resumed:
        lines.append(
            f"resuming: {plan.resumed} of {plan.images} images were predicted by an unfinished run "
            "with the same model and options"
        )
    return lines


def cmd_predict(args: argparse.Namespace) -> int:
    """Run a model over the project's images and store its predictions as a new set."""
    from .cli import ProgressBar, UsageError, open_from, say

    name = set_name_for(args.model) if args.name is None else args.name.strip()
    if not name:
        raise UsageError("--name: give the new prediction set a name")
    if not 0 <= args.conf <= 1 or (args.iou is not None and not 0 <= args.iou <= 1):
        raise UsageError("--conf and --iou must be between 0 and 1")
    if args.max_dets < 1 or (args.imgsz is not None and args.imgsz < 32):
        raise UsageError("--max-dets must be at least 1 and --imgsz at least 32")
    if args.classes and not Path(args.classes).is_file():
        raise UsageError(f"{args.classes}: no such classes file")
    options = PredictOptions(
        family=args.family,
        classes=Path(args.classes) if args.classes else None,
        conf=args.conf,
        iou=args.iou,
        max_dets=args.max_dets,
        imgsz=args.imgsz,
    )
    bar = ProgressBar("predicting", args.quiet, unit="images")
    stop = _Stop(lambda text: say(args, text))
    with open_from(args) as store:
        categories = store.category_names()

        def planned(plan: ModelPlan) -> None:
            for line in mapping_lines(plan, categories):
                say(args, line)

        try:
            with _ctrl_c_stops(stop):
                report = predict(
                    store, Path(args.model), name, options, out=Path(args.out) if args.out else None,
                    activate=not args.inactive, progress=bar, should_stop=stop, on_plan=planned,
                )  # fmt: skip
        except (ModelError, ClassesError) as exc:
            bar.close()
            raise UsageError(str(exc)) from exc
        bar.close()
        _report(args, report)
        if report.cancelled:
            return EXIT_CANCELLED
        if args.analyze:
            from .cli_analysis import analyse_and_report

            params = analysis_params_for(store, name)
            if args.geometry:
                params = replace(params, geometry=args.geometry)
            analyse_and_report(args, store, params, name)
        elif not args.quiet:
            say(args, f"analyse it with: labelfix analyze {args.project} --predictions {name!r}")
    return 0


def _report(args: argparse.Namespace, report: PredictReport) -> None:
    from .cli import say

    if report.problems and not args.quiet:
        print(f"{len(report.problems)} image(s) could not be predicted:", file=sys.stderr)
        for problem in report.problems[:PROBLEMS_SHOWN]:
            print(f"  {problem}", file=sys.stderr)
        if len(report.problems) > PROBLEMS_SHOWN:
            print(f"  ... and {len(report.problems) - PROBLEMS_SHOWN} more", file=sys.stderr)
    done = report.predicted + report.resumed
    if report.cancelled:
        say(
            args,
            f"cancelled: the project is unchanged; {done} of {report.images} images are predicted "
            f"and kept aside. Run the same command again to go on where it stopped.",
        )
        return
    resumed = f" ({report.resumed} from the unfinished run)" if report.resumed else ""
    say(
        args,
        f"added {report.predictions} predictions on {done} images{resumed} as {report.name!r} "
        f"in {duration(report.seconds)} ({report.predicted / max(report.seconds, 1e-9):.1f} "
        f"images/s, {report.seconds_in_model / max(report.seconds, 1e-9):.0%} in the model)",
    )
    if report.out is not None:
        say(args, f"wrote the predictions to {report.out} (COCO results)")


def add_command(
    add: Callable[..., argparse.ArgumentParser],
    project_options: Callable[[argparse.ArgumentParser], None],
) -> None:
    """Register ``predict`` on the CLI's subparsers."""
    p = add(
        "predict",
        cmd_predict,
        "run an ONNX detector or segmenter on the project's images: a new prediction set",
    )
    project_options(p)
    p.add_argument("--model", required=True, help="the model, as an ONNX file")
    p.add_argument(
        "--name",
        help="name of the new prediction set (default: the model file's stem; "
        "the folder's name for model.onnx)",
    )
    p.add_argument(
        "--family",
        help="the model's family when detection guesses wrong: " + ", ".join(FAMILIES),
    )
    p.add_argument(
        "--classes",
        help="the model's class names: one per line in class order, or a JSON list or object",
    )
    p.add_argument(
        "--conf", type=float, default=DEFAULT_CONF, help=f"score threshold ({DEFAULT_CONF})"
    )
    p.add_argument("--iou", type=float, help="NMS IoU (default: the family's own)")
    p.add_argument(
        "--max-dets",
        type=int,
        default=DEFAULT_MAX_DETS,
        help=f"predictions kept per image ({DEFAULT_MAX_DETS})",
    )
    p.add_argument("--imgsz", type=int, help="input size of a model with a free input size (640)")
    p.add_argument("--out", help="also write the predictions as a COCO results JSON")
    p.add_argument("--analyze", action="store_true", help="analyse the new set right away")
    p.add_argument(
        "--geometry",
        choices=("boxes", "masks"),
        help="with --analyze: compare boxes or masks (default: masks when the model gives masks "
        "and the labels have shapes)",
    )
    p.add_argument("--inactive", action="store_true", help="keep the current active set")


__all__ = ["EXIT_CANCELLED", "ProjectError", "add_command", "cmd_predict", "mapping_lines"]
