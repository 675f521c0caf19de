"""One suspect per object: suspects that concern the same object, grouped, best fix first.

One prediction can raise a missing_label (an unlabelled object), an inaccurate_label (the label
beside it is off) and a wrong_class (the label under it has the wrong class): three rows for one
object, of which at most one is the right fix. One label can have several rows too (wrong class
from one prediction, inaccurate from another, a duplicate). Rows that share a label or a
prediction (or, for duplicates, either label of the pair) belong to one group; groups are the
connected components of that sharing. In a group the rows are alternatives, ranked by score
(ties: :data:`KIND_PRIORITY`, then the given order): rank 0 is the most likely fix, the one a
table shows; accepting one closes the others. The group's score is its best row's.

Pure functions over numpy arrays (one row per suspect): no Qt, no store.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import KIND_CODE

# Equal scores: a label's own problems before a new label (the cheaper fix first).
KIND_PRIORITY = {
    KIND_CODE["duplicate_label"]: 0,
    KIND_CODE["wrong_class"]: 1,
    KIND_CODE["inaccurate_label"]: 2,
    KIND_CODE["missing_label"]: 3,
    KIND_CODE["spurious_label"]: 4,
}


@dataclass(frozen=True)
class Groups:
    """Per row: its group (0 = the group with the best score; ties by first row), its rank in
    the group (0 = the most likely fix), and the group's score."""

    group: np.ndarray  # int64
    rank: np.ndarray  # int64
    group_score: np.ndarray  # float64

    def primary(self) -> np.ndarray:
        """Rows that head their group (what one-row-per-object shows)."""
        return np.flatnonzero(self.rank == 0)


def _components(node_of_row: list[np.ndarray], n_rows: int, n_nodes: int) -> np.ndarray:
    """Connected component (smallest node index) of each node; rows link their nodes."""
    comp = np.arange(n_nodes)
    while True:
        # each row takes the smallest component among its nodes, and gives it to them all
        row_min = np.full(n_rows, n_nodes)
        for nodes in node_of_row:
            has = nodes >= 0
            np.minimum.at(row_min, np.flatnonzero(has), comp[nodes[has]])
        new = comp.copy()
        for nodes in node_of_row:
            has = nodes >= 0
            np.minimum.at(new, nodes[has], row_min[has])
        new = new[new]  # path halving
        if np.array_equal(new, comp):
            return comp
        comp = new


def _unique(values: np.ndarray) -> np.ndarray:
    """``np.unique`` of ints by a sort (numpy's hash-based unique took 0.17 s on 360k ids)."""
    values = np.sort(values)
    return values[np.r_[True, values[1:] != values[:-1]]] if len(values) else values


def _node_index(columns: list[np.ndarray], offset: int) -> tuple[list[np.ndarray], int]:
    """Each id's index among the distinct ids >= 0 of all ``columns`` (ascending) plus
    ``offset``, -1 for none; and how many distinct ids there are. A table over the ids' range
    where it is small (np.unique and np.searchsorted's numbers, without their sort and search)."""
    found = [c[c >= 0] for c in columns]
    total = sum(len(f) for f in found)
    if total:
        lo = min(int(f.min()) for f in found if len(f))
        hi = max(int(f.max()) for f in found if len(f))
        if hi - lo < 4 * total + 65_536:
            present = np.zeros(hi - lo + 1, dtype=bool)
            for f in found:
                present[f - lo] = True
            index = np.cumsum(present) - 1 + offset
            out = []
            for c in columns:
                node = np.full(len(c), -1, dtype=np.int64)
                has = c >= 0
                node[has] = index[c[has] - lo]
                out.append(node)
            return out, int(index[-1]) + 1 - offset
    table = _unique(np.concatenate([np.zeros(0, np.int64), *found]))
    out = []
    for c in columns:
        node = np.full(len(c), -1, dtype=np.int64)
        has = c >= 0
        node[has] = np.searchsorted(table, c[has]) + offset
        out.append(node)
    return out, len(table)


def group_suspects(
    kind: np.ndarray,
    annotation_id: np.ndarray,
    other_annotation_id: np.ndarray,
    prediction_id: np.ndarray,
    score: np.ndarray,
) -> Groups:
    """Group suspect rows that concern one object (ids < 0 or nan: none).

    Label ids are unique in a project and prediction ids within a prediction set (the rows of
    one analysis), so rows link by id alone, never across images.
    """
    kind = np.asarray(kind, dtype=np.int64)
    score = np.asarray(score, dtype=np.float64)
    n = len(kind)
    if n == 0:
        empty = np.zeros(0, np.int64)
        return Groups(empty, empty.copy(), np.zeros(0))

    def ids(a: np.ndarray) -> np.ndarray:
        a = np.nan_to_num(np.asarray(a, dtype=np.float64), nan=-1.0)
        return a.astype(np.int64)

    ann, other, pred = ids(annotation_id), ids(other_annotation_id), ids(prediction_id)
    # nodes: the distinct label ids, then the distinct prediction ids (ascending), a row's
    # node of an id its index there (-1: no id)
    (ann_node, other_node), n_labels = _node_index([ann, other], 0)
    (pred_node,), n_preds = _node_index([pred], n_labels)

    # every row has at least one node: rows without any id get one of their own
    own = n_labels + n_preds + np.arange(n)
    nodes = [ann_node, other_node, pred_node]
    lonely = np.all(np.stack(nodes) < 0, axis=0)
    nodes.append(np.where(lonely, own, -1))
    comp = _components(nodes, n, n_labels + n_preds + n)
    first = np.stack([np.where(k >= 0, k, np.iinfo(np.int64).max) for k in nodes]).min(axis=0)
    row_comp = comp[first]
    # np.unique's inverse of the components (their ranks), by a table over the node indices
    present = np.zeros(len(comp), dtype=bool)
    present[row_comp] = True
    comp_index = (np.cumsum(present) - 1)[row_comp]
    group_score = np.full(comp_index.max() + 1, -np.inf)
    np.maximum.at(group_score, comp_index, score)
    # groups numbered by best score (ties: the group whose first row comes first); the stable
    # sorts below, least significant key first, are np.lexsort's order
    first_row = np.full(len(group_score), n)
    np.minimum.at(first_row, comp_index, np.arange(n))
    by_first = np.full(n, -1, dtype=np.int64)  # first rows are distinct: order by a table
    by_first[first_row] = np.arange(len(first_row))
    by_first = by_first[by_first >= 0]
    order = by_first[np.argsort(-group_score[by_first], kind="stable")]
    number = np.empty(len(order), dtype=np.int64)
    number[order] = np.arange(len(order))
    group = number[comp_index]
    rank = np.zeros(n, dtype=np.int64)  # a group of one row: rank 0
    # only the rows of groups of several are ranked (at 370k suspects ~1%): sorted in row
    # order, so the stable sorts' ties fall as they would among all rows
    several = np.flatnonzero(np.bincount(group, minlength=len(order))[group] > 1)
    if len(several):
        rank[several] = _ranks(kind[several], score[several], group[several])
    return Groups(group, rank, group_score[comp_index])


def _ranks(kind: np.ndarray, score: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Each row's rank in its group: by score, ties by :data:`KIND_PRIORITY`, then row order."""
    n = len(kind)
    table = np.full(max(KIND_PRIORITY) + 1, 9, dtype=np.int64)  # other kinds: 9
    table[list(KIND_PRIORITY)] = list(KIND_PRIORITY.values())
    known = (kind >= 0) & (kind < len(table))
    priority = np.where(known, table[np.where(known, kind, 0)], 9)
    row_order = np.argsort(priority.astype(np.int8), kind="stable")  # ties: row order
    row_order = row_order[np.argsort(-score[row_order], kind="stable")]
    row_order = row_order[np.argsort(group[row_order], kind="stable")]
    rank = np.empty(n, dtype=np.int64)
    starts = np.r_[True, group[row_order][1:] != group[row_order][:-1]]
    start_pos = np.maximum.accumulate(np.where(starts, np.arange(n), 0))
    rank[row_order] = np.arange(n) - start_pos
    return rank
