"""Analysis of a project: match a prediction set to the labels and find the suspects.

A full run computes everything in memory and then replaces the previous analysis in one
transaction, so a cancelled or crashed run leaves the old one in place. After an edit only the
touched images are re-analysed (:func:`reanalyze_images`). Suspects that carry a review
decision are kept even when a re-analysis no longer finds them (an accepted fix usually makes
its suspect disappear), so the decision stays visible.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import chain

import numpy as np
from pycocotools import mask as mask_utils

from . import errors, geometry
from .errors import KINDS, AnalysisParams, batch_suspects, score_suspects, suspect_key
from .matching import FP, IGNORED, TP, ImageLabels, ImageMatches, ImagePredictions, match_many
from .store import Store, now

Progress = Callable[[int, int], None]
ShouldStop = Callable[[], bool]
OUTCOME_NAMES = {TP: "tp", FP: "fp", IGNORED: "ignored"}
CHUNK = 500  # images per matching step (between progress reports and cancel checks)


class AnalysisError(RuntimeError):
    """An analysis that cannot run on this project as asked (e.g. masks without masks)."""


class Cancelled(RuntimeError):  # noqa: N818 - it is an outcome, not a failure
    """The analysis was cancelled; the previous analysis is untouched."""


@dataclass
class AnalysisSummary:
    """What a finished analysis found."""

    analysis_id: int
    images: int
    predictions: int
    suspects: dict[str, int]
    stale_images: int = 0


# ---------------------------------------------------------------------- loading
def _label_rles(
    store: Store, rows: Sequence[tuple], sizes: dict[int, tuple[int, int]]
) -> list[dict]:
    """Compressed RLEs of labels, from the project's mask cache or encoded once and cached."""
    cached = {
        r[0]: (r[1], r[2], r[3], r[4])
        for r in store.execute(
            "SELECT id, revision, height, width, counts FROM mask_cache WHERE owner = 'gt'"
        )
    }
    out, new = [], []
    for ann_id, image_id, _cat, x, y, w, h, _crowd, _area, seg, revision in rows:
        hit = cached.get(ann_id)
        if hit is not None and hit[0] == revision:
            out.append({"size": [hit[1], hit[2]], "counts": hit[3]})
            continue
        height, width = sizes[image_id]
        rle = geometry.to_rle(
            None if seg is None else json.loads(seg), height, width, box=[x, y, w, h]
        )
        out.append(rle)
        new.append(("gt", ann_id, revision, height, width, rle["counts"]))
    if new and not store.readonly:
        with store.atomic():
            store.conn.executemany(
                "INSERT OR REPLACE INTO mask_cache (owner, id, revision, height, width, counts) VALUES (?,?,?,?,?,?)",
                new,
            )
    return out


def load_labels(
    store: Store, image_ids: Iterable[int] | None, geometry_name: str
) -> dict[int, ImageLabels]:
    """The current labels grouped by image (every image of ``image_ids`` present, maybe empty)."""
    sql = "SELECT id, image_id, category_id, x, y, w, h, iscrowd, area, segmentation, revision FROM annotations"
    ids = None if image_ids is None else sorted(set(image_ids))
    if ids is not None:
        sql += f" WHERE image_id IN ({','.join('?' * len(ids))})"
    if geometry_name != "masks":
        sql = sql.replace("segmentation", "NULL")
    rows = store.execute(sql + " ORDER BY image_id, position", ids or []).fetchall()
    sizes = store.image_sizes()
    rles = _label_rles(store, rows, sizes) if geometry_name == "masks" else None
    all_ids = ids if ids is not None else list(sizes)
    out: dict[int, ImageLabels] = {i: _empty_labels(geometry_name) for i in all_ids}
    if not rows:
        return out
    num = np.array(
        [
            (
                r[0],
                r[1],
                r[2],
                r[3],
                r[4],
                r[5],
                r[6],
                r[7],
                r[8] if r[8] is not None else r[5] * r[6],
            )
            for r in rows
        ],
        dtype=np.float64,
    )
    image_col = num[:, 1].astype(np.int64)
    bounds = np.flatnonzero(np.diff(image_col)) + 1
    starts = np.concatenate([[0], bounds])
    ends = np.concatenate([bounds, [len(rows)]])
    for s, e in zip(starts, ends, strict=True):
        block = num[s:e]
        out[int(image_col[s])] = ImageLabels(
            ids=block[:, 0].astype(np.int64),
            category_ids=block[:, 2].astype(np.int64),
            boxes=np.ascontiguousarray(block[:, 3:7]),
            iscrowd=block[:, 7].astype(bool),
            areas=block[:, 8].copy(),
            rles=None if rles is None else rles[s:e],
        )
    return out


def _empty_labels(geometry_name: str) -> ImageLabels:
    return ImageLabels(
        ids=np.zeros(0, np.int64),
        category_ids=np.zeros(0, np.int64),
        boxes=np.zeros((0, 4)),
        iscrowd=np.zeros(0, bool),
        areas=np.zeros(0),
        rles=[] if geometry_name == "masks" else None,
    )


def _prediction_rles(
    store: Store, set_id: int, pred_ids: np.ndarray, image_ids: np.ndarray
) -> list[dict]:
    """Compressed RLEs of predictions (segmentations as given, encoded once and cached)."""
    owner = f"pred:{set_id}"
    cached = {
        r[0]: {"size": [r[1], r[2]], "counts": r[3]}
        for r in store.execute(
            "SELECT id, height, width, counts FROM mask_cache WHERE owner = ?", [owner]
        )
    }
    if len(cached) < len(pred_ids):
        sizes = store.image_sizes()
        new = []
        segs = dict(
            store.execute(
                "SELECT id, segmentation FROM prediction_shapes WHERE set_id = ?", [set_id]
            )
        )
        arr = store.prediction_arrays(set_id)
        for pid, image_id, box in zip(
            arr["id"].tolist(), arr["image_id"].tolist(), arr["box"].tolist(), strict=True
        ):
            if pid in cached:
                continue
            height, width = sizes[image_id]
            seg = segs.get(pid)
            rle = geometry.to_rle(None if seg is None else json.loads(seg), height, width, box=box)
            counts = rle["counts"] if isinstance(rle["counts"], bytes) else rle["counts"].encode()
            cached[pid] = {"size": [height, width], "counts": counts}
            new.append((owner, pid, 0, height, width, counts))
        if new and not store.readonly:
            with store.atomic():
                store.conn.executemany(
                    "INSERT OR REPLACE INTO mask_cache (owner, id, revision, height, width, counts) VALUES (?,?,?,?,?,?)",
                    new,
                )
    return [cached[int(p)] for p in pred_ids]


def load_predictions(
    store: Store, set_id: int, image_ids: Iterable[int] | None, geometry_name: str
) -> dict[int, ImagePredictions]:
    """A prediction set grouped by image, from its cached columns."""
    arr = store.prediction_arrays(set_id)
    img = arr["image_id"]
    if image_ids is not None:
        keep = np.isin(img, np.fromiter(image_ids, dtype=np.int64))
        arr = {k: v[keep] for k, v in arr.items()}
        img = arr["image_id"]
    rles = _prediction_rles(store, set_id, arr["id"], img) if geometry_name == "masks" else None
    out: dict[int, ImagePredictions] = {}
    if len(img) == 0:
        return out
    bounds = np.flatnonzero(np.diff(img)) + 1
    starts = np.concatenate([[0], bounds])
    ends = np.concatenate([bounds, [len(img)]])
    for s, e in zip(starts, ends, strict=True):
        out[int(img[s])] = ImagePredictions(
            ids=arr["id"][s:e],
            category_ids=arr["category_id"][s:e],
            scores=arr["score"][s:e],
            boxes=arr["box"][s:e],
            rles=None if rles is None else rles[s:e],
        )
    return out


def _empty_predictions(geometry_name: str) -> ImagePredictions:
    return ImagePredictions(
        ids=np.zeros(0, np.int64),
        category_ids=np.zeros(0, np.int64),
        scores=np.zeros(0),
        boxes=np.zeros((0, 4)),
        rles=[] if geometry_name == "masks" else None,
    )


# ---------------------------------------------------------------------- computing
@dataclass
class _Result:
    image_ids: list[int]
    pred_id: np.ndarray
    pred_image: np.ndarray
    outcome: np.ndarray
    annotation_id: np.ndarray
    iou: np.ndarray
    suspects: np.ndarray  # raw rows (errors.SUSPECT_COLUMNS) + score column


def _label_ious(labels: ImageLabels) -> np.ndarray | None:
    """The label-label mask IoU matrix of one image (None below two labels)."""
    if len(labels) < 2:
        return None
    return np.asarray(mask_utils.iou(labels.rles, labels.rles, [0] * len(labels)), np.float64)


def _match_columns(
    image_ids: list[int],
    items: list[tuple[ImagePredictions, ImageLabels]],
    matched: list[ImageMatches],
) -> tuple[np.ndarray, ...]:
    """Prediction id, image id, outcome, matched annotation id and IoU of a chunk's predictions."""
    n = np.array([len(p) for p, _ in items], dtype=np.int64)
    return (
        np.concatenate([np.zeros(0, np.int64), *(p.ids for p, _ in items)]),
        np.repeat(np.asarray(image_ids, dtype=np.int64), n),
        np.concatenate([np.zeros(0, np.int8), *(m.outcome for m in matched)]),
        np.concatenate([np.zeros(0, np.int64), *(m.annotation_id for m in matched)]),
        np.concatenate([np.zeros(0), *(m.iou for m in matched)]),
    )


def _compute(
    labels: dict[int, ImageLabels],
    preds: dict[int, ImagePredictions],
    image_ids: list[int],
    params: AnalysisParams,
    progress: Progress | None,
    should_stop: ShouldStop | None,
) -> _Result:
    """Match and find suspects for the given images (pure computation, no database)."""
    g = params.geometry
    total = len(image_ids)
    outs = [_match_columns([], [], [])]  # typed empty columns
    raws: list[np.ndarray] = []
    for start in range(0, total, CHUNK):
        if should_stop is not None and should_stop():
            raise Cancelled("analysis cancelled")
        chunk = image_ids[start : start + CHUNK]
        items = [
            (preds.get(i) or _empty_predictions(g), labels.get(i) or _empty_labels(g))
            for i in chunk
        ]
        matched: list[ImageMatches] = match_many(items, params.iou_threshold, params.max_dets, g)
        outs.append(_match_columns(chunk, items, matched))
        label_ious = [_label_ious(lab) for _, lab in items] if g == "masks" else None
        raw = batch_suspects(
            items, matched, chunk, params, label_ious
        )  # = image_suspects per image
        if len(raw):
            raws.append(raw)
        if progress is not None:
            progress(min(start + CHUNK, total), total)
    pid, pimg, outc, ann, iou = (np.concatenate(col) for col in zip(*outs, strict=True))
    raw = np.concatenate(raws) if raws else np.zeros((0, len(errors.SUSPECT_COLUMNS)))
    scored = (
        np.column_stack([raw, score_suspects(raw, params)])
        if len(raw)
        else np.zeros((0, len(errors.SUSPECT_COLUMNS) + 1))
    )
    return _Result(
        image_ids,
        pid.astype(np.int64),
        pimg.astype(np.int64),
        outc.astype(np.int8),
        ann.astype(np.int64),
        iou,
        scored,
    )


def _suspect_columns(analysis_id: int, suspects: np.ndarray) -> list[list]:
    """The suspects table's columns (in ``_INSERT_SUSPECT`` order) from the scored suspects array."""
    n = len(suspects)

    def column(col: int, dtype: type, missing: np.ndarray | None = None) -> list:
        out = suspects[:, col].astype(dtype).astype(object)  # Python ints / floats, made in C
        if missing is not None:
            out[missing] = None
        return out.tolist()

    def ints(col: int) -> list[int | None]:
        return column(col, np.int64, suspects[:, col].astype(np.int64) < 0)

    def floats(col: int) -> list[float | None]:
        return column(col, np.float64, np.isnan(suspects[:, col]))

    kinds = np.array(KINDS, dtype=object)[suspects[:, 0].astype(np.int64)].tolist()
    ann, other, pred = ints(2), ints(3), ints(4)
    keys = list(map(suspect_key, kinds, ann, pred, other))
    return [
        [analysis_id] * n,
        keys,
        kinds,
        suspects[:, -1].tolist(),
        column(1, np.int64),
        ann,
        other,
        pred,
        ints(5),
        ints(6),
        floats(7),
        floats(8),
    ]


def _suspect_rows(analysis_id: int, suspects: np.ndarray) -> list[tuple]:
    """Rows for the suspects table from the scored suspects array (columns converted at once)."""
    return list(zip(*_suspect_columns(analysis_id, suspects), strict=True))


_INSERT_SUSPECT = (
    "INSERT INTO suspects (analysis_id, key, kind, score, image_id, annotation_id, other_annotation_id, "
    "prediction_id, category_id, predicted_category_id, iou, confidence) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"
)
# Rows per multi-row INSERT: 80 x 12 parameters stays below the smallest SQLite limit (999).
# Measured: 360k rows insert in about half the time of one statement per row.
_SUSPECTS_PER_INSERT = 80
_INSERT_SUSPECTS = _INSERT_SUSPECT + ",(?,?,?,?,?,?,?,?,?,?,?,?)" * (_SUSPECTS_PER_INSERT - 1)


def _insert_suspects(store: Store, columns: list[list]) -> None:
    """Insert the suspect rows given as columns, in their order, many rows per statement."""
    width, n = len(columns), len(columns[0])
    flat: list = [None] * (width * n)  # row-major parameters, interleaved in C
    for k, col in enumerate(columns):
        flat[k::width] = col
    step = _SUSPECTS_PER_INSERT * width
    full = (n - n % _SUSPECTS_PER_INSERT) * width
    store.conn.executemany(_INSERT_SUSPECTS, (flat[s : s + step] for s in range(0, full, step)))
    rest = flat[full:]
    store.conn.executemany(
        _INSERT_SUSPECT, (rest[s : s + width] for s in range(0, len(rest), width))
    )


def _decided_leftovers(
    store: Store,
    old_analysis: int | None,
    set_id: int,
    new_keys: set[str],
    image_ids: list[int] | None,
) -> list[tuple]:
    """Old suspect rows that have a decision and were not found again (to keep them visible)."""
    if old_analysis is None:
        return []
    sql = (
        "SELECT s.key, s.kind, s.score, s.image_id, s.annotation_id, s.other_annotation_id, s.prediction_id, "
        "s.category_id, s.predicted_category_id, s.iou, s.confidence FROM suspects s JOIN decisions d "
        "ON d.suspect_key = s.key AND d.prediction_set_id = ? WHERE s.analysis_id = ?"
    )
    params: list = [set_id, old_analysis]
    if image_ids is not None:
        sql += f" AND s.image_id IN ({','.join('?' * len(image_ids))})"
        params += list(image_ids)
    return [r for r in store.execute(sql, params).fetchall() if r[0] not in new_keys]


def current_analysis(store: Store, set_id: int | None = None) -> dict | None:
    """The current analysis of a prediction set (the active one by default), or None."""
    if set_id is None:
        set_id = store.active_set_id()
        if set_id is None:
            return None
    row = store.execute(
        "SELECT id, params, created_at, geometry FROM analyses WHERE prediction_set_id = ? AND current = 1",
        [set_id],
    ).fetchone()
    if row is None:
        return None
    return {
        "id": row[0],
        "params": AnalysisParams.from_json(json.loads(row[1])),
        "created_at": row[2],
        "geometry": row[3],
        "set_id": set_id,
    }


# ---------------------------------------------------------------------- public entry points
def analyze(
    store: Store,
    set_id: int | None = None,
    params: AnalysisParams | None = None,
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
) -> AnalysisSummary:
    """Match and score the whole project; atomically replace the set's previous analysis."""
    params = params or AnalysisParams()
    set_id = store.resolve_set(None) if set_id is None else set_id
    info = store.execute(
        "SELECT has_segmentation, name FROM prediction_sets WHERE id = ?", [set_id]
    ).fetchone()
    if info is None:
        raise AnalysisError(f"{store.path} has no prediction set {set_id}")
    if params.geometry == "masks" and not info[0]:
        raise AnalysisError(
            f"prediction set {info[1]!r} has no segmentation, so masks cannot be compared; use --geometry boxes"
        )
    start_seq = store.execute("SELECT COALESCE(MAX(seq), 0) FROM change_log").fetchone()[0]
    image_ids = [r[0] for r in store.execute("SELECT id FROM images ORDER BY id")]
    labels = load_labels(store, None, params.geometry)
    preds = load_predictions(store, set_id, None, params.geometry)
    result = _compute(labels, preds, image_ids, params, progress, should_stop)
    if should_stop is not None and should_stop():
        raise Cancelled("analysis cancelled")
    old = current_analysis(store, set_id)
    with store.atomic():
        cur = store.execute(
            "INSERT INTO analyses (prediction_set_id, params, created_at, geometry, current) VALUES (?, ?, ?, ?, 0)",
            [set_id, json.dumps(params.to_json()), now(), params.geometry],
        )
        analysis_id = int(cur.lastrowid)
        order = np.argsort(result.pred_id, kind="stable")
        store.put_arrays(
            f"analysis:{analysis_id}",
            {
                "prediction_id": result.pred_id[order],
                "image_id": result.pred_image[order],
                "outcome": result.outcome[order],
                "annotation_id": result.annotation_id[order],
                "iou": result.iou[order],
            },
        )
        columns = _suspect_columns(analysis_id, result.suspects)
        _insert_suspects(store, columns)
        leftovers = _decided_leftovers(
            store, old["id"] if old else None, set_id, set(columns[1]), None
        )
        store.conn.executemany(_INSERT_SUSPECT, [(analysis_id, *r) for r in leftovers])
        for (old_id,) in store.execute(
            "SELECT id FROM analyses WHERE prediction_set_id = ? AND id != ?", [set_id, analysis_id]
        ).fetchall():
            store.execute("DELETE FROM arrays WHERE owner = ?", [f"analysis:{old_id}"])
            store.execute("DELETE FROM arrays WHERE owner = ?", [f"suspect_index:{old_id}"])
            store.execute("DELETE FROM meta WHERE key = ?", [f"suspects_generation:{old_id}"])
            store.execute("DELETE FROM analyses WHERE id = ?", [old_id])
        store.execute("UPDATE analyses SET current = 1 WHERE id = ?", [analysis_id])
    # edits made while this analysis ran: re-analyse their images on the labels as they are now
    stale = {
        r[0]
        for r in store.execute(
            "SELECT DISTINCT image_id FROM change_log WHERE seq > ? AND image_id IS NOT NULL",
            [start_seq],
        )
    }
    counts = dict.fromkeys(KINDS, 0)
    if stale:
        reanalyze_images(store, stale, set_id)
        for kind, n in store.execute(
            "SELECT kind, COUNT(*) FROM suspects WHERE analysis_id = ? GROUP BY kind", [analysis_id]
        ):
            counts[kind] = n
    else:  # the suspects are exactly the rows inserted above (counting them saves a table scan)
        counts.update(Counter(chain(columns[2], (r[1] for r in leftovers))))
    return AnalysisSummary(analysis_id, len(image_ids), len(result.pred_id), counts, len(stale))


def reanalyze_images(store: Store, image_ids: Iterable[int], set_id: int | None = None) -> int:
    """Re-match and re-score only these images in the current analysis; returns their suspect count."""
    analysis = current_analysis(store, set_id)
    if analysis is None:
        return 0
    ids = sorted(set(image_ids))
    if not ids:
        return 0
    params: AnalysisParams = analysis["params"]
    labels = load_labels(store, ids, params.geometry)
    preds = load_predictions(store, analysis["set_id"], ids, params.geometry)
    result = _compute(labels, preds, ids, params, None, None)
    aid = analysis["id"]
    marks = ",".join("?" * len(ids))
    with store.atomic():
        # the cached suspect columns (core.suspects) go stale with these rows: bump their
        # generation (a few bytes; deleting the ~100 MB cache here cost ~0.8 s per edit)
        store.set_meta(
            f"suspects_generation:{aid}", int(store.get_meta(f"suspects_generation:{aid}", 0)) + 1
        )
        rows = _suspect_rows(aid, result.suspects)
        leftovers = _decided_leftovers(store, aid, analysis["set_id"], {r[1] for r in rows}, ids)
        store.execute(
            f"DELETE FROM suspects WHERE analysis_id = ? AND image_id IN ({marks})", [aid, *ids]
        )
        store.conn.executemany(_INSERT_SUSPECT, rows)
        store.conn.executemany(_INSERT_SUSPECT, [(aid, *r) for r in leftovers])
        store.conn.executemany(
            "INSERT OR REPLACE INTO match_updates (analysis_id, prediction_id, image_id, outcome, annotation_id, iou) "
            "VALUES (?,?,?,?,?,?)",
            [
                (
                    aid,
                    int(p),
                    int(i),
                    int(o),
                    None if a < 0 else int(a),
                    None if np.isnan(u) else float(u),
                )
                for p, i, o, a, u in zip(
                    result.pred_id,
                    result.pred_image,
                    result.outcome,
                    result.annotation_id,
                    result.iou,
                    strict=True,
                )
            ],
        )
    return len(rows) + len(leftovers)


def matches(store: Store, set_id: int | None = None) -> dict[str, np.ndarray]:
    """The current analysis's match of every prediction (incremental updates applied), by id."""
    analysis = current_analysis(store, set_id)
    if analysis is None:
        raise AnalysisError(f"{store.path} has not been analysed yet; run `labelfix analyze` first")
    arr = store.get_arrays(f"analysis:{analysis['id']}")
    updates = store.execute(
        "SELECT prediction_id, outcome, annotation_id, iou FROM match_updates WHERE analysis_id = ?",
        [analysis["id"]],
    ).fetchall()
    if updates:
        pos = np.searchsorted(arr["prediction_id"], [u[0] for u in updates])
        arr["outcome"][pos] = [u[1] for u in updates]
        arr["annotation_id"][pos] = [-1 if u[2] is None else u[2] for u in updates]
        arr["iou"][pos] = [np.nan if u[3] is None else u[3] for u in updates]
    return arr
