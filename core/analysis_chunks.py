"""The analysis's inputs and their chunks: :class:`AnalysisInputs` (what
:func:`labelfix.core.analyze.read_inputs` reads from the store at once) cut into chunks of
:data:`CHUNK` images, each as one :class:`~.matching.Batch` straight from the input columns
and, when asked for (masks: always, they carry the RLEs), as per-image label and prediction
items. Masks come from the project's mask cache where their revision is cached; the others are
encoded here and handed to the write step as new cache rows. Pure functions over the inputs:
no store access, no Qt.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from . import geometry, jsonio
from .calibration import RankReference
from .errors import AnalysisParams
from .in_thread import InThread
from .matching import Batch, ImageLabels, ImagePredictions, make_batch
from .store.masks import LABELS_OWNER, predictions_owner

CHUNK = 500  # images per matching step (between progress reports and cancel checks)


@dataclass
class AnalysisInputs:
    """Everything an analysis computes from, read from the store in one step.

    ``labels`` are the store's label columns (``dataset.LABEL_COLUMNS``, sorted by image then
    file order; ``area`` filled with w*h where a label has none), ``predictions`` the set's
    columns on these images (sorted by image then id). For masks: image sizes, segmentations as
    JSON text and the masks already cached in the project.
    """

    set_id: int
    params: AnalysisParams
    image_ids: list[int]
    labels: np.ndarray
    predictions: dict[str, np.ndarray]
    start_change: int = 0
    # a re-analysis: the fit its analysis stored (JSON) and the whole set's classes and scores
    # (the reference of its calibration); None for a full analysis, which fits anew
    fit: dict | None = None
    set_categories: np.ndarray | None = None
    set_scores: np.ndarray | None = None
    sizes: dict[int, tuple[int, int]] = field(default_factory=dict)
    label_segmentations: list[str | None] | None = None
    prediction_segmentations: dict[int, str] = field(default_factory=dict)
    prediction_rle_counts: dict[int, bytes] = field(default_factory=dict)  # kept as columns
    cached_label_masks: dict[int, tuple] = field(default_factory=dict)
    cached_prediction_masks: dict[int, tuple] = field(default_factory=dict)
    # a full analysis's calibration reference (calibration.RankReference of the predictions'
    # own classes and scores), sorted in a thread while the labels are read (None: not asked)
    reference: InThread[RankReference] | None = None


class ChunkInput:
    """The labels and predictions of a chunk of images, per image (``items``), and the
    mask-cache rows of the masks encoded for it; unless it has no images also as one
    :class:`~.matching.Batch` (``batch``; for boxes the items are then made only when asked
    for, for masks they carry the RLEs)."""

    def __init__(
        self,
        image_ids: list[int],
        items: list[tuple[ImagePredictions, ImageLabels]] | None,
        new_masks: list[tuple],
        batch: Batch | None = None,
        make_items: Callable[[], list[tuple[ImagePredictions, ImageLabels]]] | None = None,
    ) -> None:
        self.image_ids = image_ids
        self._items = items
        self.new_masks = new_masks
        self.batch = batch
        self._make_items = make_items

    @property
    def items(self) -> list[tuple[ImagePredictions, ImageLabels]]:
        if self._items is None:
            assert self._make_items is not None
            self._items = self._make_items()
        return self._items


def chunks(inputs: AnalysisInputs, size: int = CHUNK) -> Iterator[ChunkInput]:
    """The inputs as chunks of ``size`` images in image order (every image, maybe empty)."""
    for start in range(0, len(inputs.image_ids), size):
        yield chunk_at(inputs, start, size)


def chunk_at(inputs: AnalysisInputs, start: int, size: int = CHUNK) -> ChunkInput:
    """The chunk of ``size`` images from the ``start``-th image on (as :func:`chunks` cuts)."""
    lab, pred = inputs.labels, inputs.predictions
    lab_image = lab[:, 1].astype(np.int64)
    ids = inputs.image_ids[start : start + size]
    ids_arr = np.asarray(ids, dtype=np.int64)
    l_lo, l_hi = (
        np.searchsorted(lab_image, ids_arr),
        np.searchsorted(lab_image, ids_arr, "right"),
    )
    p_lo = np.searchsorted(pred["image_id"], ids_arr)
    p_hi = np.searchsorted(pred["image_id"], ids_arr, "right")

    def items(new_masks: list[tuple]) -> list[tuple[ImagePredictions, ImageLabels]]:
        out = []
        for k, image_id in enumerate(ids):
            labels = _labels(inputs, int(l_lo[k]), int(l_hi[k]), image_id, new_masks)
            preds = _predictions(inputs, int(p_lo[k]), int(p_hi[k]), image_id, new_masks)
            out.append((preds, labels))
        return out

    if not ids:
        return ChunkInput(ids, [], [])
    batch = _batch(inputs, l_lo, l_hi, p_lo, p_hi)
    if inputs.params.geometry == "masks":  # the items carry the RLEs
        new_masks: list[tuple] = []
        return ChunkInput(ids, items(new_masks), new_masks, batch)
    return ChunkInput(ids, None, [], batch, lambda: items([]))


def _ranges(lo: np.ndarray, hi: np.ndarray) -> slice | np.ndarray:
    """The rows ``lo[k]..hi[k]`` of every k, in order: a slice when they follow each other."""
    if np.array_equal(lo[1:], hi[:-1]):
        return slice(int(lo[0]), int(hi[-1]))
    n = hi - lo
    return np.arange(int(n.sum())) + np.repeat(lo - (np.cumsum(n) - n), n)


def _batch(
    inputs: AnalysisInputs, l_lo: np.ndarray, l_hi: np.ndarray, p_lo: np.ndarray, p_hi: np.ndarray
) -> Batch:
    """The chunk's :class:`~.matching.Batch` straight from the input columns: the same arrays
    as the per-image items concatenated."""
    block = inputs.labels[_ranges(l_lo, l_hi)]
    rows = _ranges(p_lo, p_hi)
    pred = inputs.predictions
    return make_batch(
        p_hi - p_lo,
        l_hi - l_lo,
        pred["id"][rows],
        pred["category_id"][rows],
        pred["score"][rows],
        pred["box"][rows],
        block[:, 0].astype(np.int64),
        block[:, 2].astype(np.int64),
        np.ascontiguousarray(block[:, 3:7]),
        block[:, 7].astype(bool),
        block[:, 8],
    )


def _labels(inputs: AnalysisInputs, s: int, e: int, image_id: int, new: list) -> ImageLabels:
    block = inputs.labels[s:e]
    rles = None
    if inputs.params.geometry == "masks":
        rles = _label_rles(inputs, s, e, image_id, new)
    return ImageLabels(
        ids=block[:, 0].astype(np.int64),
        category_ids=block[:, 2].astype(np.int64),
        boxes=np.ascontiguousarray(block[:, 3:7]),
        iscrowd=block[:, 7].astype(bool),
        areas=block[:, 8].copy(),
        rles=rles,
    )


def _label_rles(inputs: AnalysisInputs, s: int, e: int, image_id: int, new: list) -> list[dict]:
    """The RLEs of the labels ``s:e`` (one image): from the mask cache where their revision is
    cached, the others encoded together (geometry.to_rles) and added to ``new``."""
    block = inputs.labels[s:e]
    ann_ids, revisions = block[:, 0].astype(np.int64).tolist(), block[:, 9].astype(np.int64)
    rles: list[dict | None] = []
    todo: list[int] = []
    for k, (ann_id, revision) in enumerate(zip(ann_ids, revisions.tolist(), strict=True)):
        hit = inputs.cached_label_masks.get(ann_id)
        if hit is not None and hit[0] == revision:
            rles.append({"size": [hit[1], hit[2]], "counts": hit[3]})
        else:
            rles.append(None)
            todo.append(k)
    if todo:
        segs = inputs.label_segmentations or []
        height, width = inputs.sizes[image_id]
        texts = [segs[s + k] for k in todo]
        encoded = geometry.to_rles(
            [None if t is None else jsonio.decode(t) for t in texts],
            height,
            width,
            block[todo, 3:7].tolist(),
        )
        for k, rle in zip(todo, encoded, strict=True):
            rles[k] = rle
            new.append((LABELS_OWNER, ann_ids[k], int(revisions[k]), height, width, rle["counts"]))
    return rles  # type: ignore[return-value]  # every slot filled


def _predictions(
    inputs: AnalysisInputs, s: int, e: int, image_id: int, new: list
) -> ImagePredictions:
    arr = inputs.predictions
    rles = None
    if inputs.params.geometry == "masks":
        height, width = inputs.sizes[image_id] if e > s else (0, 0)
        ids = arr["id"][s:e].tolist()
        counts = [inputs.prediction_rle_counts.get(pid) for pid in ids]
        if None not in counts:  # all kept as columns: nothing to encode, nothing to cache
            rles = [{"size": [height, width], "counts": c} for c in counts]
        else:
            boxes = arr["box"][s:e].tolist()
            rles = [
                {"size": [height, width], "counts": c}
                if c is not None
                else _prediction_rle(inputs, pid, box, height, width, new)
                for pid, box, c in zip(ids, boxes, counts, strict=True)
            ]
    return ImagePredictions(
        ids=arr["id"][s:e],
        category_ids=arr["category_id"][s:e],
        scores=arr["score"][s:e],
        boxes=arr["box"][s:e],
        rles=rles,
    )


def _prediction_rle(
    inputs: AnalysisInputs, pid: int, box: list[float], height: int, width: int, new: list
) -> dict:
    """The RLE of a prediction not kept as RLE columns: from the mask cache, else encoded from
    its segmentation's JSON text (or, without one, its box) and added to ``new``."""
    hit = inputs.cached_prediction_masks.get(pid)
    if hit is not None:
        return {"size": [hit[1], hit[2]], "counts": hit[3]}
    seg = inputs.prediction_segmentations.get(pid)
    rle = geometry.to_rle(None if seg is None else jsonio.decode(seg), height, width, box=box)
    counts = rle["counts"]
    counts = counts if isinstance(counts, bytes) else counts.encode()
    new.append((predictions_owner(inputs.set_id), pid, 0, height, width, counts))
    return {"size": [height, width], "counts": counts}
