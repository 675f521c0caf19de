"""Listing suspects: filter and sort the current analysis's suspects, fast.

The CLI's ``labelfix suspects`` and the desktop's table both go through :class:`SuspectIndex`,
so they list the same suspects in the same order. The index holds the columns in numpy, so a
sort or filter over 500,000 suspects is a few numpy passes, and rows are read lazily by id.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from .analyze import current_analysis
from .errors import KIND_CODE, KINDS, suspect_key
from .store import Store

STATUSES = ("open", "accepted", "rejected", "flagged")
STATUS_CODE = {s: i for i, s in enumerate(STATUSES)}
# sortable columns and what they sort on
SORT_KEYS = (
    "score",
    "kind",
    "confidence",
    "iou",
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
    ones without a prediction (duplicate and spurious labels). ``statuses`` filters on the review
    decision ("open" = no decision). ``category_ids`` matches the label's or the predicted class.
    """

    min_confidence: float = 0.0
    kinds: frozenset[str] | None = None
    category_ids: frozenset[int] | None = None
    statuses: frozenset[str] | None = None
    file_name: str = ""
    image_ids: frozenset[int] | None = None

    def with_(self, **changes: object) -> SuspectFilter:
        """A copy with some fields changed."""
        return replace(self, **changes)


_CHUNK = 20_000
DEFAULT_REVIEW_FILTER = SuspectFilter(min_confidence=0.75, statuses=frozenset({"open"}))


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
    status: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))
    file_names: dict[int, str] = field(default_factory=dict)
    category_names: dict[int, str] = field(default_factory=dict)

    @classmethod
    def load(cls, store: Store, set_id: int | None = None) -> SuspectIndex:
        """Read the current analysis of a prediction set (the active one by default).

        Suspect keys are not read (they follow from kind, label and prediction); decisions are
        matched to rows in numpy, so loading 1M suspects is a plain column fetch.
        """
        analysis = current_analysis(store, set_id)
        names = store.category_names()
        if analysis is None:
            return cls(None, set_id, category_names=names)
        kind_case = " ".join(f"WHEN '{k}' THEN {i}" for k, i in KIND_CODE.items())
        cursor = store.execute(
            f"SELECT id, CASE kind {kind_case} END, score, image_id, COALESCE(annotation_id, -1), "
            "COALESCE(other_annotation_id, -1), COALESCE(prediction_id, -1), COALESCE(category_id, -1), "
            "COALESCE(predicted_category_id, -1), COALESCE(iou, 'nan'), COALESCE(confidence, 'nan') "
            "FROM suspects WHERE analysis_id = ? ORDER BY id",
            [analysis["id"]],
        )
        idx = cls(analysis["id"], analysis["set_id"], category_names=names)
        idx.file_names = {r[0]: r[1] for r in store.execute("SELECT id, file_name FROM images")}
        # columns are built chunk by chunk, so no single call holds the GIL for long (UI threads)
        dtypes = (
            np.int64,
            np.int8,
            np.float64,
            np.int64,
            np.int64,
            np.int64,
            np.int64,
            np.int64,
            np.int64,
            np.float64,
            np.float64,
        )
        parts: list[list[np.ndarray]] = [[] for _ in dtypes]
        while chunk := cursor.fetchmany(_CHUNK):
            data = np.asarray(chunk, dtype=np.float64)
            for i, dtype in enumerate(dtypes):
                parts[i].append(data[:, i].astype(dtype))
        if parts[0]:
            (
                idx.ids, idx.kind, idx.score, idx.image_id, idx.annotation_id, idx.other_annotation_id,
                idx.prediction_id, idx.category_id, idx.predicted_category_id, idx.iou, idx.confidence,
            ) = (np.concatenate(p) for p in parts)  # fmt: skip
        idx.status = np.zeros(len(idx.ids), dtype=np.int8)
        decisions = store.execute(
            "SELECT suspect_key, decision FROM decisions WHERE prediction_set_id = ?",
            [analysis["set_id"]],
        ).fetchall()
        for decision in STATUSES[1:]:
            keys = [k for k, d in decisions if d == decision]
            if keys:
                idx.status[idx.positions_of(keys)] = STATUS_CODE[decision]
        return idx

    def __len__(self) -> int:
        return len(self.ids)

    # ------------------------------------------------------------------ filter and sort
    def mask(self, flt: SuspectFilter) -> np.ndarray:
        """Boolean mask of the suspects the filter keeps."""
        keep = np.ones(len(self), dtype=bool)
        if flt.min_confidence > 0:
            keep &= np.isnan(self.confidence) | (self.confidence >= flt.min_confidence)
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
                (i for i, f in self.file_names.items() if needle in f.lower()), dtype=np.int64
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
        if key == "iou":
            return np.nan_to_num(self.iou, nan=-1.0)
        if key == "status":
            return self.status
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
                names = self.file_names if key == "file_name" else self.category_names
                uniq, inverse = np.unique(col, return_inverse=True)
                rank = np.argsort(
                    np.argsort([names.get(int(u), "") for u in uniq], kind="stable"), kind="stable"
                )
                cache[key] = rank[inverse]
            return cache[key]
        raise KeyError(f"cannot sort suspects by {key!r}; choose one of {SORT_KEYS}")

    def query(self, flt: SuspectFilter, sort: str = "score", descending: bool = True) -> np.ndarray:
        """Row positions of the suspects the filter keeps, sorted (ties: lower suspect id first)."""
        rows = np.flatnonzero(self.mask(flt))
        if len(rows) == 0:
            return rows
        values = self._sort_values(sort)[rows]
        # positions are in suspect-id order, so one stable sort keeps ties by id
        key = -values.astype(np.float64) if descending else values
        return rows[np.argsort(key, kind="stable")]

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
            "prediction_id": opt_int(self.prediction_id[pos]),
            "category_id": opt_int(self.category_id[pos]),
            "predicted_category_id": opt_int(self.predicted_category_id[pos]),
            "iou": opt_float(self.iou[pos]),
            "confidence": opt_float(self.confidence[pos]),
            "status": STATUSES[int(self.status[pos])],
        }

    def position_of(self, suspect_id: int) -> int | None:
        """Row position of a suspect id, or None."""
        pos = int(np.searchsorted(self.ids, suspect_id))
        return pos if pos < len(self.ids) and self.ids[pos] == suspect_id else None

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

    def set_status(self, keys: Iterable[str], status: str) -> None:
        """Update the status column in memory after decisions changed."""
        self.status[self.positions_of(keys)] = STATUS_CODE[status]

    def counts_by_status(self, positions: Sequence[int] | None = None) -> dict[str, int]:
        """How many suspects are open / accepted / rejected / flagged."""
        status = (
            self.status if positions is None else self.status[np.asarray(positions, dtype=np.int64)]
        )
        counts = np.bincount(status.astype(np.int64), minlength=len(STATUSES))
        return {s: int(counts[i]) for i, s in enumerate(STATUSES)}


def _opt(value: int) -> int | None:
    return None if value < 0 else int(value)


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


def cli_record(row: dict) -> dict:
    """The suspect record ``labelfix suspects --format json`` prints."""
    return {k: row[k] for k in CLI_FIELDS}
