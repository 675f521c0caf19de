"""The headless ``labelfix`` commands: import, add-predictions, info, export (and the analysis
commands registered by :mod:`labelfix.core.cli_analysis`, the team commands by
:mod:`labelfix.core.cli_team`).

Every command that takes a project takes a project file or a team project's URL
(``postgresql://HOST[:PORT]/DB?project=NAME``, or the URL and ``--project NAME``), with
``--reviewer NAME`` (who the change log names) and ``--images DIR`` (this machine's image folder
for the project, remembered).

Exit codes: 0 success, 2 bad input (a validation report, never a traceback), 1 internal error.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .. import __version__
from . import cli_analysis, cli_predict, cli_relabel, cli_report, cli_team, project, settings
from .coco import CocoError
from .export import ExportError, export_changes, export_coco
from .merge import RelabelError
from .progress import Throughput
from .project import PROJECT_SUFFIX, ProjectError, Store, made_of
from .store import TeamLocation, lock, parse_location

EXIT_OK, EXIT_INTERNAL, EXIT_BAD_INPUT = 0, 1, 2


class UsageError(RuntimeError):
    """Bad command-line input that is not a file problem."""


class ProgressBar:
    """A one-line progress bar on stderr; silent with ``quiet`` or when stderr is not a terminal
    (set LABELFIX_PROGRESS=1 to force it), so logs and pipes get only the report lines."""

    def __init__(self, label: str, quiet: bool = False, unit: str | None = None) -> None:
        self.label = label
        forced = os.environ.get("LABELFIX_PROGRESS") == "1"
        self.quiet = quiet or not (forced or sys.stderr.isatty())
        self._last = 0.0
        self._shown = False
        self._rate = Throughput() if unit else None  # with a unit: per second and time left
        self.unit = unit or ""

    def __call__(self, done: int, total: int) -> None:
        if self._rate is not None:
            self._rate.update(done, total)
        if self.quiet:
            return
        t = time.monotonic()
        if done < total and t - self._last < 0.1:
            return
        self._last = t
        frac = done / total if total else 1.0
        bar = "#" * int(frac * 30)
        counts = f"({done}/{total})" if self._rate is None else self._rate.text(self.unit)
        sys.stderr.write(f"\r{self.label:<24} [{bar:<30}] {frac:6.1%} {counts}\033[K")
        sys.stderr.flush()
        self._shown = True

    def close(self) -> None:
        """End the progress line."""
        if self._shown and not self.quiet:
            sys.stderr.write("\n")
            sys.stderr.flush()


def say(args: argparse.Namespace, message: str) -> None:
    """Print a status line on stderr unless --quiet."""
    if not getattr(args, "quiet", False):
        print(message, file=sys.stderr)


def print_warnings(args: argparse.Namespace, warnings: list, limit: int = 20) -> None:
    """Print up to ``limit`` warnings on stderr (also with --quiet, which hides progress and
    status lines only: a warning is something to act on)."""
    if not warnings:
        return
    print(f"{len(warnings)} warning(s):", file=sys.stderr)
    for w in warnings[:limit]:
        print(f"  warning: {w}", file=sys.stderr)
    if len(warnings) > limit:
        print(f"  ... and {len(warnings) - limit} more (see `labelfix info`)", file=sys.stderr)


def project_options(p: argparse.ArgumentParser) -> None:
    """The project argument and the options every command on a project has."""
    p.add_argument("project", help="a project file (X.labelfix) or a team project's URL")
    p.add_argument(
        "--project",
        dest="team_project",
        metavar="NAME",
        help="the team project's name, when the URL does not say ?project=NAME",
    )
    p.add_argument("--images", metavar="DIR", help="this machine's image folder for the project")


def cli_session(reviewer: str | None) -> str:
    """The session the command line works as: one per reviewer and machine, so claims made by
    one command are this reviewer's in the next (``suspects --claimed``, ``apply --claimed``)."""
    return f"cli:{settings.reviewer_name(reviewer)}@{socket.gethostname()}"


def open_from(args: argparse.Namespace, *, readonly: bool = False) -> Store:
    """Open the project a command names (file or team URL) with its common options; a command
    that writes to a project file open in the app says so (the window does not see it)."""
    store = project.open_project(
        args.project,
        readonly=readonly and args.images is None,
        reviewer=args.reviewer,
        project=args.team_project,
        images=args.images,
        session=cli_session(args.reviewer),
    )
    held = None if readonly or store.is_team else lock.holder(store.location)
    if held is not None:
        print(
            f"labelfix: warning: {held.sentence(store.location)}; its window does not show "
            "this command's changes until the project is opened again there",
            file=sys.stderr,
        )
    return store


# ---------------------------------------------------------------------- commands
def cmd_import(args: argparse.Namespace) -> int:
    """Create a project from COCO labels, an image folder and optional predictions."""
    out = parse_location(args.output, args.team_project)
    if isinstance(out, TeamLocation):
        if not args.overwrite and Store.team_project_exists(out):
            raise ProjectError(f"{out} already exists; choose another name or pass --overwrite")
    elif out.suffix != PROJECT_SUFFIX:
        raise UsageError(f"{out}: a project file ends in {PROJECT_SUFFIX}")
    elif out.exists() and not args.overwrite:
        raise ProjectError(f"{out} already exists; choose another name or pass --overwrite")
    images_dir = Path(args.images) if args.images else None
    if images_dir is not None and images_dir.is_file():
        raise UsageError(
            f"{images_dir} is a file, not a folder: --images takes the folder of the images"
        )
    if images_dir is not None and not images_dir.is_dir():
        raise UsageError(f"{images_dir}: no such image folder")
    t0 = time.perf_counter()
    bar = ProgressBar("importing", args.quiet)
    report = project.import_project(
        out, Path(args.gt), images_dir, Path(args.predictions) if args.predictions else None,
        args.name, progress=bar, deep_image_checks=args.deep_image_checks or None,
    )  # fmt: skip
    bar.close()
    print_warnings(args, report.warnings)
    say(
        args,
        f"imported {report.images} images, {report.labels} labels"
        + (f", {report.predictions} predictions ({report.set_name})" if report.set_name else "")
        + f" into {out} in {time.perf_counter() - t0:.2f} s",
    )
    return EXIT_OK


def cmd_add_predictions(args: argparse.Namespace) -> int:
    """Add a named prediction set to a project (it becomes the active one)."""
    with open_from(args) as store:
        name = args.name or Path(args.predictions).stem
        count, warnings = project.add_predictions(
            store, Path(args.predictions), name, activate=not args.inactive
        )
        print_warnings(args, warnings)
        say(args, f"added {count} predictions as {name!r} to {store.location}")
    return EXIT_OK


def cmd_info(args: argparse.Namespace) -> int:
    """Print a project's counts, prediction sets and import warnings."""
    with open_from(args, readonly=True) as store:
        counts = store.counts()
        print(f"project      {store.location}")
        if store.is_team:
            print(f"team project {store.team.project} (you review as {store.reviewer})")
        print(f"labels file  {store.get_meta('ground_truth_path')}")
        print(f"image folder {store.images_root}")
        for key in ("images", "categories", "labels", "predictions", "changes"):
            print(f"{key:<12} {counts[key]}")
        active = store.active_set_id()
        for s in store.prediction_sets():
            mark = "*" if s["id"] == active else " "
            kind = "boxes+masks" if s["has_segmentation"] else "boxes"
            print(f"predictions {mark} {s['name']}: {s['count']} ({kind}) from {s['source_path']}")
        for run in store.prediction_runs():
            print(
                f"unfinished model run {run['name']!r}: {run['done']} of {run['images']} images "
                f"predicted by {Path(run['settings']['model']).name} (run the same `labelfix "
                "predict` again to go on; it is not a prediction set yet)"
            )
        print(f"edits since last export: {store.get_meta('edits_since_export', 0)}")
        warnings = store.get_meta("warnings", []) or []
        print(f"warnings     {len(warnings)}")
        for w in warnings[: args.warnings]:
            print(f"  warning: {w}")
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    """Write the corrected labels as COCO JSON (and optionally the change log), or with
    ``--for-relabel`` the selected suspects' images as a subset for an editor."""
    if args.for_relabel:
        return cli_relabel.export_subset(args)
    with open_from(args) as store:
        counts = export_coco(store, args.output, overwrite=args.overwrite)
        say(args, f"wrote {counts['labels']} labels on {counts['images']} images to {args.output}")
        if args.changes:
            n = export_changes(store, args.changes)
            say(args, f"wrote {n} change-log entries to {args.changes}")
    return EXIT_OK


# ---------------------------------------------------------------------- parser and main
Command = Callable[[argparse.Namespace], int]
DESKTOP_COMMANDS = {
    "open": "open a project in the desktop app (also: `labelfix X.labelfix`)",
    "demo": "open the bundled demo project in the desktop app",
}


def _desktop_only(args: argparse.Namespace) -> int:
    raise UsageError(f"`{args.command}` opens the desktop app: run it as `labelfix {args.command}`")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every headless command."""
    parser = argparse.ArgumentParser(
        prog="labelfix",
        description="Find and fix label errors in COCO datasets. Without a command (or with "
        "just a project file, `labelfix X.labelfix`) it opens the desktop app.",
    )
    parser.add_argument("--version", action="version", version=f"labelfix {__version__}")
    parser.add_argument(
        "--reviewer",
        dest="reviewer_before",
        metavar="NAME",
        help="who the change log names, for any command (as the command's own --reviewer)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add(name: str, fn: Command, help_: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=help_)
        p.add_argument(
            "--quiet",
            "-q",
            action="store_true",
            help="no progress bar or status lines (warnings still show)",
        )
        if name != "reviewer":  # that command sets the name itself
            p.add_argument(
                "--reviewer",
                help="who the change log names (default: settings, else your user name)",
            )
        p.set_defaults(func=fn)
        return p

    p = add("import", cmd_import, "create a project from COCO labels, images and predictions")
    p.add_argument("--gt", required=True, help="COCO labels JSON")
    p.add_argument("--images", help="image folder (file_name is relative to it)")
    p.add_argument("--predictions", help="COCO results JSON (a model's predictions)")
    p.add_argument("--name", help="name of the prediction set (default: the file's stem)")
    p.add_argument(
        "-o",
        "--output",
        required=True,
        help="the project to create: X.labelfix, or a team project's postgresql:// URL",
    )
    p.add_argument("--project", dest="team_project", metavar="NAME", help="team project name")
    p.add_argument("--overwrite", action="store_true", help="replace an existing project")
    p.add_argument(
        "--deep-image-checks",
        action="store_true",
        help="decode every JPEG (small) to find damaged data, however many images (by default "
        "only up to 20,000 images; above, the header and end-marker checks only)",
    )

    p = add("add-predictions", cmd_add_predictions, "add a prediction set to a project")
    project_options(p)
    p.add_argument("predictions", help="COCO results JSON")
    p.add_argument("--name", help="name of the set (default: the file's stem)")
    p.add_argument("--inactive", action="store_true", help="keep the current active set")

    p = add("info", cmd_info, "print a project's counts and warnings")
    project_options(p)
    p.add_argument("--warnings", type=int, default=20, help="how many warnings to list")

    p = add("export", cmd_export, "write the corrected labels as COCO JSON")
    project_options(p)
    p.add_argument("-o", "--output", required=True, help="the COCO JSON to write")
    p.add_argument("--changes", help="also write the change log (.json or .csv)")
    p.add_argument(
        "--overwrite", action="store_true", help="allow replacing the imported labels file"
    )

    cli_relabel.add_export_options(p)

    cli_analysis.add_commands(add, project_options)
    cli_predict.add_command(add, project_options)
    cli_report.add_commands(add, project_options)
    cli_team.add_commands(add, project_options)
    cli_relabel.add_commands(add, project_options)
    # the desktop commands: `labelfix` (labelfix/cli.py) sends them to the Qt app before this
    # parser is built; they are listed here so that `labelfix --help` shows every command
    for name, help_ in DESKTOP_COMMANDS.items():
        p = sub.add_parser(name, help=help_, description=help_, add_help=False)
        p.set_defaults(func=_desktop_only)
    return parser


@contextmanager
def reviewer_before(args: argparse.Namespace) -> Iterator[None]:
    """``labelfix --reviewer NAME COMMAND`` or ``COMMAND --reviewer NAME``: the command works as
    NAME (the one after it wins), also one without a project (``import``, ``push``, ``pull``)."""
    name = getattr(args, "reviewer", None) or getattr(args, "reviewer_before", None)
    if name is None:
        yield
        return
    if hasattr(args, "reviewer"):
        args.reviewer = name
    old = os.environ.get(settings.REVIEWER_ENV)
    os.environ[settings.REVIEWER_ENV] = name
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(settings.REVIEWER_ENV, None)
        else:
            os.environ[settings.REVIEWER_ENV] = old


def run(argv: list[str] | None = None) -> int:
    """Parse and run one headless command; returns the exit code."""
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else argv
    commands = next(a for a in parser._actions if a.dest == "command").choices
    if argv and argv[0] not in commands and not argv[0].startswith("-") and Path(argv[0]).is_file():
        print(f"labelfix: {argv[0]} is a file, not a command; {made_of(argv[0])}", file=sys.stderr)
        return EXIT_BAD_INPUT
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return EXIT_BAD_INPUT
    try:
        with reviewer_before(args):
            return args.func(args)
    except CocoError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_BAD_INPUT
    except RelabelError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_BAD_INPUT
    except (ProjectError, ExportError, UsageError) as exc:
        print(f"labelfix: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:  # e.g. `labelfix suspects X | head`
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except KeyboardInterrupt:
        print("labelfix: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the last line of defence: one sentence, no traceback
        if os.environ.get("LABELFIX_DEBUG"):
            raise
        print(
            f"labelfix: internal error: {type(exc).__name__}: {exc} (set LABELFIX_DEBUG=1 for details)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    sys.exit(run(argv))
