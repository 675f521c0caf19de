"""Prediction <-> label matching with exact pycocotools ``COCOeval`` semantics.

Domain words used here and by the analysis:

- *label*: a ground-truth annotation of the dataset (``ImageLabels``).
- *prediction*: a detector output with a score (``ImagePredictions``).
- *match outcome* of a prediction at one IoU threshold:
  ``TP`` (matched to a regular label), ``FP`` (matched to nothing) or ``IGNORED`` (beyond
  ``max_dets`` for its image+category, or matched to an ignored label: a crowd label or one whose
  ``area`` is outside the area range).

``match_image`` reproduces ``COCOeval.evaluateImg`` (useCats=1, areaRng 'all', one IoU threshold)
exactly, including its tie rules: predictions in stable descending-score order per image+category,
only the first ``max_dets`` kept; labels with regular ones first; each prediction takes the label
with the highest IoU >= ``min(threshold, 1 - 1e-10)`` among the still unmatched ones (crowd labels
stay available), a later label with an equal IoU wins, and ignored labels are only considered when
no regular label qualifies. One known difference: pycocotools treats a label with id 0 as "no match"
(``dtMatches == 0``); here id 0 is an ordinary id.

Speed: each image's cross-class IoU matrix is computed once in numpy (boxes: one vectorised pass
over all images of a batch); only the (prediction, label) pairs with IoU >= threshold and the same
category go through the sequential greedy assignment, in one flat Python loop.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np
from pycocotools import mask as mask_utils

from . import key_sort

TP, FP, IGNORED = 1, 0, 2
AREA_ALL = (0.0, 1e10)  # pycocotools areaRng 'all'
RECALL_THRESHOLDS = np.linspace(0.0, 1.00, int(np.round((1.00 - 0.0) / 0.01)) + 1, endpoint=True)
GEOMETRIES = ("boxes", "masks")


@dataclass
class ImageLabels:
    """One image's ground-truth labels (all categories)."""

    ids: np.ndarray  # int64 (n,)
    category_ids: np.ndarray  # int64 (n,)
    boxes: np.ndarray  # float64 (n, 4) COCO xywh
    iscrowd: np.ndarray  # bool (n,)
    areas: np.ndarray  # float64 (n,) the annotation's 'area' field
    rles: list[dict] | None = None  # compressed pycocotools RLEs, for geometry="masks"

    def __len__(self) -> int:
        return len(self.ids)


@dataclass
class ImagePredictions:
    """One image's predictions (all categories)."""

    ids: np.ndarray  # int64 (m,)
    category_ids: np.ndarray  # int64 (m,)
    scores: np.ndarray  # float64 (m,)
    boxes: np.ndarray  # float64 (m, 4) COCO xywh
    rles: list[dict] | None = None  # compressed pycocotools RLEs, for geometry="masks"

    def __len__(self) -> int:
        return len(self.ids)


@dataclass
class ImageMatches:
    """The match of each prediction of one image at one IoU threshold."""

    outcome: np.ndarray  # int8 (m,) TP / FP / IGNORED
    annotation_id: np.ndarray  # int64 (m,) matched label id, -1 if none
    iou: np.ndarray  # float64 (m,) IoU of that match, nan if none
    ious: np.ndarray  # float64 (m, n) the cross-class IoU matrix used


# ---------------------------------------------------------------------------------------------
# IoU


def _corners(boxes: np.ndarray) -> np.ndarray:
    """xywh boxes as (k, 5) rows x, y, w + x, h + y, w * h (the terms pycocotools' bbIou uses)."""
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    x, y, w, h = b[:, 0], b[:, 1], b[:, 2], b[:, 3]
    return np.stack([x, y, w + x, h + y, w * h], axis=1)


def _corner_iou(d: np.ndarray, g: np.ndarray, crowd: np.ndarray) -> np.ndarray:
    """IoU of ``_corners`` rows ``d`` and ``g`` (broadcasting), bit-identical to pycocotools' bbIou."""
    w = np.minimum(d[..., 2], g[..., 2]) - np.maximum(d[..., 0], g[..., 0])
    h = np.minimum(d[..., 3], g[..., 3]) - np.maximum(d[..., 1], g[..., 1])
    inter = w * h
    union = np.where(crowd, d[..., 4], d[..., 4] + g[..., 4] - inter)
    overlap = (w > 0) & (h > 0)  # then both boxes have positive area, so union > 0
    out = np.zeros(inter.shape)
    np.divide(inter, union, out=out, where=overlap)
    return out


def _mask_iou(preds: ImagePredictions, labels: ImageLabels) -> np.ndarray:
    """Cross-class mask IoU through pycocotools (crowd: intersection / prediction area)."""
    if len(preds) == 0 or len(labels) == 0:
        return np.zeros((len(preds), len(labels)))
    if preds.rles is None or labels.rles is None:
        raise ValueError('geometry="masks" needs rles on both predictions and labels')
    crowd = [int(c) for c in labels.iscrowd]
    return np.asarray(mask_utils.iou(preds.rles, labels.rles, crowd), dtype=np.float64)


def mask_ious(
    preds: ImagePredictions, labels: ImageLabels
) -> tuple[np.ndarray, np.ndarray | None]:
    """One image's cross-class mask IoU matrix (as :func:`iou_matrix` gives it) and its
    label-label one (plain IoU, no crowd rule; None below two labels).

    Without crowd labels both come from one pycocotools call (the predictions' and the labels'
    RLEs against the labels': each pair's IoU is computed on its own, so the same values as two
    calls, for one decoding of the labels' RLEs and one call's overhead less); with a crowd label
    the label-label matrix needs its own call (pycocotools' crowd rule is per column)."""
    m, n = len(preds), len(labels)
    if n < 2 or bool(np.any(labels.iscrowd)) or m == 0:
        own = None
        if n >= 2:
            if labels.rles is None:
                raise ValueError('geometry="masks" needs rles on the labels')
            own = np.asarray(mask_utils.iou(labels.rles, labels.rles, [0] * n), np.float64)
        return _mask_iou(preds, labels), own
    if preds.rles is None or labels.rles is None:
        raise ValueError('geometry="masks" needs rles on both predictions and labels')
    both = np.asarray(mask_utils.iou(preds.rles + labels.rles, labels.rles, [0] * n), np.float64)
    return both[:m], both[m:]


def iou_matrix(preds: ImagePredictions, labels: ImageLabels, geometry: str = "boxes") -> np.ndarray:
    """The (m, n) cross-class IoU matrix with pycocotools semantics (crowd: inter / pred area)."""
    _check_geometry(geometry)
    if geometry == "masks":
        return _mask_iou(preds, labels)
    d = _corners(preds.boxes)[:, None, :]
    g = _corners(labels.boxes)[None, :, :]
    crowd = np.asarray(labels.iscrowd, dtype=bool).reshape(1, -1)
    return _corner_iou(d, g, crowd)


def _check_geometry(geometry: str) -> None:
    if geometry not in GEOMETRIES:
        raise ValueError(f"geometry must be one of {GEOMETRIES}, got {geometry!r}")


# ---------------------------------------------------------------------------------------------
# Batched matching core: every array below is the concatenation over the images of a batch.


@dataclass
class Batch:
    """A batch of images with their predictions and labels concatenated (each image's in
    order): what the matcher and the suspect rules (core.errors) work on. :func:`make_batch`
    fills the derived columns."""

    n_preds: np.ndarray  # int64 (B,)
    n_labels: np.ndarray  # int64 (B,)
    pred_image: np.ndarray  # (M,) image index of each prediction
    pred_id: np.ndarray  # int64 (M,)
    pred_category: np.ndarray  # int64 (M,)
    pred_score: np.ndarray  # float64 (M,)
    pred_box: np.ndarray  # float64 (M, 4)
    label_id: np.ndarray  # int64 (N,)
    label_category: np.ndarray  # int64 (N,)
    label_box: np.ndarray  # float64 (N, 4)
    label_crowd: np.ndarray  # bool (N,)
    label_area: np.ndarray  # float64 (N,)
    label_ignored: np.ndarray  # crowd or area outside the range


def make_batch(
    n_preds: np.ndarray,
    n_labels: np.ndarray,
    pred_id: np.ndarray,
    pred_category: np.ndarray,
    pred_score: np.ndarray,
    pred_box: np.ndarray,
    label_id: np.ndarray,
    label_category: np.ndarray,
    label_box: np.ndarray,
    label_crowd: np.ndarray,
    label_area: np.ndarray,
) -> Batch:
    """A :class:`Batch` of concatenated columns (cast to its dtypes; no copy where they have
    them) with the images' prediction and label counts."""
    n_preds = np.asarray(n_preds, dtype=np.int64)
    n_labels = np.asarray(n_labels, dtype=np.int64)
    areas = np.asarray(label_area, dtype=np.float64)
    crowd = np.asarray(label_crowd, dtype=bool)
    return Batch(
        n_preds=n_preds,
        n_labels=n_labels,
        pred_image=np.repeat(np.arange(len(n_preds)), n_preds),
        pred_id=np.asarray(pred_id, dtype=np.int64),
        pred_category=np.asarray(pred_category, dtype=np.int64),
        pred_score=np.asarray(pred_score, dtype=np.float64),
        pred_box=np.asarray(pred_box, dtype=np.float64).reshape(-1, 4),
        label_id=np.asarray(label_id, dtype=np.int64),
        label_category=np.asarray(label_category, dtype=np.int64),
        label_box=np.asarray(label_box, dtype=np.float64).reshape(-1, 4),
        label_crowd=crowd,
        label_area=areas,
        label_ignored=crowd | (areas < AREA_ALL[0]) | (areas > AREA_ALL[1]),
    )


def _concat(arrays: list[np.ndarray], dtype: type, shape: tuple[int, ...] = ()) -> np.ndarray:
    parts = [np.asarray(a, dtype=dtype).reshape((-1, *shape)) for a in arrays]
    return np.concatenate(parts) if parts else np.zeros((0, *shape), dtype=dtype)


def batch_of(items: Sequence[tuple[ImagePredictions, ImageLabels]]) -> Batch:
    """The :class:`Batch` of per-image items."""
    preds = [p for p, _ in items]
    labels = [lab for _, lab in items]
    return make_batch(
        np.array([len(p.ids) for p in preds], dtype=np.int64),
        np.array([len(lab.ids) for lab in labels], dtype=np.int64),
        _concat([p.ids for p in preds], np.int64),
        _concat([p.category_ids for p in preds], np.int64),
        _concat([p.scores for p in preds], np.float64),
        _concat([p.boxes for p in preds], np.float64, (4,)),
        _concat([lab.ids for lab in labels], np.int64),
        _concat([lab.category_ids for lab in labels], np.int64),
        _concat([lab.boxes for lab in labels], np.float64, (4,)),
        _concat([lab.iscrowd for lab in labels], bool),
        _concat([lab.areas for lab in labels], np.float64),
    )


def _group_key(image: np.ndarray, category: np.ndarray) -> np.ndarray:
    """One int64 key ordered like (image, category); two keys only if they cannot be packed."""
    if len(category) == 0:
        return image
    low, span = int(category.min()), int(category.max()) - int(category.min()) + 1
    if span * (int(image.max()) + 1) >= 2**62:
        pairs = np.stack([image, category], axis=1)
        return np.unique(pairs, axis=0, return_inverse=True)[1].reshape(-1)
    return image * span + (category - low)


def _score_order(batch: Batch) -> tuple[np.ndarray, np.ndarray]:
    """Each prediction's turn in (image, category, stable descending score) order, and its rank."""
    # np.lexsort((-score, group key)) with the group's image and class as separate keys
    order = key_sort.lexsort((-batch.pred_score, batch.pred_category, batch.pred_image))
    img, cat = batch.pred_image[order], batch.pred_category[order]
    new_group = np.ones(len(order), dtype=bool)
    new_group[1:] = (img[1:] != img[:-1]) | (cat[1:] != cat[:-1])
    starts = np.flatnonzero(new_group)
    sizes = np.diff(np.append(starts, len(order)))
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order)) - np.repeat(starts, sizes)
    turn = np.empty(len(order), dtype=np.int64)
    turn[order] = np.arange(len(order))
    return turn, rank


def _pair_offsets(batch: Batch) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Start of each image's block in the flat pair arrays, and of its predictions and labels."""
    sizes = batch.n_preds * batch.n_labels
    pair_start = np.concatenate(([0], np.cumsum(sizes)))
    pred_start = np.concatenate(([0], np.cumsum(batch.n_preds)))
    label_start = np.concatenate(([0], np.cumsum(batch.n_labels)))
    return pair_start, pred_start, label_start


def _pair_indices(batch: Batch, flat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Global (prediction, label) indices of flat pair positions (row-major per image)."""
    pair_start, pred_start, label_start = _pair_offsets(batch)
    image = np.searchsorted(pair_start, flat, side="right") - 1
    local = flat - pair_start[image]
    n = batch.n_labels[image]
    return pred_start[image] + local // n, label_start[image] + local % n


def _flat_box_ious(batch: Batch) -> np.ndarray:
    """Every image's cross-class box IoU matrix, raveled and concatenated.

    The same operations as :func:`_corner_iou` on contiguous columns: each prediction's terms
    repeated over its row, the labels' gathered (strided columns of corner rows cost twice)."""
    per_pred = batch.n_labels[batch.pred_image]  # pairs in each prediction's row
    row_start = np.cumsum(per_pred) - per_pred
    label_start = np.concatenate(([0], np.cumsum(batch.n_labels)))[batch.pred_image]
    label_index = np.arange(int(per_pred.sum())) + np.repeat(label_start - row_start, per_pred)
    d = _corners(batch.pred_box)
    g = _corners(batch.label_box)
    d0, d1, d2, d3, d4 = (np.repeat(d[:, k], per_pred) for k in range(5))
    g0, g1, g2, g3, g4 = (g[:, k].take(label_index) for k in range(5))
    w = np.minimum(d2, g2)
    w -= np.maximum(d0, g0)
    h = np.minimum(d3, g3)
    h -= np.maximum(d1, g1)
    inter = w * h
    union = d4 + g4
    union -= inter
    crowd = batch.label_crowd.take(label_index)
    np.copyto(union, d4, where=crowd)
    overlap = w > 0
    overlap &= h > 0  # then both boxes have positive area, so union > 0
    out = np.zeros(len(inter))
    np.divide(inter, union, out=out, where=overlap)
    return out


def _flat_ious(
    items: Sequence[tuple[ImagePredictions, ImageLabels]],
    batch: Batch,
    geometry: str,
    ious: Sequence[np.ndarray | None] | None,
) -> np.ndarray:
    if ious is None and geometry == "boxes":
        return _flat_box_ious(batch)
    flat = []
    for i, (p, lab) in enumerate(items):
        given = None if ious is None else ious[i]
        matrix = iou_matrix(p, lab, geometry) if given is None else np.asarray(given, np.float64)
        if matrix.shape != (len(p.ids), len(lab.ids)):
            raise ValueError(f"ious[{i}] has shape {matrix.shape}, expected {(len(p), len(lab))}")
        flat.append(matrix.ravel())
    return np.concatenate(flat) if flat else np.zeros(0)


def _greedy(
    pred: list[int], label: list[int], iou: list[float], ignored: list[bool], crowd: list[bool]
) -> dict[int, tuple[int, float]]:
    """pycocotools' greedy assignment over candidate pairs sorted by (prediction turn, label order)."""
    taken: set[int] = set()
    result: dict[int, tuple[int, float]] = {}
    k, count = 0, len(pred)
    while k < count:
        current, best, best_iou, best_ignored = pred[k], -1, -1.0, False
        while k < count and pred[k] == current:
            g = label[k]
            k += 1
            if g in taken:
                continue
            if best >= 0 and not best_ignored and ignored[g]:
                k = _skip_prediction(pred, k, current)
                break
            if iou[k - 1] < best_iou:
                continue
            best, best_iou, best_ignored = g, iou[k - 1], ignored[g]
        if best >= 0:
            result[current] = (best, best_iou)
            if not crowd[best]:
                taken.add(best)
    return result


def _skip_prediction(pred: list[int], k: int, current: int) -> int:
    while k < len(pred) and pred[k] == current:
        k += 1
    return k


def _assign(
    batch: Batch,
    flat_ious: np.ndarray,
    turn: np.ndarray,
    rank: np.ndarray,
    threshold: float,
    max_dets: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Matched label index (-1 if none) and IoU of every prediction of the batch."""
    flat = np.flatnonzero(flat_ious >= min(threshold, 1 - 1e-10))
    pred_index, label_index = _pair_indices(batch, flat)
    keep = (batch.pred_category[pred_index] == batch.label_category[label_index]) & (
        rank[pred_index] < max_dets
    )
    flat, pred_index, label_index = flat[keep], pred_index[keep], label_index[keep]
    ignored = batch.label_ignored[label_index]
    # Prediction turns follow (image, category, score order); labels: regular first, then index.
    order = np.lexsort((label_index, ignored, turn[pred_index]))
    result = _greedy(
        pred_index[order].tolist(),
        label_index[order].tolist(),
        flat_ious[flat[order]].tolist(),
        batch.label_ignored.tolist(),
        batch.label_crowd.tolist(),
    )
    matched = np.full(len(rank), -1, dtype=np.int64)
    match_iou = np.full(len(rank), np.nan)
    if result:
        preds = np.fromiter(result.keys(), dtype=np.int64, count=len(result))
        values = np.array(list(result.values()), dtype=np.float64).reshape(-1, 2)
        matched[preds] = values[:, 0].astype(np.int64)
        match_iou[preds] = values[:, 1]
    return matched, match_iou


def _outcomes(
    batch: Batch, rank: np.ndarray, matched: np.ndarray, max_dets: int, geometry: str
) -> np.ndarray:
    outcome = np.where(rank < max_dets, FP, IGNORED).astype(np.int8)
    if geometry == "boxes":  # pycocotools ignores unmatched predictions outside the area range
        area = batch.pred_box[:, 2] * batch.pred_box[:, 3]
        outcome[(area < AREA_ALL[0]) | (area > AREA_ALL[1])] = IGNORED
    hit = matched >= 0
    outcome[hit] = np.where(batch.label_ignored[matched[hit]], IGNORED, TP)
    return outcome


@dataclass
class BatchMatches:
    """The match of every prediction of a :class:`Batch` (concatenated as its predictions),
    and the images' cross-class IoU matrices raveled and concatenated."""

    outcome: np.ndarray  # int8 (M,)
    annotation_id: np.ndarray  # int64 (M,) -1 if none
    iou: np.ndarray  # float64 (M,) nan if none
    ious: np.ndarray  # float64 (sum of n_preds * n_labels,)


def match_batch(
    batch: Batch,
    iou_threshold: float,
    max_dets: int,
    geometry: str = "boxes",
    flat_ious: np.ndarray | None = None,
) -> BatchMatches:
    """Match every image of ``batch`` in one vectorised pass (``flat_ious``: the raveled IoU
    matrices, computed from the boxes if not given; masks must give them)."""
    _check_geometry(geometry)
    if flat_ious is None:
        if geometry != "boxes":
            raise ValueError('geometry="masks" needs the IoU matrices')
        flat_ious = _flat_box_ious(batch)
    turn, rank = _score_order(batch)
    matched, match_iou = _assign(batch, flat_ious, turn, rank, iou_threshold, max_dets)
    outcome = _outcomes(batch, rank, matched, max_dets, geometry)
    annotation_id = np.full(len(matched), -1, dtype=np.int64)
    hit = matched >= 0
    annotation_id[hit] = batch.label_id[matched[hit]]
    return BatchMatches(outcome, annotation_id, match_iou, flat_ious)


def _match_batch(
    items: Sequence[tuple[ImagePredictions, ImageLabels]],
    iou_threshold: float,
    max_dets: int,
    geometry: str,
    ious: Sequence[np.ndarray | None] | None = None,
) -> list[ImageMatches]:
    """Match every image of ``items`` in one vectorised pass."""
    _check_geometry(geometry)
    batch = batch_of(items)
    flat_ious = _flat_ious(items, batch, geometry, ious)
    m = match_batch(batch, iou_threshold, max_dets, geometry, flat_ious)
    return _split(batch, m.outcome, m.annotation_id, m.iou, m.ious)


def _split(
    batch: Batch,
    outcome: np.ndarray,
    annotation_id: np.ndarray,
    match_iou: np.ndarray,
    flat_ious: np.ndarray,
) -> list[ImageMatches]:
    pair_start, pred_start, _ = _pair_offsets(batch)
    pair_start, pred_start = pair_start.tolist(), pred_start.tolist()
    out = []
    for b, (m, n) in enumerate(zip(batch.n_preds.tolist(), batch.n_labels.tolist(), strict=True)):
        s, e = pred_start[b], pred_start[b + 1]
        ious = flat_ious[pair_start[b] : pair_start[b + 1]].reshape(m, n)
        out.append(ImageMatches(outcome[s:e], annotation_id[s:e], match_iou[s:e], ious))
    return out


# ---------------------------------------------------------------------------------------------
# Public matching API


def match_image(
    preds: ImagePredictions,
    labels: ImageLabels,
    iou_threshold: float = 0.5,
    max_dets: int = 100,
    geometry: str = "boxes",
    ious: np.ndarray | None = None,
) -> ImageMatches:
    """Match one image's predictions to its labels exactly as pycocotools evaluateImg does."""
    return _match_batch([(preds, labels)], iou_threshold, max_dets, geometry, [ious])[0]


# Processes vs one process, measured with bench/bench_matching.py on this 2-core machine (shared
# with other jobs, so absolute times are noisy; best of 3):
#   boxes, 5,000 images x 100 predictions:  1 process 0.86 s   2 processes 2.48 s
#   masks, 1,000 images x 100 predictions:  1 process 1.92 s   2 processes 4.98 s
# Pickling the inputs alone costs 0.88 s for the 1,000 mask images (45 MB of RLEs); the IoU
# matrices coming back are cheap (7.7 MB, 0.05 s). Inheriting the inputs through fork() would avoid
# that, but forking the multi-threaded desktop process is unsafe. So one process is the default;
# workers > 1 stays available for idle many-core machines. Chunks of ~500 images measured fastest
# (250: 0.94 s, 500: 0.89 s, 1,000: 1.01 s, one batch of 5,000: 1.88 s; cache effects).
CHUNK_IMAGES = 500


def match_many(
    items: Iterable[tuple[ImagePredictions, ImageLabels]],
    iou_threshold: float = 0.5,
    max_dets: int = 100,
    geometry: str = "boxes",
    workers: int = 1,
    ious: Sequence[np.ndarray | None] | None = None,
) -> list[ImageMatches]:
    """Match many images in vectorised chunks (in ``workers`` processes if > 1; see above);
    ``ious``: each image's cross-class IoU matrix if already computed (e.g. :func:`mask_ious`)."""
    items = list(items)
    if workers > 1 and len(items) > CHUNK_IMAGES and ious is None:
        return _match_in_processes(items, iou_threshold, max_dets, geometry, workers)
    out = []
    for i in range(0, len(items), CHUNK_IMAGES):
        given = None if ious is None else ious[i : i + CHUNK_IMAGES]
        out += _match_batch(items[i : i + CHUNK_IMAGES], iou_threshold, max_dets, geometry, given)
    return out


def _match_in_processes(
    items: list[tuple[ImagePredictions, ImageLabels]],
    iou_threshold: float,
    max_dets: int,
    geometry: str,
    workers: int,
) -> list[ImageMatches]:
    workers = min(workers, os.cpu_count() or 1)
    size = min(CHUNK_IMAGES, -(-len(items) // (2 * workers)))
    chunks = [items[i : i + size] for i in range(0, len(items), size)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [
            pool.submit(_match_batch, chunk, iou_threshold, max_dets, geometry) for chunk in chunks
        ]
        return [m for future in futures for m in future.result()]


# ---------------------------------------------------------------------------------------------
# Average precision, as pycocotools accumulate() + summarize() compute it


def count_labels(labels: Iterable[ImageLabels]) -> dict[int, int]:
    """Number of regular (not crowd, area in range) labels per category id."""
    counts: dict[int, int] = {}
    for lab in labels:
        areas = np.asarray(lab.areas, dtype=np.float64)
        regular = ~np.asarray(lab.iscrowd, bool) & (areas >= AREA_ALL[0]) & (areas <= AREA_ALL[1])
        cats, n = np.unique(np.asarray(lab.category_ids)[regular], return_counts=True)
        for c, k in zip(cats.tolist(), n.tolist(), strict=True):
            counts[c] = counts.get(c, 0) + k
    return counts


def _category_precision(
    scores: np.ndarray, is_tp: np.ndarray, n_regular: int, order: np.ndarray | None = None
) -> np.ndarray:
    """Interpolated precision at the 101 recall thresholds for one category (``order``: the
    scores' ``np.argsort(-scores, kind="mergesort")`` if known)."""
    if order is None:
        order = np.argsort(-scores, kind="mergesort")
    tp = np.cumsum(is_tp[order]).astype(float)
    fp = np.cumsum(~is_tp[order]).astype(float)
    recall = tp / n_regular
    precision = tp / (fp + tp + np.spacing(1))
    envelope = np.maximum.accumulate(precision[::-1])[::-1]
    inds = np.searchsorted(recall, RECALL_THRESHOLDS, side="left")
    q = np.zeros(len(RECALL_THRESHOLDS))
    valid = inds < len(envelope)
    # pycocotools fills q until the first index past the end, then stops (try/except)
    first_bad = int(np.argmin(valid)) if not valid.all() else len(valid)
    q[:first_bad] = envelope[inds[:first_bad]]
    return q


def average_precision_per_category(
    predictions: Sequence[ImagePredictions],
    matches: Sequence[ImageMatches],
    n_labels: Mapping[int, int],
    image_ids: Sequence[int] | None = None,
) -> dict[int, np.ndarray]:
    """Precision at the 101 recall thresholds per category with labels (pycocotools accumulate)."""
    order = range(len(predictions)) if image_ids is None else np.argsort(image_ids, kind="stable")
    scores = _concat([predictions[i].scores for i in order], np.float64)
    cats = _concat([predictions[i].category_ids for i in order], np.int64)
    outcome = _concat([matches[i].outcome for i in order], np.int8)
    counted = outcome != IGNORED  # ignored entries change neither TP nor FP counts
    scores, cats, is_tp = scores[counted], cats[counted], outcome[counted] == TP
    by_cat = np.argsort(cats, kind="stable")  # each category's entries in their order
    cats_sorted = cats[by_cat]
    result = {}
    for cat, n in sorted(n_labels.items()):
        if n > 0:
            lo, hi = np.searchsorted(cats_sorted, [cat, cat + 1])
            in_cat = by_cat[lo:hi]
            result[cat] = _category_precision(scores[in_cat], is_tp[in_cat], n)
    return result


def average_precision(
    predictions: Sequence[ImagePredictions],
    matches: Sequence[ImageMatches],
    n_labels: Mapping[int, int],
    image_ids: Sequence[int] | None = None,
) -> float:
    """AP at the matches' IoU threshold, equal to pycocotools (e.g. stats[1] for 0.5); -1 if no labels.

    Images must be in ascending image id order (as pycocotools sorts them) or ``image_ids`` given:
    the order breaks score ties across images. ``n_labels`` comes from ``count_labels``.
    """
    per_category = average_precision_per_category(predictions, matches, n_labels, image_ids)
    if not per_category:
        return -1.0
    return float(np.mean(np.concatenate(list(per_category.values()))))
