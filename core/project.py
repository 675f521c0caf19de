"""The project service: what both front ends do to a project as a whole, one way.

The CLI (:mod:`labelfix.core.cli`) and the desktop's background jobs (``desktop/jobs.py``) call
these functions, so a project imported or analysed from either is built the same way:

- :func:`open_project`: open a project by its location, choosing the backend: a
  ``.labelfix`` path, or a team project's ``postgresql://HOST[:PORT]/DB?project=NAME``.
- :func:`import_project`: validate COCO labels (and predictions) and build a new project,
  atomically: it is written as ``X.labelfix.partial`` (a team project: ``NAME__partial``) and
  renamed when complete.
- :func:`push_project`, :func:`pull_project`: publish a project file as a team project, and
  make a local file of a team project (both atomic the same way).
- :func:`add_predictions`: validate a results file and store it as a named prediction set.
  A model run (issue 13) will add its ``predict`` beside it: run a model, then store its
  predictions the same way.
- :func:`analyze_project`, :func:`import_and_analyze`: analyse a project (open or by location).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from . import settings
from .analyze import AnalysisSummary, analyze
from .coco import Problem, read_ground_truth, read_predictions
from .errors import AnalysisParams
from .progress import Cancelled, Progress, ShouldStop
from .store import (
    PROJECT_SUFFIX,
    ConflictError,
    ConnectionLost,
    DatabaseError,
    ProjectError,
    Store,
    TeamLocation,
    is_team_location,
    parse_location,
)
from .store.transfer import copy_project

__all__ = [
    "PROJECT_SUFFIX",
    "AnalysisSummary",
    "Cancelled",
    "ConflictError",
    "ConnectionLost",
    "DatabaseError",
    "ImportReport",
    "ProjectError",
    "Store",
    "add_predictions",
    "analyze_project",
    "import_and_analyze",
    "import_project",
    "is_team_location",
    "open_project",
    "pull_project",
    "push_project",
]

Location = str | Path | TeamLocation


def open_project(
    location: Location,
    *,
    readonly: bool = False,
    reviewer: str | None = None,
    project: str | None = None,
    images: str | Path | None = None,
    session: str | None = None,
) -> Store:
    """Open an existing project: a project file, or a team project by its ``postgresql://``
    URL (``project`` names it when the URL does not). ``reviewer`` overrides who the change
    log names (default: the settings, else the OS user); ``images`` sets this machine's image
    folder for the project first. Raises ProjectError with a sentence a user can act on."""
    where = parse_location(location, project)
    if images is not None:
        folder = Path(images)
        if not folder.is_dir():
            raise ProjectError(f"{folder}: no such image folder")
        if isinstance(where, TeamLocation):
            settings.set_project_images(where.key(), folder)
    store = Store.open(where, readonly=readonly, reviewer=reviewer, session=session)
    if images is not None and not isinstance(where, TeamLocation) and not readonly:
        with store.atomic():
            store.set_images_root(images)
    return store


@dataclass
class ImportReport:
    """What an import read and the warnings it found."""

    images: int
    labels: int
    predictions: int
    set_name: str | None
    warnings: list[Problem]


@contextlib.contextmanager
def new_project(out: Path | TeamLocation, *, overwrite: bool = True) -> Iterator[Store]:
    """A new project built under ``out.partial`` and renamed to ``out`` when the block ends
    without error; on error (or cancel) the partial file is removed, so a crash or a bad file
    leaves no half project. A team project is built as ``NAME__partial`` and renamed the same
    way (replacing an existing one only with ``overwrite``)."""
    if isinstance(out, TeamLocation):
        with _new_team_project(out, overwrite) as store:
            yield store
        return
    partial = out.with_name(out.name + ".partial")
    store = Store.create(partial, overwrite=True)
    try:
        yield store
    except BaseException:
        store.close()
        _remove(partial)
        raise
    store.close()
    for suffix in ("-wal", "-shm"):
        Path(str(out) + suffix).unlink(missing_ok=True)
    os.replace(partial, out)


@contextlib.contextmanager
def _new_team_project(out: TeamLocation, overwrite: bool) -> Iterator[Store]:
    if not overwrite and Store.team_project_exists(out):
        raise ProjectError(
            f"{out.display()}: team project {out.project!r} already exists; "
            "choose another name or pass --overwrite"
        )
    partial = TeamLocation(out.url, out.project + "__partial")
    store = Store.create(partial, overwrite=True)
    try:
        yield store
    except BaseException:
        store.close()
        Store.drop_team_project(partial)
        raise
    store.publish_as(out.project, overwrite=overwrite)


def _remove(path: Path | TeamLocation) -> None:
    if isinstance(path, TeamLocation):
        Store.drop_team_project(path)
        return
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)


def push_project(
    source: str | Path,
    target: str | TeamLocation,
    *,
    project: str | None = None,
    overwrite: bool = False,
    progress: Progress | None = None,
) -> dict[str, int]:
    """Publish a project file as a team project (atomically: all of it or nothing); this
    machine remembers the file's image folder for it. Returns rows copied per table."""
    where = parse_location(target, project)
    if not isinstance(where, TeamLocation):
        raise ProjectError(f"{target}: push publishes to a postgresql:// URL")
    with open_project(source) as src, new_project(where, overwrite=overwrite) as dst:
        counts = copy_project(src, dst, progress)
        images = src.images_root
    if images is not None:
        settings.set_project_images(where.key(), images)
    return counts


def pull_project(
    source: str | TeamLocation,
    out: str | Path,
    *,
    project: str | None = None,
    images: str | Path | None = None,
    overwrite: bool = False,
    progress: Progress | None = None,
) -> dict[str, int]:
    """Make a local project file of a team project (atomically), with this machine's image
    folder for it (or ``images``). Returns rows copied per table."""
    where = parse_location(source, project)
    if not isinstance(where, TeamLocation):
        raise ProjectError(f"{source}: pull copies a postgresql:// team project")
    out = Path(out)
    if out.suffix != PROJECT_SUFFIX:
        raise ProjectError(f"{out}: a project file ends in {PROJECT_SUFFIX}")
    if out.exists() and not overwrite:
        raise ProjectError(f"{out} already exists; choose another name or pass --overwrite")
    with open_project(where, readonly=True) as src, new_project(out) as dst:
        counts = copy_project(src, dst, progress)
        folder = images if images is not None else src.images_root
        if folder is not None:
            with dst.atomic():
                dst.set_images_root(folder)
    return counts


def team_projects(server: str) -> list[str]:
    """The names of the team projects on a server's database (``postgresql://HOST/DB``)."""
    return Store.team_projects(TeamLocation.parse(server, "labelfix"))


def import_project(
    out: Path | TeamLocation,
    gt_path: Path,
    images_dir: Path | None,
    predictions_path: Path | None = None,
    name: str | None = None,
    *,
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
) -> ImportReport:
    """Validate and import labels (then predictions) into a new project, atomically.

    The labels are freed before the predictions are read, so the peak memory is the larger of
    the two files' rather than their sum. ``progress(done, 100)`` runs over the whole import;
    ``should_stop`` is polled between steps (Cancelled: no file is left).
    """
    report = progress or (lambda done, total: None)

    def check() -> None:
        if should_stop is not None and should_stop():
            raise Cancelled("import cancelled")

    report(0, 100)
    if isinstance(out, TeamLocation) and images_dir is not None:
        settings.set_project_images(out.key(), images_dir)
        images_dir_for_store = None  # remembered on this machine, not in the project
    else:
        images_dir_for_store = images_dir
    gt = read_ground_truth(gt_path, images_dir)
    warnings = list(gt.warnings)
    n_images, n_labels = len(gt.images), len(gt.annotations)
    n_preds, set_name = 0, None
    check()
    report(30, 100)
    with new_project(out) as store:
        store.import_ground_truth(
            gt, images_dir_for_store, progress=lambda d, t: report(30 + 30 * d // max(t, 1), 100)
        )
        del gt
        check()
        if predictions_path is not None:
            set_name = name or predictions_path.stem
            n_preds, pred_warnings = add_predictions(
                store, predictions_path, set_name, should_stop=should_stop
            )
            warnings += pred_warnings
    report(100, 100)
    return ImportReport(n_images, n_labels, n_preds, set_name, warnings)


def add_predictions(
    store: Store,
    path: Path,
    name: str | None = None,
    *,
    activate: bool = True,
    should_stop: ShouldStop | None = None,
) -> tuple[int, list[Problem]]:
    """Validate a COCO results file against the project and store it as a prediction set
    (named after the file unless ``name``); returns its count and warnings."""
    preds = read_predictions(path, store.image_sizes(), set(store.category_names()))
    if should_stop is not None and should_stop():
        raise Cancelled("import cancelled")
    store.add_predictions(preds, name or Path(path).stem, activate=activate)
    return len(preds.records), list(preds.warnings)


def analyze_project(
    project: Store | Location,
    params: AnalysisParams | None = None,
    *,
    set_name: str | None = None,
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
) -> AnalysisSummary:
    """Analyse a project (open, or by location on a connection of its own) with a prediction
    set (the active one by default); the previous analysis is replaced atomically."""
    if not isinstance(project, Store):
        with open_project(project) as store:
            return analyze_project(
                store, params, set_name=set_name, progress=progress, should_stop=should_stop
            )
    set_id = project.resolve_set(set_name)
    return analyze(
        project, set_id, params or AnalysisParams(), progress=progress, should_stop=should_stop
    )


def import_and_analyze(
    labels: Path,
    images: Path | None,
    predictions: Path | None,
    out: Path | TeamLocation,
    *,
    name: str | None = None,
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
) -> Path | TeamLocation:
    """Import the COCO files into a new project at ``out`` and analyse it (when predictions).

    Raises CocoError on invalid input and Cancelled when stopped; either leaves no file.
    """
    report = progress or (lambda done, total: None)
    import_project(
        out,
        labels,
        images,
        predictions,
        name,
        progress=lambda d, t: report(30 * d // max(t, 1), 100),
        should_stop=should_stop,
    )
    if predictions is None:
        report(100, 100)
        return out
    try:
        analyze_project(
            out,
            progress=lambda d, t: report(30 + int(70 * d / max(t, 1)), 100),
            should_stop=should_stop,
        )
    except Cancelled:
        _remove(out)
        raise
    report(100, 100)
    return out
