"""Several prediction sets at once: one suspect list, each suspect with the sets that support it.

Each prediction set is analysed on its own (its own calibration and habits); then the suspects
of all sets are merged. Two rows of different sets are the same suspect when they say the same
thing about the labels:

- on a label (wrong_class, inaccurate_label, spurious_label): same kind, same label;
- duplicate_label: same kind, same pair of labels;
- missing_label: same image, prediction boxes overlapping with IoU >= ``same_box_iou``.

A merged suspect keeps the row of its best-scoring set (its fix: class, geometry) and lists
every supporting set with its score and calibrated probability. Its score (before score
version 12) treats the sets' scores as independent evidence (noisy-or): ``1 - prod(1 - s_k)``;
more support scores higher, one set alone keeps its score exactly. duplicate_label does not
depend on predictions (every set finds the same pairs with the same score), so it keeps the
best score; nor does an inaccurate_label found from the image alone (no prediction, score
version 9): the rows of several sets without a prediction count once (their best), beside any
set's prediction-backed row on the same label.

From score version 12 (bench/quality_log.md, multi-set session): only missing_label combines
by noisy-or (two detectors finding the same unlabelled object are independent evidence); a
suspect on a label keeps its best set's score, since the sets' scores of it share the label's
and the image's evidence (class context, edge fit, outline) and a noisy-or counted that twice,
ranking suspects two sets half-believe above those one set is sure of. And a set that does not
support a suspect but whose own analysis explains its object disagrees with it: a true
positive of that set on the suspect's label, or (missing_label) a true positive of it whose box
overlaps the suspect's with IoU >= ``same_box_iou``. The score is then weighed by the share of
the sets with a view of the object that support it: ``n_support / (n_support +
n_disagree)`` (a linear pool in which a disagreeing set says 0). A set that saw nothing there
has no view (a weaker detector's silence says little). One set alone keeps its score exactly.

From score version 13 each set's scores are first weighed by the set's reliability: its recall
(the share of the labels its true positives match, core.scoring.set_recall) over the best
set's. Where two sets find a suspect the weaker set's overconfident score no longer wins, and a
weaker set's suspects alone count less (bench/quality_log.md, reliability session: the tuning
pair's all-kinds AP 0.544 -> 0.565, above its better set alone). A ratio of recalls: the same
on any detector's score scale, and one set, or sets that find as many labels, keep version
12's scores. Rows are visited by weighed score, so the row standing for a suspect (its fix) is
the one that scores it.

From score version 14 missing_label's noisy-or counts the sets as the independent evidence
they are (bench/quality_log.md, dependence session): two copies of one detector (two
checkpoints, a model and its test-time-augmented run) agree on their false positives as on
their true positives, and a noisy-or of them doubled one detector's confidence. The
analysis measures how dependent each pair of sets is: how often their missing-label
candidates coincide (IoU >= ``same_box_iou``, share of either's) relative to how often their
true positives do (labels both match over labels either matches), in [0, 1] (:func:`dependence`:
1 for copies, about 0.15-0.3 for different detectors on the bench). With ``rho`` the pairs'
mean and ``n`` sets, the sets count as ``n / (1 + (n - 1) rho)`` independent ones (the design
effect of ``n`` equally correlated measurements), and a missing label's evidence, ``-log(1 -
s)`` summed over its supporting sets, is scaled by that over ``n``: ``1 - prod(1 - s_k) ** (1 /
(1 + (n - 1) rho))``. Two copies give one detector's scores (a suspect both find: its score; one
finds alone: as if the other said 0), independent sets the noisy-or of version 13, and one set
its own score. The ranking of missing labels among themselves stays version 13's (one factor
for every missing label of an analysis); what changes is their place among the other kinds
(bench: CenterNet with a per-class rescaled copy of itself ranks as CenterNet alone, all kinds
AP 0.535 -> 0.542; all four detectors 0.650 -> 0.665). A re-analysis of some images takes the
analysis's stored ``rho`` (its report's ``dependence``), as it takes each set's recall from its
stored fit.

Pure functions over numpy arrays: no Qt, no store.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import KIND_CODE

SAME_BOX_IOU = 0.5  # two sets' missing-label boxes this alike are one unlabelled object


@dataclass(frozen=True)
class SetSuspects:
    """The suspects of one prediction set, one entry per row (ids -1 where none)."""

    kind: np.ndarray
    image_id: np.ndarray
    annotation_id: np.ndarray
    other_annotation_id: np.ndarray
    box: np.ndarray  # (n, 4) xywh of the prediction (nan where none)
    score: np.ndarray
    probability: np.ndarray  # the prediction's calibrated probability (nan where none)
    cover: Cover | None = None  # what the set's true positives explain (score version 12)

    def __len__(self) -> int:
        return len(self.kind)


@dataclass(frozen=True)
class Cover:
    """What a set's own analysis explains: the labels its true positives match, and per image
    the boxes (xywh) of those true positives."""

    labels: frozenset[int]
    boxes: dict[int, np.ndarray]  # image id -> (n, 4)
    recall: float | None = None  # the share of the labels they match (score version 13)

    @classmethod
    def from_matches(
        cls,
        annotation_id: np.ndarray,
        image_id: np.ndarray,
        box: np.ndarray,
        recall: float | None = None,
    ) -> Cover:
        """From the set's true positives: their labels, images and prediction boxes (and the
        set's recall, core.scoring.set_recall)."""
        image = np.asarray(image_id, dtype=np.int64)
        box = np.asarray(box, dtype=np.float64).reshape(-1, 4)
        order = np.argsort(image, kind="stable")
        images, starts = np.unique(image[order], return_index=True)
        ends = np.append(starts[1:], len(order))[: len(starts)]  # none: no image
        boxes = {int(i): box[order[a:b]] for i, a, b in zip(images, starts, ends, strict=True)}
        labels = frozenset(np.asarray(annotation_id, dtype=np.int64).tolist())
        return cls(labels, boxes, recall)

    def explains(
        self, kind: int, annotation_id: int, image_id: int, box: np.ndarray, iou: float
    ) -> bool:
        """Whether these true positives explain the object of a suspect (see the module)."""
        if kind == KIND_CODE["duplicate_label"]:
            return False
        if kind != KIND_CODE["missing_label"]:
            return annotation_id >= 0 and annotation_id in self.labels
        theirs = self.boxes.get(image_id)
        if theirs is None or not np.isfinite(box).all():
            return False
        return any(_box_iou(b, box) >= iou for b in theirs)


@dataclass(frozen=True)
class Merged:
    """Merged suspects: per suspect the set and row that represent it, its combined score, and
    its support (``support_set[i]``, ``support_row[i]``: every (set, row) merged into it)."""

    set_index: np.ndarray
    row: np.ndarray
    score: np.ndarray
    support_set: list[np.ndarray]
    support_row: list[np.ndarray]
    disagree: np.ndarray | None = None  # score version 12: sets whose true positives explain it
    weight: np.ndarray | None = None  # score version 13: each set's reliability (1: the best)
    dependence: float | None = None  # score version 14: the sets' mean pairwise dependence

    def n_sets(self) -> np.ndarray:
        """How many sets support each suspect."""
        return np.array([len(np.unique(s)) for s in self.support_set], dtype=np.int64)


def _box_iou(a: np.ndarray, b: np.ndarray) -> float:
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    union = a[2] * a[3] + b[2] * b[3] - inter
    return float(inter / union) if union > 0 else 0.0


def combined_score(
    kind: int,
    scores: np.ndarray,
    predicted: np.ndarray | None = None,
    version: int = 10,
    disagree: int = 0,
    design_effect: float = 1.0,
) -> float:
    """Score of a suspect from its supporting sets' scores (see the module docstring);
    ``predicted``: whether each row has a prediction (None: all have); from score ``version``
    12, ``disagree``: how many other sets' true positives explain its object; from 14,
    ``design_effect``: how many sets count as one independent set (:func:`design_effect`),
    which divides missing_label's summed evidence."""
    s = np.clip(np.asarray(scores, dtype=np.float64), 0.0, 1.0)
    if kind == KIND_CODE["duplicate_label"]:
        return float(s.max())
    if version >= 12:
        if kind != KIND_CODE["missing_label"]:
            best = s.max()
        elif version >= 14 and design_effect != 1.0:
            best = 1.0 - np.prod(1.0 - s) ** (1.0 / design_effect)
        else:
            best = 1.0 - np.prod(1.0 - s)
        return float(best * len(s) / (len(s) + disagree))
    if predicted is not None and kind == KIND_CODE["inaccurate_label"]:
        without = ~np.asarray(predicted, dtype=bool)
        if without.sum() > 1:  # the image's evidence, once
            s = np.append(s[~without], s[without].max())
    return float(1.0 - np.prod(1.0 - s))


def _disagree(sets: list[SetSuspects], member: list[tuple[int, int]], iou: float) -> int:
    """How many sets that do not support a merged suspect explain its object (true positives
    on its label or, missing_label, at its box; its first row's)."""
    k0, r0 = member[0]
    s = sets[k0]
    kind, ann, image = int(s.kind[r0]), int(s.annotation_id[r0]), int(s.image_id[r0])
    supporting = {k for k, _ in member}
    return sum(
        1
        for k, other in enumerate(sets)
        if k not in supporting
        and other.cover is not None
        and other.cover.explains(kind, ann, image, s.box[r0], iou)
    )


def set_weights(sets: list[SetSuspects], version: int = 10) -> np.ndarray:
    """Each set's reliability from score ``version`` 13 (see the module): its recall over the
    best set's; 1 for every set before, for one set, or when a set's recall is unknown."""
    recall = [s.cover.recall if s.cover is not None else None for s in sets]
    return recall_weights(recall, version)


def recall_weights(recall: list[float | None], version: int = 10) -> np.ndarray:
    """:func:`set_weights` from the sets' recalls (what ``labelfix report`` and the app show)."""
    ones = np.ones(len(recall))
    if version < 13 or len(recall) < 2 or any(r is None for r in recall):
        return ones
    r = np.asarray(recall, dtype=np.float64)
    return r / r.max() if r.max() > 0 else ones


def _same_objects(a: SetSuspects, b: SetSuspects, iou: float) -> tuple[int, int]:
    """How many missing-label candidates of ``a`` and ``b`` are on the same object (each
    side's candidates with one of the other's at IoU >= ``iou``, the fewer of the two
    counts), and how many objects either has."""
    ml = KIND_CODE["missing_label"]
    rows = [np.flatnonzero((s.kind == ml) & np.isfinite(s.box).all(axis=1)) for s in (a, b)]
    by_image = []
    for s, r in zip((a, b), rows, strict=True):
        per: dict[int, list[int]] = {}
        for i in r.tolist():
            per.setdefault(int(s.image_id[i]), []).append(i)
        by_image.append(per)
    hits = [0, 0]
    for image in by_image[0].keys() & by_image[1].keys():
        ba, bb = a.box[by_image[0][image]], b.box[by_image[1][image]]
        close = _iou_matrix(ba, bb) >= iou
        hits[0] += int(close.any(axis=1).sum())
        hits[1] += int(close.any(axis=0).sum())
    both = min(hits)
    return both, len(rows[0]) + len(rows[1]) - both


def _iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every xywh box of ``a`` with every one of ``b``."""
    x0 = np.maximum(a[:, None, 0], b[None, :, 0])
    y0 = np.maximum(a[:, None, 1], b[None, :, 1])
    x1 = np.minimum(a[:, None, 0] + a[:, None, 2], b[None, :, 0] + b[None, :, 2])
    y1 = np.minimum(a[:, None, 1] + a[:, None, 3], b[None, :, 1] + b[None, :, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    union = (a[:, 2] * a[:, 3])[:, None] + (b[:, 2] * b[:, 3])[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def dependence(a: SetSuspects, b: SetSuspects, same_box_iou: float = SAME_BOX_IOU) -> float | None:
    """How dependent two sets are (score version 14, see the module): the share of their
    missing-label candidates on the same objects over the share of their true positives'
    labels both match (Jaccard indices), in [0, 1]; None when a set's true positives are
    unknown or neither has any."""
    if a.cover is None or b.cover is None:
        return None
    either = len(a.cover.labels | b.cover.labels)
    if either == 0:
        return None
    tp = len(a.cover.labels & b.cover.labels) / either
    both, any_ = _same_objects(a, b, same_box_iou)
    if any_ == 0:
        return 0.0  # no candidates: nothing counted twice
    if tp == 0:
        return 1.0 if both else 0.0
    return float(min(1.0, both / any_ / tp))


def mean_dependence(sets: list[SetSuspects], same_box_iou: float = SAME_BOX_IOU) -> float | None:
    """The mean :func:`dependence` over the pairs of sets (None: fewer than two sets, or a
    pair's is unknown)."""
    pairs = [
        dependence(sets[i], sets[j], same_box_iou)
        for i in range(len(sets))
        for j in range(i + 1, len(sets))
    ]
    if not pairs or any(p is None for p in pairs):
        return None
    return float(np.mean(pairs))


def design_effect(n_sets: int, rho: float | None) -> float:
    """How many of ``n_sets`` sets with mean pairwise dependence ``rho`` count as one
    independent set: ``1 + (n - 1) rho`` (``n`` over it: the effective number of sets)."""
    if n_sets < 2 or rho is None:
        return 1.0
    return 1.0 + (n_sets - 1) * float(np.clip(rho, 0.0, 1.0))


def merge_sets(
    sets: list[SetSuspects],
    same_box_iou: float = SAME_BOX_IOU,
    version: int = 10,
    rho: float | None = None,
) -> Merged:
    """Merge the suspects of several prediction sets (one set: every row as it is); score
    ``version`` picks :func:`combined_score`'s formula; from 14, ``rho``: the sets' mean
    dependence as the analysis measured it (a re-analysis of some images: the stored one;
    None: measured here, :func:`mean_dependence`).

    Rows are visited best score first (from score version 13 weighted by their set's
    reliability, :func:`set_weights`); each joins the first merged suspect it matches that has
    no row of its own set yet, or starts a new one.
    """
    weight = set_weights(sets, version)
    if version >= 14 and len(sets) > 1 and rho is None:
        rho = mean_dependence(sets, same_box_iou)
    effect = design_effect(len(sets), rho) if version >= 14 else 1.0
    entries = [
        (float(s.score[r]) * weight[k], k, r) for k, s in enumerate(sets) for r in range(len(s))
    ]
    entries.sort(key=lambda e: (-e[0], e[1], e[2]))
    keyed: dict[tuple, int] = {}
    boxes: dict[int, list[int]] = {}  # image -> merged missing-label suspects on it
    members: list[list[tuple[int, int]]] = []
    for _, k, r in entries:
        s = sets[k]
        kind = int(s.kind[r])
        target = None
        if kind == KIND_CODE["missing_label"]:
            image = int(s.image_id[r])
            for m in boxes.get(image, []):
                k0, r0 = members[m][0]
                taken = any(kk == k for kk, _ in members[m])
                if not taken and _box_iou(sets[k0].box[r0], s.box[r]) >= same_box_iou:
                    target = m
                    break
            if target is None:
                boxes.setdefault(image, []).append(len(members))
        else:
            key = (kind, int(s.annotation_id[r]), int(s.other_annotation_id[r]))
            m = keyed.get(key)
            if m is not None and not any(kk == k for kk, _ in members[m]):
                target = m
            elif m is None:
                keyed[key] = len(members)
        if target is None:
            members.append([(k, r)])
        else:
            members[target].append((k, r))
    set_index = np.array([m[0][0] for m in members], dtype=np.int64)
    row = np.array([m[0][1] for m in members], dtype=np.int64)
    several = version >= 12 and len(sets) > 1
    disagree = np.array(
        [_disagree(sets, m, same_box_iou) if several else 0 for m in members], dtype=np.int64
    )
    score = np.array(
        [
            combined_score(
                int(sets[m[0][0]].kind[m[0][1]]),
                np.array([sets[k].score[r] * weight[k] for k, r in m]),
                np.array([bool(np.isfinite(sets[k].box[r]).all()) for k, r in m]),
                version,
                int(d),
                effect,
            )
            for m, d in zip(members, disagree, strict=True)
        ]
    )
    return Merged(
        set_index,
        row,
        score,
        [np.array([k for k, _ in m], dtype=np.int64) for m in members],
        [np.array([r for _, r in m], dtype=np.int64) for m in members],
        disagree,
        weight,
        rho if version >= 14 and len(sets) > 1 else None,
    )
