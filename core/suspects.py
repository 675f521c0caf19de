"""Listing suspects: filter and sort the current analysis's suspects, fast.

The CLI's ``labelfix suspects`` and the desktop's table both go through :class:`SuspectIndex`,
so they list the same suspects in the same order. The index holds the columns in numpy, so a
sort or filter over 500,000 suspects is a few numpy passes, and rows are read lazily by id.

Suspects that concern one object form a group (core.grouping); ``SuspectFilter.per_object``
lists one row per group: of the rows the rest of the filter keeps, the most likely fix (lowest
rank); :meth:`SuspectIndex.alternatives` gives the others. The default review filter
(:data:`DEFAULT_REVIEW_FILTER`) lists the open suspects of every kind one per object, ranked by
their calibrated score, down to the analysis's default cut (core.review_cut);
:data:`SEED_REVIEW_FILTER` is the first LabelFix's "confidence >= 0.75".
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from . import stable_sort
from .errors import KIND_CODE, KINDS, suspect_key
from .store import Store
from .store.suspects import CACHED_ORDERS, SUSPECT_INDEX_COLUMNS, FileNameColumns

STATUSES = ("open", "accepted", "rejected", "flagged")
STATUS_CODE = {s: i for i, s in enumerate(STATUSES)}
# sortable columns and what they sort on
SORT_KEYS = (
    "score",
    "kind",
    "confidence",
    "probability",
    "iou",
    "alternatives",
    "sets",
    "label_class",
    "predicted_class",
    "file_name",
    "status",
    "id",
)


@dataclass(frozen=True)
class SuspectFilter:
    """Which suspects to list. ``None`` means "any".

    ``min_confidence`` keeps suspects whose prediction confidence is >= it and always keeps the
    ones without a prediction (duplicate and spurious labels). ``min_score`` keeps suspects
    scored >= it; None: the analysis's default cut (:attr:`SuspectIndex.review_cut`).
    ``per_object`` keeps one row per group (see the module docstring). ``min_iou`` / ``max_iou`` keep
    suspects whose IoU lies in that closed range (the IoU column: prediction-label, or label-label
    for duplicates). ``statuses`` filters on the review decision ("open" = no decision).
    ``category_ids`` matches the label's or the predicted class.
    """

    min_confidence: float = 0.0
    min_iou: float = 0.0
    max_iou: float = 1.0
    kinds: frozenset[str] | None = None
    category_ids: frozenset[int] | None = None
    statuses: frozenset[str] | None = None
    file_name: str = ""
    image_ids: frozenset[int] | None = None
    min_score: float | None = 0.0
    per_object: bool = False
    group: int | None = None  # only this group's rows
    class_pair: tuple[int, int] | None = None  # only label class A predicted as class B

    def with_(self, **changes: object) -> SuspectFilter:
        """A copy with some fields changed."""
        return replace(self, **changes)


_MAX_ORDERS = 6  # full sort orders kept (8 bytes a suspect each)
_COLUMNS = SUSPECT_INDEX_COLUMNS
CACHE_MIN_ROWS = 50_000  # smaller analyses load from their rows fast enough


DEFAULT_REVIEW_FILTER = SuspectFilter(min_score=None, statuses=frozenset({"open"}), per_object=True)
"""What the table and ``labelfix suspects`` open on: open suspects of every kind, one per
object, ranked by calibrated score down to the analysis's default cut."""
SEED_REVIEW_FILTER = SuspectFilter(
    min_confidence=0.75, min_score=0.0, statuses=frozenset({"open"}), per_object=True
)
"""The first LabelFix's view: raw confidence >= 0.75 (one click / flag away)."""


class FileNames(Mapping[int, str]):
    """Image id -> file name over the cached columns (:class:`.store.suspects.FileNameColumns`):
    a name is decoded when asked for; iterating (a file-name filter or sort) builds the whole
    dict once."""

    def __init__(self, columns: FileNameColumns) -> None:
        self._ids, self._end, self._utf8 = columns
        self._dict: dict[int, str] | None = None

    def __getitem__(self, image_id: object) -> str:
        if self._dict is not None:
            return self._dict[image_id]  # type: ignore[index]
        if not isinstance(image_id, int | np.integer):
            raise KeyError(image_id)
        i = int(np.searchsorted(self._ids, image_id))
        if i >= len(self._ids) or self._ids[i] != image_id:
            raise KeyError(image_id)
        start = int(self._end[i - 1]) if i else 0
        return str(self._utf8[start : int(self._end[i])], "utf-8", "surrogatepass")

    def as_dict(self) -> dict[int, str]:
        """Every name (decoded once and kept)."""
        if self._dict is None:
            ends = self._end.tolist()
            starts = [0, *ends[:-1]]
            data = self._utf8
            self._dict = {
                i: str(data[a:b], "utf-8", "surrogatepass")
                for i, a, b in zip(self._ids.tolist(), starts, ends, strict=True)
            }
        return self._dict

    def __iter__(self) -> Iterator[int]:
        return iter(self.as_dict())

    def __len__(self) -> int:
        return len(self._ids)


def _as_dict(names: Mapping[int, str]) -> Mapping[int, str]:
    """A mapping for many lookups (the cached file names decoded once)."""
    return names.as_dict() if isinstance(names, FileNames) else names


@dataclass
class SuspectIndex:
    """The suspects of one analysis as numpy columns, with their review status."""

    analysis_id: int | None
    set_id: int | None
    ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    other_annotation_id: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    kind: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))
    score: np.ndarray = field(default_factory=lambda: np.zeros(0))
    image_id: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    annotation_id: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    prediction_id: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    category_id: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    predicted_category_id: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    iou: np.ndarray = field(default_factory=lambda: np.zeros(0))
    confidence: np.ndarray = field(default_factory=lambda: np.zeros(0))
    probability: np.ndarray = field(default_factory=lambda: np.zeros(0))
    group: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    group_rank: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    prediction_set_id: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    status: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))
    file_names: Mapping[int, str] = field(default_factory=dict)
    category_names: dict[int, str] = field(default_factory=dict)
    set_ids: list[int] = field(default_factory=list)  # the analysis's sets
    set_names: dict[int, str] = field(default_factory=dict)
    review_cut: float = 0.0  # the analysis's default cut (core.review_cut)
    # several sets: who supports each suspect (store.suspect_support's columns)
    support: dict[str, np.ndarray] | None = None

    @classmethod
    def load(cls, store: Store, set_id: int | None = None) -> SuspectIndex:
        """Read the current analysis of a prediction set (the active one by default).

        Suspect keys are not read (they follow from kind, label and prediction); decisions are
        matched to rows in numpy, so loading 1M suspects is a plain column fetch.
        """
        analysis = store.current_analysis(set_id)
        names = store.category_names()
        set_names = {int(s["id"]): s["name"] for s in store.prediction_sets()}
        if analysis is None:
            first = set_id if isinstance(set_id, int | np.integer) or set_id is None else None
            return cls(None, first, category_names=names, set_names=set_names)
        idx = cls(analysis["id"], analysis["set_id"], category_names=names, set_names=set_names)
        idx.set_ids = list(analysis["set_ids"])
        idx.file_names = project_file_names(store)
        report = store.analysis_report(analysis["id"]) or {}
        columns = store.cached_suspect_columns(analysis["id"])
        if columns is None:
            columns = store.suspect_index_columns(analysis["id"])
        orders = {k: columns.pop(k) for k in CACHED_ORDERS if k in columns}
        save = "order:score" not in orders  # no cache, or one from before the orders
        idx._set_columns(columns)
        idx._set_orders(orders)
        idx.review_cut = float(report.get("review_cut", 0.0))
        if idx.multi:
            idx.support = store.suspect_support(analysis["id"])
        idx.reload_statuses(store)
        if len(idx) >= CACHE_MIN_ROWS:
            idx.warm("score", True)  # the default order (~2 s at 5M suspects: cached)
            idx._by_group()  # and the groups' order the default one-row-per-object view uses
            if save and not store.readonly:
                idx.save_cache(store)
        return idx

    def reload_statuses(self, store: Store) -> None:
        """Every suspect's status read again from the project's decisions (an analysis of
        several sets: the latest decision under any of its sets' keys)."""
        if self.analysis_id is None:
            return
        status = np.zeros(len(self.ids), dtype=np.int8)
        if self.multi:
            decided, codes = store.suspect_statuses(
                self.analysis_id, {s: STATUS_CODE[s] for s in STATUSES[1:]}
            )
            pos = np.searchsorted(self.ids, decided)
            hit = (pos < len(self.ids)) & (self.ids[np.minimum(pos, len(self.ids) - 1)] == decided)
            status[pos[hit]] = codes[hit]
        else:
            decisions = store.decisions(self.set_id)
            for decision in STATUSES[1:]:
                keys = [k for k, d in decisions.items() if d == decision]
                if keys:
                    status[self.positions_of(keys)] = STATUS_CODE[decision]
        self.status = status
        self._forget_caches(["status"])

    @property
    def multi(self) -> bool:
        """True for the analysis of several prediction sets."""
        return len(self.set_ids) > 1

    def cache_is_current(self, store: Store) -> bool:
        """True if the project holds this analysis's columns at their current generation."""
        return self.analysis_id is not None and store.suspect_cache_is_current(self.analysis_id)

    def save_cache(self, store: Store, generation: int | None = None) -> None:
        """Store the columns as numpy blobs, so the next load skips building 1M row tuples.

        Every transaction that changes this analysis's suspects (core.analyze) bumps its
        generation, and a cache is used only at the generation it was saved at; an index
        updated by :meth:`reload_images` equals a full load and may be saved back (the session
        does so on close). Not saved when the project's suspects moved on meanwhile (from
        ``generation``, when given).
        """
        if self.analysis_id is not None:
            columns = {name: getattr(self, name) for name in _COLUMNS}
            columns.update(self._orders_to_cache())
            store.save_suspect_cache(self.analysis_id, columns, generation)

    def _orders_to_cache(self) -> dict[str, np.ndarray]:
        """The :data:`CACHED_ORDERS` this index has built (the score order, the group order)."""
        out = {}
        score = self.__dict__.get("_order_cache", {}).get(("score", True))
        if score is not None and len(score) == len(self):
            out["order:score"] = score
        cached = self.__dict__.get("_group_order")
        if cached is not None and cached[2] is self.ids and cached[0] is not None:
            out["order:group"] = cached[0]
        return out

    def _set_orders(self, orders: dict[str, np.ndarray]) -> None:
        """Take the sort orders read with the cached columns (:data:`CACHED_ORDERS`)."""
        score = orders.get("order:score")
        if score is not None and len(score) == len(self):
            self.__dict__.setdefault("_order_cache", {})[("score", True)] = score
        group = orders.get("order:group")
        if group is not None and len(group) == len(self):
            self.__dict__["_group_order"] = (group, self.group[group], self.ids)

    def reload_images(self, store: Store, image_ids: Iterable[int]) -> None:
        """Re-read only these images' suspects (after their re-analysis), with their statuses.

        Leaves the index exactly as :meth:`load` would build it, at a cost that grows with the
        number of those images' suspects rather than with the whole analysis.
        """
        ids = sorted({int(i) for i in image_ids})
        if self.analysis_id is None or not ids:
            return
        codes = {s: STATUS_CODE[s] for s in STATUSES[1:]}
        fresh = store.suspect_index_columns(self.analysis_id, ids, None if self.multi else codes)
        if self.multi:
            fresh["status"] = np.zeros(len(fresh["ids"]), dtype=np.int8)
            decided, status = store.suspect_statuses(self.analysis_id, codes)
            hit = np.isin(decided, fresh["ids"])
            fresh["status"][np.searchsorted(fresh["ids"], decided[hit])] = status[hit]
        keep = ~np.isin(self.image_id, np.asarray(ids, dtype=np.int64))
        kept_ids = self.ids[keep]
        at = np.searchsorted(kept_ids, fresh["ids"])  # merge by id: both sides are sorted
        for name in (*_COLUMNS, "status"):
            setattr(self, name, np.insert(getattr(self, name)[keep], at, fresh[name]))
        if self.multi and self.support is not None:
            sup = self.support
            stay = np.isin(sup["suspect_id"], kept_ids)  # the re-read images' rows: anew
            new = store.suspect_support(self.analysis_id, ids)
            merged = {k: np.concatenate([sup[k][stay], new[k]]) for k in sup}
            order = np.lexsort((merged["set_id"], merged["suspect_id"]))
            self.support = {k: v[order] for k, v in merged.items()}
        self._fill_sets()
        self._forget_caches()

    def __len__(self) -> int:
        return len(self.ids)

    def _set_columns(self, columns: dict[str, np.ndarray]) -> None:
        for name, col in columns.items():
            setattr(self, name, col)
        self._fill_sets()
        self._forget_caches()

    def _fill_sets(self) -> None:
        """One set's rows name no set (-1): the analysis's own."""
        if (
            len(self.prediction_set_id)
            and self.set_id is not None
            and (self.prediction_set_id < 0).any()
        ):
            self.prediction_set_id = np.where(
                self.prediction_set_id < 0, self.set_id, self.prediction_set_id
            )

    def _forget_caches(self, keys: Iterable[str] | None = None) -> None:
        """Drop cached sort orders (of these sort keys; all by default), ranks and keys."""
        orders = self.__dict__.get("_order_cache", {})
        if keys is None:
            orders.clear()
            self.__dict__.pop("_rank_cache", None)
            self.__dict__.pop("_keys", None)
            self.__dict__.pop("_group_order", None)
        else:
            for key in keys:
                orders.pop((key, False), None)
                orders.pop((key, True), None)

    # ------------------------------------------------------------------ filter and sort
    def mask(self, flt: SuspectFilter) -> np.ndarray:
        """Boolean mask of the suspects the filter keeps."""
        keep = np.ones(len(self), dtype=bool)
        if flt.min_confidence > 0:
            keep &= np.isnan(self.confidence) | (self.confidence >= flt.min_confidence)
        min_score = self.review_cut if flt.min_score is None else flt.min_score
        if min_score > 0:
            keep &= self.score >= min_score
        if flt.group is not None:
            keep &= self.group == flt.group
        if flt.class_pair is not None:
            a, b = flt.class_pair
            keep &= (self.category_id == a) & (self.predicted_category_id == b)
        if flt.min_iou > 0 or flt.max_iou < 1:
            iou = self.iou
            keep &= np.isnan(iou) | ((iou >= flt.min_iou) & (iou <= flt.max_iou))
        if flt.kinds is not None:
            keep &= np.isin(self.kind, [KIND_CODE[k] for k in flt.kinds])
        if flt.category_ids is not None:
            cats = np.fromiter(flt.category_ids, dtype=np.int64)
            keep &= np.isin(self.category_id, cats) | np.isin(self.predicted_category_id, cats)
        if flt.statuses is not None:
            keep &= np.isin(self.status, [STATUS_CODE[s] for s in flt.statuses])
        if flt.image_ids is not None:
            keep &= np.isin(self.image_id, np.fromiter(flt.image_ids, dtype=np.int64))
        if flt.file_name:
            needle = flt.file_name.lower()
            hits = np.fromiter(
                (i for i, f in _as_dict(self.file_names).items() if needle in f.lower()),
                dtype=np.int64,
            )
            keep &= np.isin(self.image_id, hits)
        return keep

    def _sort_values(self, key: str) -> np.ndarray:
        if key == "score":
            return self.score
        if key == "kind":
            return self.kind
        if key == "confidence":
            return np.nan_to_num(self.confidence, nan=-1.0)
        if key == "probability":
            return np.nan_to_num(self.probability, nan=-1.0)
        if key == "iou":
            return np.nan_to_num(self.iou, nan=-1.0)
        if key == "status":
            return self.status
        if key in ("alternatives", "sets"):
            cache = self.__dict__.setdefault("_rank_cache", {})
            if key not in cache or len(cache[key]) != len(self):
                cache[key] = (
                    self.group_size(np.arange(len(self))) - 1
                    if key == "alternatives"
                    else self.support_counts()
                )
            return cache[key]
        if key == "id":
            return self.ids
        if key in ("label_class", "predicted_class", "file_name"):
            cache = self.__dict__.setdefault("_rank_cache", {})
            if key not in cache:
                col = {
                    "label_class": self.category_id,
                    "predicted_class": self.predicted_category_id,
                    "file_name": self.image_id,
                }[key]
                names = _as_dict(self.file_names) if key == "file_name" else self.category_names
                cache[key] = stable_sort.name_ranks(col, names)
            return cache[key]
        raise KeyError(f"cannot sort suspects by {key!r}; choose one of {SORT_KEYS}")

    def _order(self, key: str, descending: bool, rows: np.ndarray | None = None) -> np.ndarray:
        """Positions (of ``rows``, else of all suspects) sorted by a key (ties: lower id first)."""
        values = self._sort_values(key)
        if rows is not None:
            values = values[rows]
        if descending:
            if values.dtype.kind in "iu":
                values = (int(values.max()) if len(values) else 0) - values.astype(np.int64)
            else:
                values = -values.astype(np.float64)
        # positions are in suspect-id order, so a stable sort keeps ties by id
        order = stable_sort.stable_argsort(values)
        return order if rows is None else rows[order]

    def _reversed(self, sort: str, order: np.ndarray) -> np.ndarray:
        """The order of the other direction: reversed, with ties kept in position order.

        Every cached order lists ties in position order, so reversed they are in the opposite
        one: mirroring each run of ties in place puts them back (no sort needed).
        """
        reverse = order[::-1]
        ordered = self._sort_values(sort)[reverse]
        tie = ordered[1:] == ordered[:-1]
        if not tie.any():
            return reverse.copy()
        starts = np.flatnonzero(np.r_[True, ~tie])  # first slot of each run
        ends = np.r_[starts[1:], len(order)] - 1  # last slot of each run
        run = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(order)]))
        return reverse[starts[run] + ends[run] - np.arange(len(order))]

    def warm(self, sort: str = "score", descending: bool = True) -> None:
        """Build and keep the full sort order of one key now (the default one at load), so the
        first unfiltered listing does not pay for it."""
        orders: dict[tuple[str, bool], np.ndarray] = self.__dict__.setdefault("_order_cache", {})
        if (sort, descending) not in orders or len(orders[(sort, descending)]) != len(self):
            orders[(sort, descending)] = self._order(sort, descending)

    def query(self, flt: SuspectFilter, sort: str = "score", descending: bool = True) -> np.ndarray:
        """Row positions of the suspects the filter keeps, sorted (ties: lower suspect id first).

        The full sort order of each (key, direction) is built once and kept (a few of them), so
        a later query only drops the rows the filter leaves out, in one pass.
        """
        keep = self.mask(flt)
        if flt.per_object:
            keep = self.group_heads(keep)
        orders: dict[tuple[str, bool], np.ndarray] = self.__dict__.setdefault("_order_cache", {})
        order = orders.pop((sort, descending), None)
        if order is None or len(order) != len(self):
            rows = np.flatnonzero(keep)
            if len(rows) < len(keep) // 8:  # a small selection: sorting just it is cheaper
                return rows if len(rows) == 0 else self._order(sort, descending, rows)
            opposite = orders.get((sort, not descending))
            if opposite is not None and len(opposite) == len(self):
                order = self._reversed(sort, opposite)  # ~10x cheaper than a new sort
            else:
                order = self._order(sort, descending)
        orders[(sort, descending)] = order  # most recently used last
        while len(orders) > _MAX_ORDERS:
            del orders[next(iter(orders))]
        return order[keep[order]]

    # ------------------------------------------------------------------ groups
    def _by_group(self) -> np.ndarray | None:
        """Positions ordered by group, then rank (ties: position); None when every group has
        one row (nothing to choose)."""
        return self._groups_sorted()[0]

    def _groups_sorted(self) -> tuple[np.ndarray | None, np.ndarray | None]:
        """:meth:`_by_group` and the group of each of those positions (both kept until the
        columns change: a table cell asks for its row's group size)."""
        cached = self.__dict__.get("_group_order")
        if cached is not None and cached[2] is self.ids:
            return cached[0], cached[1]
        order = groups = None
        if len(self) and bool((self.group_rank > 0).any()):
            span = int(self.group_rank.max()) + 1
            key = (self.group.astype(np.int64) - int(self.group.min())) * span + self.group_rank
            order = stable_sort.stable_argsort(key)
            groups = self.group[order]
        self.__dict__["_group_order"] = (order, groups, self.ids)
        return order, groups

    def group_heads(self, keep: np.ndarray) -> np.ndarray:
        """Of the rows ``keep`` marks, the one per group with the lowest rank (the most likely
        fix the rest of the filter lists)."""
        order, groups = self._groups_sorted()
        if order is None or groups is None:
            return keep
        kept = keep[order]
        positions, group = order[kept], groups[kept]
        first = np.r_[True, group[1:] != group[:-1]] if len(positions) else np.zeros(0, bool)
        heads = np.zeros(len(self), dtype=bool)
        heads[positions[first]] = True
        return heads

    def alternatives(self, pos: int) -> np.ndarray:
        """Positions of the other suspects of the row's group (the same object), best first."""
        order, groups = self._groups_sorted()
        if order is None or groups is None:
            return np.zeros(0, dtype=np.int64)
        g = self.group[pos]
        lo, hi = np.searchsorted(groups, g), np.searchsorted(groups, g, side="right")
        members = order[lo:hi]
        return members[members != pos]

    def group_size(self, positions: np.ndarray) -> np.ndarray:
        """How many suspects each row's group has."""
        positions = np.asarray(positions, dtype=np.int64)
        order, groups = self._groups_sorted()
        if order is None or groups is None or not len(positions):
            return np.ones(len(positions), dtype=np.int64)
        g = self.group[positions]
        return np.searchsorted(groups, g, side="right") - np.searchsorted(groups, g)

    # ------------------------------------------------------------------ prediction sets
    def supported_by(self, pos: int) -> list[dict]:
        """The prediction sets that found this suspect: set name and id, their prediction's id,
        confidence and calibrated probability, and the suspect's score in that set; best first.

        One set: the analysis's set with the row's own numbers."""

        def opt_int(v: float) -> int | None:
            return None if v < 0 else int(v)

        def opt_float(v: float) -> float | None:
            return None if np.isnan(v) else float(v)

        if self.support is None:
            sid = int(self.prediction_set_id[pos]) if len(self.prediction_set_id) else self.set_id
            return [
                {
                    "set": self.set_names.get(sid) if sid is not None else None,
                    "set_id": sid,
                    "prediction_id": opt_int(self.prediction_id[pos]),
                    "confidence": opt_float(self.confidence[pos]),
                    "probability": opt_float(self.probability[pos]),
                    "score": float(self.score[pos]),
                    "key": self.key(pos),
                }
            ]
        sup = self.support
        sid = self.ids[pos]
        lo, hi = np.searchsorted(sup["suspect_id"], [sid, sid + 1])
        kind, ann = KINDS[int(self.kind[pos])], _opt(self.annotation_id[pos])
        other = _opt(self.other_annotation_id[pos])
        out = []
        for i in range(lo, hi):
            pred = opt_int(sup["prediction_id"][i])
            set_id = int(sup["set_id"][i])
            out.append(
                {
                    "set": self.set_names.get(set_id),
                    "set_id": set_id,
                    "prediction_id": pred,
                    "confidence": opt_float(sup["confidence"][i]),
                    "probability": opt_float(sup["probability"][i]),
                    "score": float(sup["score"][i]),
                    "key": suspect_key(kind, ann, pred, other),
                }
            )
        out.sort(key=lambda s: -s["score"])
        return out

    def support_counts(self) -> np.ndarray:
        """How many prediction sets support each suspect (1 everywhere for one set)."""
        if self.support is None:
            return np.ones(len(self), dtype=np.int64)
        pos = np.searchsorted(self.ids, self.support["suspect_id"])
        return np.bincount(pos, minlength=len(self)).astype(np.int64)

    # ------------------------------------------------------------------ rows
    def row(self, pos: int) -> dict:
        """One suspect as a dict (the CLI's JSON record plus id, key and status)."""

        def opt_int(v: int) -> int | None:
            return None if v < 0 else int(v)

        def opt_float(v: float) -> float | None:
            return None if np.isnan(v) else float(v)

        image_id = int(self.image_id[pos])
        return {
            "id": int(self.ids[pos]),
            "key": self.key(pos),
            "kind": KINDS[int(self.kind[pos])],
            "score": float(self.score[pos]),
            "image_id": image_id,
            "file_name": self.file_names.get(image_id),
            "annotation_id": opt_int(self.annotation_id[pos]),
            "other_annotation_id": opt_int(self.other_annotation_id[pos]),
            "prediction_id": opt_int(self.prediction_id[pos]),
            "category_id": opt_int(self.category_id[pos]),
            "predicted_category_id": opt_int(self.predicted_category_id[pos]),
            "iou": opt_float(self.iou[pos]),
            "confidence": opt_float(self.confidence[pos]),
            "probability": opt_float(self.probability[pos]),
            "group": int(self.group[pos]),
            "group_rank": int(self.group_rank[pos]),
            "set_id": int(self.prediction_set_id[pos])
            if len(self.prediction_set_id)
            else self.set_id,
            "supported_by": self.supported_by(pos),
            "status": STATUSES[int(self.status[pos])],
        }

    @property
    def keys(self) -> np.ndarray:
        """Every suspect's key as an object array (built once on first use; prefer
        :meth:`key` and :meth:`positions_of`, which need no strings)."""
        cached = self.__dict__.get("_keys")
        if cached is None or len(cached) != len(self):
            cached = np.asarray([self.key(p) for p in range(len(self))], dtype=object)
            self.__dict__["_keys"] = cached
        return cached

    def key(self, pos: int) -> str:
        """The stable key of the suspect at a row position (see errors.suspect_key)."""
        return suspect_key(
            KINDS[int(self.kind[pos])],
            _opt(self.annotation_id[pos]),
            _opt(self.prediction_id[pos]),
            _opt(self.other_annotation_id[pos]),
        )

    def positions_of_decisions(self, pairs: Iterable[tuple[int, str]]) -> np.ndarray:
        """Row positions of the suspects a decision under one of these (set id, key) pairs
        concerns: the suspect with that key in that set, or, with several sets, the suspect
        that set supports under that key."""
        pairs = list(pairs)
        if self.support is None:
            keys = [k for s, k in pairs if self.set_id is None or int(s) == int(self.set_id)]
            return self.positions_of(keys)
        wanted = {(int(s), k) for s, k in pairs}
        if not wanted or len(self) == 0:
            return np.zeros(0, dtype=np.int64)
        anns = set()
        for _s, key in wanted:
            ann = key.split(":")[1]
            anns.add(int(ann) if ann else -1)
        sup = self.support
        pos_of = np.searchsorted(self.ids, sup["suspect_id"])
        cand = np.flatnonzero(
            np.isin(self.annotation_id[pos_of], np.fromiter(anns, dtype=np.int64))
        )
        hits = set()
        for i in cand.tolist():
            p = int(pos_of[i])
            pred = _opt(sup["prediction_id"][i])
            key = suspect_key(
                KINDS[int(self.kind[p])],
                _opt(self.annotation_id[p]),
                pred,
                _opt(self.other_annotation_id[p]),
            )
            if (int(sup["set_id"][i]), key) in wanted:
                hits.add(p)
        return np.asarray(sorted(hits), dtype=np.int64)

    def positions_of(self, keys: Iterable[str]) -> np.ndarray:
        """Row positions of the suspects with these keys (unknown keys are skipped)."""
        wanted: set[tuple[int, int, int]] = set()
        for key in keys:
            kind, ann, second = key.split(":")
            wanted.add((KIND_CODE[kind], int(ann) if ann else -1, int(second) if second else -1))
        if not wanted or len(self) == 0:
            return np.zeros(0, dtype=np.int64)
        second_col = np.where(
            self.kind == KIND_CODE["duplicate_label"], self.other_annotation_id, self.prediction_id
        )
        anns = np.fromiter((w[1] for w in wanted), dtype=np.int64)
        seconds = np.fromiter((w[2] for w in wanted), dtype=np.int64)
        cand = np.flatnonzero(np.isin(self.annotation_id, anns) & np.isin(second_col, seconds))
        hits = [
            p for p in cand.tolist()
            if (int(self.kind[p]), int(self.annotation_id[p]), int(second_col[p])) in wanted
        ]  # fmt: skip
        return np.asarray(hits, dtype=np.int64)

    def set_status(self, keys: Iterable[str], status: str, set_id: int | None = None) -> None:
        """Update the status column in memory after decisions changed (under these keys of
        ``set_id``, by default the analysis's first set)."""
        sid = self.set_id if set_id is None else set_id
        self.status[self.positions_of_decisions((sid, k) for k in keys)] = STATUS_CODE[status]
        self._forget_caches(["status"])

    def counts_by_status(self, positions: Sequence[int] | None = None) -> dict[str, int]:
        """How many suspects are open / accepted / rejected / flagged."""
        status = (
            self.status if positions is None else self.status[np.asarray(positions, dtype=np.int64)]
        )
        counts = np.bincount(status.astype(np.int64), minlength=len(STATUSES))
        return {s: int(counts[i]) for i, s in enumerate(STATUSES)}


def project_file_names(store: Store) -> Mapping[int, str]:
    """The project's file names: from their cache, else read (and cached for the next open when
    the project is large and writable)."""
    cached = store.cached_file_names()
    if cached is not None:
        return FileNames(cached)
    names = store.file_names()
    if len(names) >= CACHE_MIN_ROWS and not store.readonly:
        store.save_file_names_cache(names)
    return names


def _opt(value: float) -> int | None:
    return None if value < 0 or value != value else int(value)


CLI_FIELDS = (
    "kind",
    "score",
    "image_id",
    "file_name",
    "annotation_id",
    "prediction_id",
    "category_id",
    "predicted_category_id",
    "iou",
    "confidence",
)


GROUP_FIELDS = ("probability", "group", "group_rank", "supported_by")
"""Fields the JSON records gained with calibration, groups and several sets (after the old
ones, which keep their names and meaning)."""


def cli_record(row: dict) -> dict:
    """The suspect record ``labelfix suspects --format json`` prints: the first LabelFix's
    fields, then the calibrated probability, the group (one object's alternatives) and rank
    in it (0: the most likely fix), and the sets that support it."""
    record = {k: row[k] for k in CLI_FIELDS}
    record.update({k: row[k] for k in GROUP_FIELDS[:3]})
    record["supported_by"] = [
        {k: s[k] for k in ("set", "prediction_id", "confidence", "probability", "score")}
        for s in row["supported_by"]
    ]
    return record
