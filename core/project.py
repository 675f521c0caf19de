"""The project service: what both front ends do to a project as a whole, one way.

The CLI (:mod:`labelfix.core.cli`) and the desktop's background jobs (``desktop/jobs.py``) call
these functions, so a project imported or analysed from either is built the same way:

- :func:`open_project`: open a project by its location. Today a ``.labelfix`` path; a team
  store (PostgreSQL, issue 17) will be opened here by URL, choosing its backend.
- :func:`import_project`: validate COCO labels (and predictions) and build a new project,
  atomically: it is written as ``X.labelfix.partial`` and renamed when complete.
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

from .analyze import AnalysisSummary, analyze
from .coco import Problem, read_ground_truth, read_predictions
from .errors import AnalysisParams
from .progress import Cancelled, Progress, ShouldStop
from .store import PROJECT_SUFFIX, DatabaseError, ProjectError, Store

__all__ = [
    "PROJECT_SUFFIX",
    "AnalysisSummary",
    "Cancelled",
    "DatabaseError",
    "ImportReport",
    "ProjectError",
    "Store",
    "add_predictions",
    "analyze_project",
    "import_and_analyze",
    "import_project",
    "open_project",
]


def open_project(location: str | Path, *, readonly: bool = False) -> Store:
    """Open an existing project (raises ProjectError with a sentence a user can act on)."""
    return Store.open(location, readonly=readonly)


@dataclass
class ImportReport:
    """What an import read and the warnings it found."""

    images: int
    labels: int
    predictions: int
    set_name: str | None
    warnings: list[Problem]


@contextlib.contextmanager
def new_project(out: Path) -> Iterator[Store]:
    """A new project built under ``out.partial`` and renamed to ``out`` when the block ends
    without error; on error (or cancel) the partial file is removed, so a crash or a bad file
    leaves no half project."""
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


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)


def import_project(
    out: Path,
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
    gt = read_ground_truth(gt_path, images_dir)
    warnings = list(gt.warnings)
    n_images, n_labels = len(gt.images), len(gt.annotations)
    n_preds, set_name = 0, None
    check()
    report(30, 100)
    with new_project(out) as store:
        store.import_ground_truth(
            gt, images_dir, progress=lambda d, t: report(30 + 30 * d // max(t, 1), 100)
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
    project: Store | Path,
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
    out: Path,
    *,
    name: str | None = None,
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
) -> Path:
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
