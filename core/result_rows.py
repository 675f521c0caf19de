"""The suspect rows an analysis writes: scored, grouped by object, and (with several prediction
sets) merged across sets with the support of each set.

An analysis of one prediction set scores its suspects (core.scoring) and groups the ones that
concern one object (core.grouping). An analysis of several sets analyses each set on its own
(its own calibration and habits), merges their suspects (core.consensus: a suspect several
models support scores higher) and groups the merged rows. Either way the result is
:class:`Rows`: one row per suspect with :data:`RESULT_COLUMNS`, and for several sets the
:class:`Support` table that says which sets found each suspect, with their prediction, score,
confidence and probability.

Decisions stay keyed by (prediction set, suspect key) as before: a merged suspect's decision
is recorded under the key of every set that supports it, and read back from any of them, so a
decision made on a one-set analysis shows on the same object in a multi-set analysis and the
other way round (docs/architecture.md, "Several prediction sets").

Pure functions over numpy arrays: no Qt, no store.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from . import consensus, grouping
from .errors import KINDS, SUSPECT_COL, SUSPECT_COLUMNS, suspect_key
from .matching import TP

RESULT_COLUMNS: tuple[str, ...] = (*SUSPECT_COLUMNS, "score", "group", "group_rank", "set_id")
"""A suspects array as written: the rules' columns, the score, the group and its rank (0: the
most likely fix of the object), and the prediction set of the suspect's prediction."""
RCOL = {name: i for i, name in enumerate(RESULT_COLUMNS)}


@dataclass(frozen=True)
class Support:
    """Which sets support each suspect of a multi-set analysis: one entry per (suspect, set),
    ``row`` being the suspect's row in :attr:`Rows.rows`."""

    row: np.ndarray  # int64
    set_id: np.ndarray  # int64
    prediction_id: np.ndarray  # int64, -1: none
    key: list[str]  # the suspect's key in that set (decisions are kept under it)
    score: np.ndarray
    confidence: np.ndarray  # nan: none
    probability: np.ndarray  # nan: none

    def __len__(self) -> int:
        return len(self.row)


@dataclass(frozen=True)
class Rows:
    """The suspect rows of an analysis (:data:`RESULT_COLUMNS`), with the support table when
    several sets were analysed together (None for one set: its own set supports every row)."""

    rows: np.ndarray
    support: Support | None = None
    dependence: float | None = None  # several sets, score version 14: core.consensus's rho

    def __len__(self) -> int:
        return len(self.rows)


def empty_rows() -> np.ndarray:
    """A suspects array with :data:`RESULT_COLUMNS` and no row."""
    return np.zeros((0, len(RESULT_COLUMNS)))


def _ids(col: np.ndarray) -> np.ndarray:
    return np.nan_to_num(np.asarray(col, dtype=np.float64), nan=-1.0).astype(np.int64)


def _grouped(
    scored: np.ndarray,
    prediction_node: np.ndarray,
    set_id: np.ndarray,
    into: np.ndarray | None = None,
) -> np.ndarray:
    """``scored`` (the rules' columns and the score) with its groups and sets appended (in
    ``into`` if given: an array of the result's shape, of which ``scored`` may be a view)."""
    groups = grouping.group_suspects(
        scored[:, SUSPECT_COL["kind"]],
        scored[:, SUSPECT_COL["annotation_id"]],
        scored[:, SUSPECT_COL["other_annotation_id"]],
        prediction_node,
        scored[:, len(SUSPECT_COLUMNS)],
    )
    out = np.empty((len(scored), len(RESULT_COLUMNS))) if into is None else into
    if out.shape != (len(scored), len(RESULT_COLUMNS)):
        raise ValueError(f"rows of shape {out.shape} cannot hold {len(scored)} suspects")
    if scored.base is not out:  # else the columns are there already
        out[:, : len(SUSPECT_COLUMNS) + 1] = scored[:, : len(SUSPECT_COLUMNS) + 1]
    out[:, RCOL["group"]] = groups.group
    out[:, RCOL["group_rank"]] = groups.rank
    out[:, RCOL["set_id"]] = set_id
    return out


def one_set(scored: np.ndarray, set_id: int, into: np.ndarray | None = None) -> Rows:
    """The rows of a one-set analysis: its scored suspects (``errors.SUSPECT_COLUMNS`` plus the
    score, as core.analyze.compute returns them), unchanged, with their groups. ``into``: the
    array to complete them in (core.analyze.AnalysisResult.rows, of which ``scored`` is a view;
    no copy of the rows is made)."""
    if not len(scored):
        return Rows(empty_rows())
    prediction = scored[:, SUSPECT_COL["prediction_id"]]
    return Rows(_grouped(scored, prediction, np.full(len(scored), float(set_id)), into))


def _set_suspects(
    scored: np.ndarray, boxes: dict[int, np.ndarray], cover: consensus.Cover | None = None
) -> consensus.SetSuspects:
    pred = _ids(scored[:, SUSPECT_COL["prediction_id"]])
    box = np.full((len(scored), 4), np.nan)
    for i, p in enumerate(pred.tolist()):
        if p >= 0 and p in boxes:
            box[i] = boxes[p]
    return consensus.SetSuspects(
        kind=_ids(scored[:, SUSPECT_COL["kind"]]),
        image_id=_ids(scored[:, SUSPECT_COL["image_id"]]),
        annotation_id=_ids(scored[:, SUSPECT_COL["annotation_id"]]),
        other_annotation_id=_ids(scored[:, SUSPECT_COL["other_annotation_id"]]),
        box=box,
        score=scored[:, len(SUSPECT_COLUMNS)].astype(np.float64),
        probability=scored[:, SUSPECT_COL["probability"]].astype(np.float64),
        cover=cover,
    )


def prediction_boxes(
    prediction_ids: np.ndarray, boxes: np.ndarray, wanted: np.ndarray
) -> dict[int, np.ndarray]:
    """Prediction id -> its box (xywh), for the ``wanted`` ids (those the suspects name)."""
    wanted = np.unique(_ids(wanted))
    wanted = wanted[wanted >= 0]
    ids = np.asarray(prediction_ids, dtype=np.int64)
    order = np.argsort(ids, kind="stable")
    pos = np.searchsorted(ids[order], wanted)
    pos = np.minimum(pos, max(len(ids) - 1, 0))
    found = len(ids) > 0
    out: dict[int, np.ndarray] = {}
    if found:
        hit = ids[order][pos] == wanted
        for p, at in zip(wanted[hit].tolist(), order[pos[hit]].tolist(), strict=True):
            out[p] = np.asarray(boxes[at], dtype=np.float64)
    return out


def set_cover(
    matches: dict[str, np.ndarray],
    prediction_ids: np.ndarray,
    boxes: np.ndarray,
    recall: float | None = None,
) -> consensus.Cover:
    """What a set's true positives explain (core.consensus, score version 12): from its
    matches (``outcome``, ``annotation_id``, ``image_id``, ``prediction_id``) and its
    predictions' ids and boxes; with the set's ``recall`` (core.scoring.set_recall: its
    reliability from score version 13)."""
    tp = np.asarray(matches["outcome"]) == TP
    wanted = np.asarray(matches["prediction_id"], dtype=np.int64)[tp]
    ids = np.asarray(prediction_ids, dtype=np.int64)
    order = np.argsort(ids, kind="stable")
    at = order[np.searchsorted(ids[order], wanted)] if len(ids) else np.zeros(0, np.int64)
    return consensus.Cover.from_matches(
        np.asarray(matches["annotation_id"])[tp],
        np.asarray(matches["image_id"])[tp],
        np.asarray(boxes, dtype=np.float64).reshape(-1, 4)[at],
        recall,
    )


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[tuple[int, int], tuple[int, int]] = {}

    def find(self, x: tuple[int, int]) -> tuple[int, int]:
        parent = self.parent
        root = parent.setdefault(x, x)
        while root != parent[root]:
            root = parent[root]
        while x != root:  # path compression
            parent[x], x = root, parent[x]
        return root

    def union(self, a: tuple[int, int], b: tuple[int, int]) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def several_sets(
    per_set: Sequence[tuple],
    same_box_iou: float = consensus.SAME_BOX_IOU,
    version: int = 10,
    rho: float | None = None,
) -> Rows:
    """The rows of a multi-set analysis: each set's scored suspects merged (core.consensus,
    its formulas of score ``version``; ``rho``: the sets' dependence a full analysis stored,
    None: measured), then grouped; with the support table and the dependence used.

    ``per_set``: (set id, scored suspects as core.analyze.compute returns them, prediction id
    -> box of the predictions they name[, the set's consensus.Cover: score version 12]). A
    merged suspect keeps the row of its best-scoring set (its fix) with the combined score;
    its probability is that row's. Rows come in image order (ties: set order, then each set's
    own order), so a re-analysis of some images writes them as a full analysis would.
    """
    covers = [p[3] if len(p) > 3 else None for p in per_set]
    per_set = [tuple(p)[:3] for p in per_set]
    sets = [
        _set_suspects(scored, boxes, cover)
        for (_, scored, boxes), cover in zip(per_set, covers, strict=True)
    ]
    merged = consensus.merge_sets(sets, same_box_iou, version, rho)
    n = len(merged.set_index)
    if n == 0:
        return Rows(empty_rows(), _empty_support(), merged.dependence)
    image = np.array(
        [sets[k].image_id[r] for k, r in zip(merged.set_index, merged.row, strict=True)],
        dtype=np.int64,
    )
    order = np.lexsort((merged.row, merged.set_index, image))
    width = len(SUSPECT_COLUMNS) + 1
    scored = np.empty((n, width))
    set_col = np.empty(n)
    node = np.empty(n, dtype=np.int64)
    uf = _UnionFind()
    for m in range(n):  # predictions that support one suspect are one object
        pairs = []
        for k, r in zip(
            merged.support_set[m].tolist(), merged.support_row[m].tolist(), strict=True
        ):
            pid = _opt(per_set[k][1][r, SUSPECT_COL["prediction_id"]])
            if pid is not None:
                pairs.append((int(per_set[k][0]), pid))
        for p in pairs[1:]:
            uf.union(pairs[0], p)
    roots: dict[tuple[int, int], int] = {}
    sup_row, sup_set, sup_pred, sup_key, sup_score, sup_conf, sup_prob = ([] for _ in range(7))
    for out, m in enumerate(order.tolist()):
        k, r = int(merged.set_index[m]), int(merged.row[m])
        set_id, rows, _ = per_set[k]
        scored[out] = rows[r, :width]
        changed = merged.disagree is not None and merged.disagree[m] > 0
        if version >= 13:  # a less reliable set's own row is weighed too
            changed = changed or merged.score[m] != rows[r, len(SUSPECT_COLUMNS)]
        if len(merged.support_set[m]) > 1 or changed:  # else its own score to the last bit
            scored[out, len(SUSPECT_COLUMNS)] = merged.score[m]
        set_col[out] = set_id
        pid = _opt(rows[r, SUSPECT_COL["prediction_id"]])
        node[out] = -1 if pid is None else roots.setdefault(uf.find((int(set_id), pid)), len(roots))
        for k2, r2 in zip(
            merged.support_set[m].tolist(), merged.support_row[m].tolist(), strict=True
        ):
            sid, srows, _ = per_set[k2]
            row = srows[r2]
            p2 = _opt(row[SUSPECT_COL["prediction_id"]])
            kind = KINDS[int(row[SUSPECT_COL["kind"]])]
            ann = _opt(row[SUSPECT_COL["annotation_id"]])
            other = _opt(row[SUSPECT_COL["other_annotation_id"]])
            sup_row.append(out)
            sup_set.append(int(sid))
            sup_pred.append(-1 if p2 is None else p2)
            sup_key.append(suspect_key(kind, ann, p2, other))
            sup_score.append(float(row[len(SUSPECT_COLUMNS)]))
            sup_conf.append(float(row[SUSPECT_COL["confidence"]]))
            sup_prob.append(float(row[SUSPECT_COL["probability"]]))
    support = Support(
        np.asarray(sup_row, dtype=np.int64),
        np.asarray(sup_set, dtype=np.int64),
        np.asarray(sup_pred, dtype=np.int64),
        sup_key,
        np.asarray(sup_score, dtype=np.float64),
        np.asarray(sup_conf, dtype=np.float64),
        np.asarray(sup_prob, dtype=np.float64),
    )
    node_f = np.where(node < 0, np.nan, node.astype(np.float64))
    return Rows(_grouped(scored, node_f, set_col), support, merged.dependence)


def _opt(value: float) -> int | None:
    return None if np.isnan(value) or value < 0 else int(value)


def _empty_support() -> Support:
    z = np.zeros(0, dtype=np.int64)
    return Support(z, z.copy(), z.copy(), [], np.zeros(0), np.zeros(0), np.zeros(0))
