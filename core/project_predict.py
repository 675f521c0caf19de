"""The project service's model runner: run an ONNX model over a project's images and store
its predictions as a named prediction set (resumable; the set appears whole or not at all),
and see a model against a project before running it.

Re-exported by :mod:`labelfix.core.project`, which the CLI and the desktop's jobs call.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .coco import PredictionFile
from .export import atomic_write
from .predict import (
    DEFAULT_CONF,
    DEFAULT_MAX_DETS,
    ClassesError,
    ClassMapping,
    ImageRef,
    ModelInfo,
    RunProgress,
    family_name,
    load_model,
    map_classes,
    run_model,
)
from .progress import Progress, ShouldStop
from .project_open import Location, open_project
from .store import ProjectError, Store


@dataclass(frozen=True)
class PredictOptions:
    """How to run a model: its family (None: detected), a classes file, a chosen mapping of
    model classes to category ids (None: ignore the class; classes not in it map by name),
    the score threshold, NMS IoU (None: the family's), predictions kept per image, and the
    input size of a model with a free one (None: 640)."""

    family: str | None = None
    classes: Path | None = None
    class_map: dict[int, int | None] | None = None
    conf: float = DEFAULT_CONF
    iou: float | None = None
    max_dets: int = DEFAULT_MAX_DETS
    imgsz: int | None = None

    def as_json(self) -> dict:
        """The options as JSON values (stored with a run, compared on a rerun)."""
        out = asdict(self)
        out["family"] = family_name(self.family) if self.family else None
        out["classes"] = None if self.classes is None else str(Path(self.classes).resolve())
        out["class_map"] = (
            None
            if self.class_map is None
            else [[int(k), v] for k, v in sorted(self.class_map.items())]
        )
        return out


@dataclass
class ModelPlan:
    """What a model run is about to do (told before the first image)."""

    info: ModelInfo
    mapping: ClassMapping
    images: int
    """Images in the project."""
    resumed: int
    """Images an unfinished run with the same model and options already predicted."""
    discarded: int = 0
    """Images of an unfinished run of the same name with another model or options, dropped."""


@dataclass
class PredictReport:
    """The outcome of :func:`predict`."""

    name: str
    set_id: int | None
    """The new prediction set (None when cancelled)."""
    info: ModelInfo
    mapping: ClassMapping
    images: int
    predicted: int
    """Images predicted in this run."""
    resumed: int
    """Images an earlier, unfinished run had predicted."""
    predictions: int = 0
    problems: list[str] = field(default_factory=list)
    """Images that could not be predicted (file and reason); the set has none of theirs."""
    cancelled: bool = False
    seconds: float = 0.0
    """Wall time of the whole run (model loading, images, writing, publishing)."""
    seconds_in_model: float = 0.0
    """Wall time inside the model's ``session.run``."""
    seconds_loading: float = 0.0
    """Wall time opening the model (onnxruntime's session, graph optimisation)."""
    out: Path | None = None
    has_masks: bool = False


@dataclass
class ModelInspection:
    """A model seen against a project, before running it (what the "Run a model" dialog shows)."""

    info: ModelInfo
    mapping: ClassMapping | None
    """None when no model class maps to a category (``mapping_problem`` says so)."""
    mapping_problem: str | None
    categories: dict[int, str]
    set_names: list[str]
    """The project's prediction sets (a new set needs another name)."""
    unfinished: list[dict]
    """Unfinished model runs: name, done, images, settings (model, options)."""
    set_sources: dict[str, str] = field(default_factory=dict)
    """Each prediction set's source (a results file, or the model that made it)."""


def inspect_model(
    project: Store | Location, model: Path, options: PredictOptions | None = None
) -> ModelInspection:
    """The model's family, input size and classes, their mapping to the project's categories,
    and the project's sets and unfinished runs (ModelError when the model cannot be used,
    ClassesError for a bad classes file)."""
    if not isinstance(project, Store):
        with open_project(project, readonly=True) as store:
            return inspect_model(store, model, options)
    options = options or PredictOptions()
    loaded = load_model(
        model, family=options.family, classes=options.classes, imgsz=options.imgsz, threads=1
    )
    categories = project.category_names()
    mapping, problem = None, None
    try:
        mapping = map_classes(
            loaded.info.class_names, categories, chosen=options.class_map, source=Path(model).name
        )
    except ClassesError as exc:
        problem = str(exc)
    return ModelInspection(
        loaded.info,
        mapping,
        problem,
        categories,
        [s["name"] for s in project.prediction_sets()],
        project.prediction_runs(),
        {s["name"]: str(s["source_path"] or "") for s in project.prediction_sets()},
    )


def runner_missing() -> str | None:
    """Why this LabelFix cannot run a model (onnxruntime is not installed), or None."""
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return (
            "Running a model needs onnxruntime, which is not installed here. Install it into "
            "the Python that runs LabelFix (pip install onnxruntime) and start LabelFix again; "
            "the packaged app includes it. Meanwhile a COCO results file made elsewhere can be "
            "added as predictions."
        )
    return None


def _fingerprint(model: Path, options: PredictOptions) -> str:
    """The model file's and the options' SHA-256 (a rerun resumes only when it is the same)."""
    digest = hashlib.sha256()
    try:
        with open(model, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        if options.classes is not None:
            digest.update(Path(options.classes).read_bytes())
    except OSError as exc:
        raise ProjectError(f"{exc.filename}: cannot read ({exc.strerror})") from exc
    settings = options.as_json()
    settings.pop("classes")  # its content counts, not where it is
    digest.update(json.dumps(settings, sort_keys=True).encode())
    return digest.hexdigest()


def predict(
    project: Store | Location,
    model: Path,
    name: str,
    options: PredictOptions | None = None,
    *,
    out: Path | None = None,
    activate: bool = True,
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
    warn: Callable[[str], None] | None = None,
    on_plan: Callable[[ModelPlan], None] | None = None,
    flush_seconds: float = 0.5,
    threads: int | None = None,
) -> PredictReport:
    """Run an ONNX model over the project's images and store its predictions as the new
    prediction set ``name`` (and, with ``out``, as a COCO results JSON).

    Each finished image's records are staged in the project (committed at most
    ``flush_seconds`` apart) and the set is published in one transaction at the end: a
    cancelled or killed run leaves the project's sets and analyses as they were, and a rerun
    with the same model, options and name predicts only the images not staged yet. Prediction
    ids are 1-based positions in image order, then score order, as in a results file.
    ``progress(done, total)`` counts images (a resumed run's start as done); ``on_plan`` hears
    the model, the class mapping and what is resumed before the first image. Cancelling
    returns a report with ``cancelled`` set. Raises ProjectError (no image folder, the name is
    taken, no image could be predicted), ModelError and ClassesError.
    """
    if not isinstance(project, Store):
        with open_project(project) as store:
            return predict(
                store, model, name, options, out=out, activate=activate, progress=progress,
                should_stop=should_stop, warn=warn, on_plan=on_plan,
                flush_seconds=flush_seconds, threads=threads,
            )  # fmt: skip
    store, model, options = project, Path(model), options or PredictOptions()
    start = time.perf_counter()
    if any(s["name"] == name for s in store.prediction_sets()):
        raise ProjectError(
            f"{store.location} already has a prediction set named {name!r}; choose another name"
        )
    root = store.images_root
    if root is None:
        raise ProjectError(
            f"{store.location} has no image folder (it was imported without --images); a model "
            "needs the images"
        )
    loaded = load_model(
        model, family=options.family, classes=options.classes, imgsz=options.imgsz, threads=threads
    )
    loading = time.perf_counter() - start
    categories = store.category_names()
    mapping = map_classes(
        loaded.info.class_names, categories, chosen=options.class_map, source=model.name
    )
    refs = [
        ImageRef(r["id"], root / r["file_name"], r["width"], r["height"]) for r in store.images()
    ]
    fingerprint = _fingerprint(model, options)
    run = store.prediction_run(name)
    discarded = 0
    if run is not None and run["fingerprint"] == fingerprint:
        run_id, done = run["id"], store.staged_image_ids(run["id"])
    else:
        discarded = run["done"] if run is not None else 0
        settings = {
            "model": str(model.resolve()),
            "family": loaded.info.family,
            **options.as_json(),
        }
        run_id, done = store.start_prediction_run(name, fingerprint, settings, len(refs)), set()
    if on_plan is not None:
        on_plan(ModelPlan(loaded.info, mapping, len(refs), len(done), discarded))
    report = progress or (lambda d, t: None)
    report(len(done), len(refs))

    pending: list[tuple[int, list[dict]]] = []
    last_flush = [time.monotonic()]

    def flush() -> None:
        if pending:
            store.stage_predictions(run_id, pending)
            pending.clear()
        last_flush[0] = time.monotonic()

    def sink(image_id: int, records: list[dict]) -> None:
        pending.append((image_id, records))
        if time.monotonic() - last_flush[0] >= flush_seconds:
            flush()

    def ticked(p: RunProgress) -> None:
        report(len(done) + p.done, len(refs))

    try:
        summary = run_model(
            loaded, refs, categories=categories, class_map=options.class_map, conf=options.conf,
            iou=options.iou, max_dets=options.max_dets, done_ids=done, sink=sink,
            progress=ticked, should_stop=should_stop, warn=warn,
        )  # fmt: skip
    finally:
        flush()  # what finished stays finished, whatever stopped the run
    result = PredictReport(
        name, None, loaded.info, mapping, len(refs), summary.images, len(done),
        problems=list(summary.problems), cancelled=summary.cancelled,
        seconds_in_model=summary.seconds_in_model, seconds_loading=loading,
        has_masks=loaded.info.masks,
    )  # fmt: skip
    if summary.cancelled:
        result.seconds = time.perf_counter() - start
        return result
    records = [r for _, image_records in store.staged_predictions(run_id) for r in image_records]
    finished = summary.images + len(done)
    if not finished:
        store.discard_prediction_run(run_id)
        first = summary.problems[0] if summary.problems else "no image"
        raise ProjectError(
            f"{model.name} predicted none of the {len(refs)} images of {store.location} ({first})"
        )
    if out is not None:
        with atomic_write(out) as fh:
            json.dump(records, fh, separators=(",", ":"))
        result.out = Path(out)
    has_segmentation = bool(records) and all("segmentation" in r for r in records)
    problems = [f"{model.name}: {p}" for p in summary.problems]
    pf = PredictionFile(model, records, has_segmentation, problems)  # type: ignore[arg-type]
    result.set_id = store.publish_prediction_run(run_id, pf, name, activate=activate)
    result.predictions = len(records)
    result.seconds = time.perf_counter() - start
    return result
