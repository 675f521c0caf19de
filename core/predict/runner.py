"""Run an ONNX model over a project's images and hand back COCO result records image by image.

Decoding and preprocessing of the next images run in a small thread pool, and postprocessing
(NMS, masks, RLE) in another thread, so ``session.run`` follows ``session.run``. Each finished
image's records go to `sink(image_id, records)` on the caller's thread, in image order
(an image with no prediction gives ``[]``), so a caller can persist per image and pass the
finished ids as `done_ids` on a rerun. An unreadable image is reported (file named) and skipped;
`should_stop()` is checked between images.
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ..images import load_image
from ..progress import ShouldStop
from .classes import ClassMapping, map_classes
from .detections import Detections, ModelError, Prepared, Settings
from .model import DEFAULT_IOU, LoadedModel, ModelInfo, load_model
from .records import coco_records

DEFAULT_CONF = 0.001
"""Score threshold: as low as COCO evaluation runs use, so weak evidence reaches the analysis."""
DEFAULT_MAX_DETS = 100
"""Predictions kept per image (COCO's maxDets)."""


@dataclass(frozen=True)
class ImageRef:
    """A project image: id, file, and the size its labels are drawn on."""

    id: int
    path: str | os.PathLike[str]
    width: int
    height: int


@dataclass(frozen=True)
class RunProgress:
    """Where a run is: images done (read or skipped) of the total, speed, time left."""

    done: int
    total: int
    images_per_s: float
    seconds_left: float | None

    def __str__(self) -> str:
        left = "" if self.seconds_left is None else f", {self.seconds_left:.0f} s left"
        return f"{self.done}/{self.total} images, {self.images_per_s:.1f} images/s{left}"


@dataclass
class RunSummary:
    """The outcome of a run."""

    model: ModelInfo
    mapping: ClassMapping
    settings: Settings
    images: int = 0
    """Images predicted in this run."""
    already_done: int = 0
    """Images skipped because `done_ids` had them."""
    predictions: int = 0
    problems: list[str] = field(default_factory=list)
    """Images that could not be predicted (file and reason); they are not finished."""
    cancelled: bool = False
    seconds: float = 0.0
    seconds_in_model: float = 0.0
    """Wall time inside ``session.run``."""


Sink = Callable[[int, list[dict]], None]


def inspect_model(
    model: str | os.PathLike[str],
    *,
    family: str | None = None,
    classes: str | os.PathLike[str] | None = None,
    imgsz: int | tuple[int, int] | None = None,
    categories: Mapping[int, str] | None = None,
    class_map: Mapping[int, int | None] | None = None,
) -> tuple[ModelInfo, ClassMapping | None]:
    """The model's family, input size and classes, and their mapping to `categories` if given.

    Raises ModelError (bad model) or ClassesError (bad classes file, nothing maps).
    """
    loaded = load_model(model, family=family, classes=classes, imgsz=imgsz)
    mapping = None
    if categories is not None:
        mapping = map_classes(
            loaded.info.class_names, categories, chosen=class_map, source=loaded.info.path.name
        )
    return loaded.info, mapping


def run_model(
    model: str | os.PathLike[str] | LoadedModel,
    images: Iterable[ImageRef],
    *,
    categories: Mapping[int, str],
    family: str | None = None,
    classes: str | os.PathLike[str] | None = None,
    class_map: Mapping[int, int | None] | None = None,
    conf: float = DEFAULT_CONF,
    iou: float | None = None,
    max_dets: int = DEFAULT_MAX_DETS,
    imgsz: int | tuple[int, int] | None = None,
    agnostic: bool | None = None,
    done_ids: Iterable[int] = frozenset(),
    sink: Sink | None = None,
    progress: Callable[[RunProgress], None] | None = None,
    should_stop: ShouldStop | None = None,
    warn: Callable[[str], None] | None = None,
    threads: int | None = None,
    prefetch: int = 3,
) -> RunSummary:
    """Predict every image not in `done_ids`; each image's COCO records go to `sink`.

    `model` is a file, or a model :func:`load_model` already opened (then `family`, `classes`,
    `imgsz` and `threads` were given there).
    `iou` and `agnostic` default to the family's reference (Ultralytics 0.7, YOLOv5 and YOLOX
    0.45; class-agnostic NMS for YOLOX only). `class_map` overrides the by-name mapping
    (model class index -> category id, or None to drop the class). A run stopped by
    `should_stop()` returns with ``cancelled`` set (the images already sunk are finished; a rerun
    with them in `done_ids` goes on) rather than raising ``Cancelled``.
    """
    if not 0 <= conf <= 1 or (iou is not None and not 0 <= iou <= 1) or max_dets < 1:
        raise ValueError("conf and iou must be within 0..1 and max_dets at least 1")
    loaded = (
        model
        if isinstance(model, LoadedModel)
        else load_model(model, family=family, classes=classes, imgsz=imgsz, threads=threads)
    )
    info = loaded.info
    mapping = map_classes(info.class_names, categories, chosen=class_map, source=info.path.name)
    settings = Settings(
        conf=conf,
        iou=DEFAULT_IOU.get(info.family, 0.7) if iou is None else iou,
        max_dets=max_dets,
        agnostic=(info.family == "yolox") if agnostic is None else agnostic,
    )
    summary = RunSummary(info, mapping, settings)
    done = set(done_ids)
    every = list(images)
    todo = [im for im in every if im.id not in done]
    summary.already_done = len(every) - len(todo)
    pipeline = _Pipeline(loaded, mapping, settings, summary, prefetch)
    pipeline.sink, pipeline.progress = sink, progress
    pipeline.should_stop, pipeline.warn = should_stop, warn
    pipeline.run(todo)
    return summary


class _Pipeline:
    """Decode ahead, run the model, postprocess behind, sink in order."""

    sink: Sink | None = None
    progress: Callable[[RunProgress], None] | None = None
    should_stop: ShouldStop | None = None
    warn: Callable[[str], None] | None = None

    def __init__(
        self,
        loaded: LoadedModel,
        mapping: ClassMapping,
        settings: Settings,
        summary: RunSummary,
        prefetch: int,
    ) -> None:
        self.loaded, self.mapping, self.settings, self.summary = loaded, mapping, settings, summary
        self.prefetch = max(1, prefetch)
        self.input_name = loaded.info.input_name
        self.finished = 0

    def run(self, todo: list[ImageRef]) -> None:
        """Predict the images in order, sinking each as it is done."""
        start = time.perf_counter()
        self.start, self.total = start, len(todo)
        loader = ThreadPoolExecutor(max_workers=2, thread_name_prefix="labelfix-decode")
        post = ThreadPoolExecutor(max_workers=1, thread_name_prefix="labelfix-post")
        ahead: deque[Future] = deque()
        behind: deque[tuple[ImageRef, Future]] = deque()
        queue = iter(todo)
        try:
            for ref in queue:
                ahead.append(loader.submit(self._prepare, ref))
                if len(ahead) >= self.prefetch:
                    break
            while ahead:
                if self.should_stop is not None and self.should_stop():
                    self.summary.cancelled = True
                    break
                ref, prepared, note = ahead.popleft().result()
                nxt = next(queue, None)
                if nxt is not None:
                    ahead.append(loader.submit(self._prepare, nxt))
                if prepared is None:
                    self._problem(note)
                    continue
                if note:
                    self._warn(note)
                t0 = time.perf_counter()
                try:
                    feed = {self.input_name: prepared.tensor, **prepared.feeds}
                    outputs = self.loaded.session.run(None, feed)
                except Exception as exc:  # noqa: BLE001 - onnxruntime's own error types
                    reason = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else exc
                    self._problem(
                        f"image {ref.id} ({Path(ref.path).name}): the model failed ({reason})"
                    )
                    continue
                finally:
                    self.summary.seconds_in_model += time.perf_counter() - t0
                behind.append((ref, post.submit(self._decode, ref, outputs, prepared)))
                while behind and (behind[0][1].done() or len(behind) > 2):
                    self._finish(*behind.popleft())
            while behind:
                self._finish(*behind.popleft())
        finally:
            for future in ahead:
                future.cancel()
            loader.shutdown(wait=True, cancel_futures=True)
            post.shutdown(wait=True)
            self.summary.seconds = time.perf_counter() - start

    def _prepare(self, ref: ImageRef) -> tuple[ImageRef, Prepared | None, str | None]:
        rgb, note = load_image(ref.path)
        if rgb is None:
            return ref, None, f"image {ref.id}: {note}"
        height, width = rgb.shape[:2]
        if (width, height) != (int(ref.width), int(ref.height)):
            return (
                ref,
                None,
                (
                    f"image {ref.id}: {Path(ref.path)} is {width}x{height} pixels but its labels are "
                    f"for {ref.width}x{ref.height}; skipped"
                ),
            )
        try:
            prepared = self.loaded.family.prepare(rgb)
        except Exception as exc:  # noqa: BLE001 - one image never stops the run
            return ref, None, f"image {ref.id} ({Path(ref.path).name}): {exc}"
        return ref, prepared, None if note is None else f"image {ref.id}: {note}"

    def _decode(self, ref: ImageRef, outputs: list, prepared: Prepared) -> list[dict] | str:
        try:
            detections: Detections = self.loaded.family.decode(outputs, prepared, self.settings)
        except Exception as exc:  # noqa: BLE001 - one image never stops the run
            name = Path(ref.path).name
            return f"image {ref.id} ({name}): cannot read the model's output ({exc})"
        return coco_records(ref.id, detections, self.mapping)

    def _finish(self, ref: ImageRef, future: Future) -> None:
        result = future.result()
        if isinstance(result, str):
            self._problem(result)
            return
        self.summary.images += 1
        self.summary.predictions += len(result)
        if self.sink is not None:
            self.sink(ref.id, result)
        self._tick()

    def _problem(self, message: str | None) -> None:
        self.summary.problems.append(message or "unknown problem")
        self._warn(message or "unknown problem")
        self._tick()

    def _warn(self, message: str) -> None:
        if self.warn is not None:
            self.warn(message)

    def _tick(self) -> None:
        self.finished += 1
        if self.progress is None:
            return
        elapsed = time.perf_counter() - self.start
        rate = self.finished / elapsed if elapsed > 0 else 0.0
        left = (self.total - self.finished) / rate if rate > 0 else None
        self.progress(RunProgress(self.finished, self.total, rate, left))


__all__ = [
    "DEFAULT_CONF",
    "DEFAULT_MAX_DETS",
    "ImageRef",
    "ModelError",
    "RunProgress",
    "RunSummary",
    "inspect_model",
    "run_model",
]
