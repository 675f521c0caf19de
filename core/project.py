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
- :func:`predict`: run an ONNX model over the project's images and store its predictions as a
  named prediction set, the same way (resumable; the set appears whole or not at all).
- :func:`analyze_project`, :func:`import_and_analyze`: analyse a project (open or by location).
- :func:`export_for_relabel`: the chosen suspects' images as a COCO subset and a CSV work list;
  :func:`plan_merge` / :func:`merge_relabelled`: take a relabelled subset back (the desktop
  pushes the planned edit as one undoable command, the CLI applies it here).
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from . import coco_stream, import_parallel, jsonio, settings
from .analyze import (
    AnalysisSummary,
    analysis_params_for,
    analyze,
    reanalyze_images,
    suggested_geometry,
)
from .coco import Problem, read_ground_truth, read_predictions
from .errors import AnalysisParams
from .merge import MergePlan, RelabelError, plan_merge
from .progress import Cancelled, Progress, ShouldStop
from .project_open import Location, open_project
from .project_predict import (
    ModelInspection,
    ModelPlan,
    PredictOptions,
    PredictReport,
    inspect_model,
    predict,
    runner_missing,
)
from .relabel import RelabelExport, export_for_relabel
from .store import (
    PROJECT_SUFFIX,
    ConflictError,
    ConnectionLost,
    DatabaseError,
    ProjectError,
    Store,
    TeamLocation,
    is_team_location,
    made_of,
    parse_location,
)
from .store.location import redact as redact_text
from .store.project import BUILT_PAGE_SIZE
from .store.transfer import copy_project
from .timing import phase

__all__ = [
    "made_of",
    "PROJECT_SUFFIX",
    "AnalysisSummary",
    "Cancelled",
    "ConflictError",
    "ConnectionLost",
    "DatabaseError",
    "ImportReport",
    "MergePlan",
    "ModelInspection",
    "ModelPlan",
    "PredictOptions",
    "PredictReport",
    "ProjectError",
    "RelabelError",
    "RelabelExport",
    "Store",
    "add_predictions",
    "analysis_params_for",
    "analyze_project",
    "export_for_relabel",
    "import_and_analyze",
    "import_project",
    "inspect_model",
    "is_team_location",
    "merge_relabelled",
    "open_project",
    "plan_merge",
    "predict",
    "pull_project",
    "push_project",
    "redact_text",
    "remember_team_images",
    "runner_missing",
    "sets_geometry",
    "suggested_geometry",
    "team_images",
    "team_projects",
    "TeamLocation",
    "parse_location",
]


@dataclass
class ImportReport:
    """What an import read and the warnings it found."""

    images: int
    labels: int
    predictions: int
    set_name: str | None
    warnings: list[Problem]


@contextlib.contextmanager
def new_project(
    out: Path | TeamLocation, *, overwrite: bool = True, page_size: int | None = None
) -> Iterator[Store]:
    """A new project built under ``out.partial`` and renamed to ``out`` when the block ends
    without error; on error (or cancel) the partial file is removed, so a crash or a bad file
    leaves no half project. A team project is built as ``NAME__partial`` and renamed the same
    way (replacing an existing one only with ``overwrite``). ``page_size``: the file's SQLite
    page size (None: SQLite's)."""
    if isinstance(out, TeamLocation):
        with _new_team_project(out, overwrite) as store:
            yield store
        return
    partial = out.with_name(out.name + ".partial")
    store = Store.create(partial, overwrite=True, building=True, page_size=page_size)
    try:
        yield store
    except BaseException:
        store.close()
        _remove(partial)
        raise
    store.close()
    _sync(partial)  # built without syncs: on disk once, complete, before it takes the name
    for suffix in ("-wal", "-shm"):
        Path(str(out) + suffix).unlink(missing_ok=True)
    shutil.rmtree(Path(str(out) + "-cache"), ignore_errors=True)  # the old project's caches
    os.replace(partial, out)
    _sync(out.parent)


def _sync(path: Path) -> None:
    """fsync a file or a folder (the folder: its entry of a renamed file)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems refuse to sync a folder
    finally:
        os.close(fd)


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
    shutil.rmtree(Path(str(path) + "-cache"), ignore_errors=True)


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


def team_images(location: str | TeamLocation) -> Path | None:
    """The image folder this machine remembers for a team project (None: not known yet)."""
    where = parse_location(location)
    assert isinstance(where, TeamLocation), "only a team project's images are remembered"
    return settings.project_images(where.key())


def remember_team_images(location: str | TeamLocation, folder: str | Path) -> None:
    """Remember a team project's image folder on this machine (it must exist)."""
    where = parse_location(location)
    if not isinstance(where, TeamLocation):
        raise ProjectError(f"{location}: only a team project's image folder is remembered")
    if not Path(folder).is_dir():
        raise ProjectError(f"{folder}: no such image folder")
    settings.set_project_images(where.key(), folder)


def import_project(
    out: Path | TeamLocation,
    gt_path: Path,
    images_dir: Path | None,
    predictions_path: Path | None = None,
    name: str | None = None,
    *,
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
    deep_image_checks: bool | None = None,
) -> ImportReport:
    """Validate and import labels (then predictions) into a new project, atomically.

    The labels are freed before the predictions are read, so the peak memory is the larger of
    the two files' rather than their sum. ``progress(done, 100)`` runs over the whole import;
    ``should_stop`` is polled between steps (Cancelled: no file is left).
    ``deep_image_checks``: decode every JPEG to find damaged data (default: up to
    ``image_checks.DEEP_CHECK_IMAGES`` images).
    """
    report = progress or (lambda done, total: None)
    with jsonio.gc_paused():  # millions of small containers: see jsonio
        return _import_project(
            out, gt_path, images_dir, predictions_path, name, report, should_stop,
            deep_image_checks,
        )  # fmt: skip


def _import_project(
    out: Path,
    gt_path: Path,
    images_dir: Path | None,
    predictions_path: Path | None,
    name: str | None,
    report: Progress,
    should_stop: ShouldStop | None,
    deep_image_checks: bool | None = None,
) -> ImportReport:
    def check() -> None:
        if should_stop is not None and should_stop():
            raise Cancelled("import cancelled")

    report(0, 100)
    if isinstance(out, TeamLocation) and images_dir is not None:
        settings.set_project_images(out.key(), images_dir)
        images_dir_for_store = None  # remembered on this machine, not in the project
    else:
        images_dir_for_store = images_dir
    n_preds, set_name = 0, None
    if coco_stream.streamed(gt_path):  # too large to hold whole: chunk by chunk
        with new_project(out) as store:
            with store.atomic():
                n_images, n_labels, warnings = coco_stream.import_ground_truth(
                    store, gt_path, images_dir, images_dir_for_store, should_stop,
                    deep_image_checks,
                )  # fmt: skip
            report(60, 100)
            if predictions_path is not None:
                set_name = name or predictions_path.stem
                n_preds, pred_warnings = add_predictions(
                    store, predictions_path, set_name, should_stop=should_stop
                )
                warnings += pred_warnings
        report(100, 100)
        return ImportReport(n_images, n_labels, n_preds, set_name, warnings)
    # a results file of RLE masks is read in a second process meanwhile (import_parallel)
    ahead = None
    if predictions_path is not None and not coco_stream.streamed(predictions_path):
        ahead = import_parallel.start(predictions_path)
    with ahead or contextlib.nullcontext():
        gt = read_ground_truth(gt_path, images_dir, deep_image_checks=deep_image_checks)
        warnings = list(gt.warnings)
        n_images, n_labels = len(gt.images), len(gt.annotations)
        check()
        report(30, 100)
        with new_project(out, page_size=BUILT_PAGE_SIZE) as store:  # held whole: large pages
            store.import_ground_truth(
                gt,
                images_dir_for_store,
                progress=lambda d, t: report(30 + 30 * d // max(t, 1), 100),
            )
            del gt
            check()
            if predictions_path is not None:
                set_name = name or predictions_path.stem
                n_preds, pred_warnings = add_predictions(
                    store, predictions_path, set_name, should_stop=should_stop, ahead=ahead
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
    ahead: import_parallel.PredictionsAhead | None = None,
) -> tuple[int, list[Problem]]:
    """Validate a COCO results file against the project and store it as a prediction set
    (named after the file unless ``name``); returns its count and warnings. ``ahead``: the
    file being read in a second process (:func:`import_parallel.start`)."""
    with jsonio.gc_paused():  # millions of small containers: see jsonio
        if coco_stream.streamed(path):  # too large to hold whole: chunk by chunk
            return coco_stream.add_predictions(
                store,
                path,
                name or Path(path).stem,
                store.image_sizes(),
                set(store.category_names()),
                activate=activate,
                should_stop=should_stop,
            )
        sizes, category_ids = store.image_sizes(), set(store.category_names())
        preds = None if ahead is None else ahead.take(sizes, category_ids, should_stop)
        if preds is None:  # read here: no second process, or one that cannot vouch for it
            preds = read_predictions(path, sizes, category_ids, boxes_in_records=False)
        if should_stop is not None and should_stop():
            raise Cancelled("import cancelled")
        store.add_predictions(preds, name or Path(path).stem, activate=activate)
        return len(preds.records), list(preds.warnings)


def sets_geometry(store: Store, set_ids: list[int]) -> str:
    """``masks`` when every one of the sets has masks and the labels have shapes to compare
    them with (:func:`suggested_geometry`), else ``boxes``: what an analysis compares when
    nobody says (the app's *New project* and *Analyse*, ``labelfix analyze``)."""
    forms = {suggested_geometry(store, store.prediction_set(i)["name"]) for i in set_ids}
    return "masks" if forms == {"masks"} else "boxes"


def analyze_project(
    project: Store | Location,
    params: AnalysisParams | None = None,
    *,
    set_name: str | None = None,
    set_ids: Sequence[int] | None = None,
    activate: bool = False,
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
) -> AnalysisSummary:
    """Analyse a project (open, or by location on a connection of its own) with a prediction
    set or several together (``set_name``: a name, names separated by commas, ``all``; or
    ``set_ids``; by default the sets reviewed by default); the previous analysis of those sets
    is replaced atomically. The sets become the ones reviewed by default with ``activate``, and
    always when several are named. Without ``params``: the defaults, comparing masks when every
    set has masks and the labels have shapes (:func:`suggested_geometry`)."""
    if not isinstance(project, Store):
        with open_project(project) as store:
            return analyze_project(
                store,
                params,
                set_name=set_name,
                set_ids=set_ids,
                activate=activate,
                progress=progress,
                should_stop=should_stop,
            )
    chosen = project.resolve_sets(set_name) if set_ids is None else sorted(set(set_ids))
    if params is None:  # masks when every set has them and the labels have shapes
        params = AnalysisParams(geometry=sets_geometry(project, chosen))
    summary = analyze(project, chosen, params, progress=progress, should_stop=should_stop)
    named = set_name is not None or set_ids is not None
    if activate or (len(chosen) > 1 and named):
        project.set_active_sets(chosen)
    from . import suspect_cache

    with phase("suspect cache"):
        suspect_cache.cache_after_analysis(project, chosen, sum(summary.suspects.values()))
    return summary


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


# ---------------------------------------------------------------------- re-labelling
def merge_relabelled(store: Store, path: Path) -> MergePlan:
    """Take a relabelled subset back: each changed image's labels replaced (one logged edit per
    image), then those images re-analysed, in one transaction. Raises CocoError / RelabelError
    (nothing written) for a subset that is not valid COCO or does not match the project."""
    plan = plan_merge(store, path)
    edit = plan.edit()
    if edit is not None:
        with store.atomic():  # the labels and their images' new suspects land together
            edit.apply(store)
            reanalyze_images(store, plan.image_ids)
    return plan
