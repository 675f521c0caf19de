"""SuspectIndex: the incremental reload after an edit equals a full load; cached sort orders
answer exactly like a plain sort."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from labelfix.core import analyze as az
from labelfix.core.edits import DeleteLabel, Edit, SetCategory, SetDecision
from labelfix.core.errors import KINDS
from labelfix.core.project import push_project
from labelfix.core.review import decide
from labelfix.core.store import Store
from labelfix.core.suspects import (
    _COLUMNS,
    SORT_KEYS,
    STATUS_CODE,
    STATUSES,
    SuspectFilter,
    SuspectIndex,
)
from tests.desktop.synthetic import big_index, write_project

from backends import drop, team_url
from helpers import sql

ALL_COLUMNS = (*_COLUMNS, "status")


def assert_same_index(got: SuspectIndex, want: SuspectIndex) -> None:
    """Column by column, values and dtypes (NaN equal to NaN)."""
    assert (got.analysis_id, got.set_id) == (want.analysis_id, want.set_id)
    for name in ALL_COLUMNS:
        a, b = getattr(got, name), getattr(want, name)
        assert a.dtype == b.dtype, name
        np.testing.assert_array_equal(a, b, err_msg=name)
    assert got.file_names == want.file_names and got.category_names == want.category_names
    for sort in SORT_KEYS:  # and no stale cached order or rank survived
        for descending in (False, True):
            np.testing.assert_array_equal(
                got.query(SuspectFilter(), sort, descending),
                want.query(SuspectFilter(), sort, descending),
            )
    assert got.keys.tolist() == want.keys.tolist()


def _leaves(edit: Edit) -> list[Edit]:
    return (
        [leaf for part in getattr(edit, "edits", [edit]) for leaf in _leaves(part)]
        if hasattr(edit, "edits")
        else [edit]
    )


def refresh(idx: SuspectIndex, store: Store, edit: Edit) -> None:
    """What the session does after an edit: re-read the touched images, then the statuses."""
    if any(not isinstance(e, SetDecision) for e in _leaves(edit)):
        az.reanalyze_images(store, edit.image_ids)
        idx.reload_images(store, edit.image_ids)
    decided = dict(
        sql(
            store,
            "SELECT suspect_key, decision FROM decisions WHERE prediction_set_id = ?",
            [idx.set_id],
        ).fetchall()
    )
    for e in _leaves(edit):
        if isinstance(e, SetDecision):
            idx.set_status([e.suspect_key], decided.get(e.suspect_key, "open"))


@pytest.fixture
def store(tmp_path: Path, backend: str) -> Store:
    """A 60-image project file, or the same published as a team project."""
    at = str(write_project(tmp_path, n_images=60, preds_per_image=8, seed=3))
    if backend == "postgresql":
        team = team_url()
        push_project(at, team)
        at = team
    s = Store.open(at)
    az.analyze(s)
    yield s
    s.close()
    drop(at)


def first_of(idx: SuspectIndex, kind: str, skip: set[int] = frozenset()) -> dict:
    """The first open suspect of a kind whose image is not in ``skip``."""
    for pos in range(len(idx)):
        row = idx.row(pos)
        if row["kind"] == kind and row["status"] == "open" and row["image_id"] not in skip:
            return dict(row, set_id=idx.set_id)
    raise AssertionError(f"no {kind} suspect")


def test_reload_images_equals_a_full_load(store: Store) -> None:
    idx = SuspectIndex.load(store)
    kinds = {idx.row(p)["kind"] for p in range(len(idx))}
    assert {"missing_label", "wrong_class", "inaccurate_label"} <= kinds
    idx.query(SuspectFilter(), "file_name", False)  # build caches the reload must drop
    idx.query(SuspectFilter(), "status", True)
    _ = idx.keys
    done: list[Edit] = []
    touched: set[int] = set()

    def step(edit: Edit) -> None:
        edit.apply(store)
        refresh(idx, store, edit)
        done.append(edit)
        touched.update(edit.image_ids)
        assert_same_index(idx, SuspectIndex.load(store))

    for kind in KINDS:
        if kind in kinds:
            step(decide(store, [first_of(idx, kind, touched)], "accepted"))
    step(decide(store, [first_of(idx, "wrong_class", touched)], "rejected"))
    step(decide(store, [first_of(idx, "missing_label", touched)], "flagged"))
    ann = sql(store, "SELECT id, category_id FROM annotations ORDER BY id").fetchall()
    step(SetCategory(ann[0][0], ann[0][1] % 10 + 1, reason="manual"))
    step(DeleteLabel(ann[-1][0], reason="manual"))
    # a bulk decision over several images at once
    several = [dict(idx.row(p), set_id=idx.set_id) for p in range(0, len(idx), len(idx) // 5)]
    several = [s for s in several if s["status"] == "open"]
    step(decide(store, several, "accepted"))
    assert int(np.count_nonzero(idx.status)) > 0
    for edit in reversed(done):  # undo everything, one by one
        edit.revert(store)
        refresh(idx, store, edit)
        assert_same_index(idx, SuspectIndex.load(store))


def test_reload_merges_by_id_when_rows_keep_their_ids(store: Store) -> None:
    """Rows read back with ids lower than the others' (no re-analysis) land in their place."""
    idx = SuspectIndex.load(store)
    images = np.unique(idx.image_id)
    pick = [int(images[0]), int(images[len(images) // 2])]
    rows = [
        dict(idx.row(int(p)), set_id=idx.set_id) for p in np.flatnonzero(idx.image_id == pick[0])
    ]
    decide(store, rows[:1], "rejected").apply(store)  # a decision seen only through the reload
    idx.reload_images(store, pick)
    assert_same_index(idx, SuspectIndex.load(store))
    idx.reload_images(store, [])  # nothing to do
    idx.reload_images(store, [10**9])  # an image without suspects
    assert_same_index(idx, SuspectIndex.load(store))


# ---------------------------------------------------------------------- cached sort orders
def reference_query(
    idx: SuspectIndex, flt: SuspectFilter, sort: str, descending: bool
) -> np.ndarray:
    """query() as a plain stable sort of the filtered rows (the behaviour before the caches);
    one row per object: of each group's filtered rows, the lowest rank (then position)."""
    rows = np.flatnonzero(idx.mask(flt))
    if flt.per_object:
        best: dict[int, int] = {}
        for r in rows.tolist():
            g = int(idx.group[r])
            if g not in best or idx.group_rank[r] < idx.group_rank[best[g]]:
                best[g] = r
        rows = np.array(sorted(best.values()), dtype=np.int64)
    if sort in ("label_class", "predicted_class", "file_name"):
        col = {
            "label_class": idx.category_id,
            "predicted_class": idx.predicted_category_id,
            "file_name": idx.image_id,
        }[sort]
        names = idx.file_names if sort == "file_name" else idx.category_names
        uniq, inverse = np.unique(col, return_inverse=True)
        rank = np.argsort(np.argsort([names.get(int(u), "") for u in uniq], kind="stable"))
        values = rank[inverse]
    else:
        values = {
            "score": idx.score,
            "kind": idx.kind,
            "confidence": np.nan_to_num(idx.confidence, nan=-1.0),
            "probability": np.nan_to_num(idx.probability, nan=-1.0),
            "iou": np.nan_to_num(idx.iou, nan=-1.0),
            "alternatives": group_sizes(idx) - 1,
            "sets": idx.support_counts(),
            "status": idx.status,
            "id": idx.ids,
        }[sort]
    values = values[rows]
    key = -values.astype(np.float64) if descending else values
    return rows[np.argsort(key, kind="stable")]


def random_filter(rng: np.random.Generator, idx: SuspectIndex) -> SuspectFilter:
    flt = SuspectFilter()
    if rng.random() < 0.4:
        flt = flt.with_(min_confidence=float(rng.choice([0.25, 0.5, 0.75, 0.99])))
    if rng.random() < 0.3:
        low, high = sorted(float(v) for v in rng.choice([0.0, 0.1, 0.3, 0.5, 0.6, 1.0], 2))
        flt = flt.with_(min_iou=low, max_iou=high)
    if rng.random() < 0.4:
        flt = flt.with_(kinds=frozenset(rng.choice(KINDS, int(rng.integers(1, 4)), replace=False)))
    if rng.random() < 0.3:
        flt = flt.with_(category_ids=frozenset(int(c) for c in rng.integers(1, 81, 5)))
    if rng.random() < 0.4:
        flt = flt.with_(
            statuses=frozenset(rng.choice(STATUSES, int(rng.integers(1, 3)), replace=False))
        )
    if rng.random() < 0.2:
        flt = flt.with_(file_name=f"{int(rng.integers(0, 10))}.jpg")
    if rng.random() < 0.15:
        flt = flt.with_(image_ids=frozenset(int(i) for i in rng.integers(1, 500, 20)))
    if rng.random() < 0.3:
        flt = flt.with_(min_score=float(rng.choice([0.2, 0.5, 0.9])))
    if rng.random() < 0.5:
        flt = flt.with_(per_object=True)
    return flt


def group_sizes(idx: SuspectIndex) -> np.ndarray:
    """How many suspects each row's group has."""
    _, inverse, counts = np.unique(idx.group, return_inverse=True, return_counts=True)
    return counts[inverse.reshape(-1)]


def test_cached_orders_equal_a_plain_sort() -> None:
    rng = np.random.default_rng(7)
    idx = big_index(20_000, n_images=2_000, seed=1)
    idx.score = np.round(idx.score, 2)  # many ties, which must fall back to the suspect id
    idx.iou = np.where(np.isnan(idx.iou), np.nan, np.round(idx.iou, 1))
    idx.status = rng.integers(0, 4, len(idx)).astype(np.int8)
    idx.file_names = {i: f"{(i * 7919) % 300:04d}.jpg" for i in idx.file_names}  # shared names
    idx.category_names = {c: f"class {c % 13}" for c in idx.category_names}
    for round_ in range(4):
        # status first: its cached orders from the last round must not outlive set_status
        for sort in sorted(SORT_KEYS, key=lambda k: k != "status"):
            for descending in (False, True):
                for flt in [SuspectFilter(), *(random_filter(rng, idx) for _ in range(4))]:
                    got = idx.query(flt, sort, descending)
                    want = reference_query(idx, flt, sort, descending)
                    np.testing.assert_array_equal(got, want, err_msg=f"{sort} {descending} {flt}")
        # decisions change the status column: status orders must follow
        idx.query(SuspectFilter(), "status", True)  # cached now
        pos = rng.choice(len(idx), 500, replace=False)
        status = STATUSES[round_ % len(STATUSES)]
        idx.set_status([idx.key(int(p)) for p in pos], status)
        assert (idx.status[pos] == STATUS_CODE[status]).all()


def test_query_on_an_empty_index() -> None:
    idx = big_index(0, n_images=1)
    for sort in SORT_KEYS:
        assert len(idx.query(SuspectFilter(), sort, True)) == 0


def test_column_cache_is_used_only_while_current(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cached columns equal a row load, and every change to the suspects drops them."""
    import labelfix.core.suspects as suspects_module

    monkeypatch.setattr(suspects_module, "CACHE_MIN_ROWS", 0)

    fresh = SuspectIndex.load(store)  # a miss: read from the rows, then cached
    aid = fresh.analysis_id
    assert store.has_suspect_cache(aid) and fresh.cache_is_current(store)
    assert_same_index(SuspectIndex.load(store), fresh)  # served from the cache
    # an edit's re-analysis drops the cache; the in-memory reload equals a full load again
    row = (
        first_of(fresh, "wrong_class")
        if "wrong_class" in {KINDS[k] for k in fresh.kind}
        else fresh.row(0)
    )
    edit = decide(store, [dict(row, set_id=fresh.set_id)], "accepted")
    edit.apply(store)
    az.reanalyze_images(store, edit.image_ids | {row["image_id"]})
    assert store.has_suspect_cache(aid) and not fresh.cache_is_current(store)  # stale generation
    after_edit = SuspectIndex.load(store)  # must not be served from the stale cache
    store.forget_suspect_cache(aid)
    assert not store.has_suspect_cache(aid)
    monkeypatch.setattr(suspects_module, "CACHE_MIN_ROWS", 10**9)
    assert_same_index(after_edit, SuspectIndex.load(store))
    monkeypatch.setattr(suspects_module, "CACHE_MIN_ROWS", 0)
    fresh.reload_images(store, edit.image_ids | {row["image_id"]})
    fresh.save_cache(store)  # what the session does on close
    assert fresh.cache_is_current(store)
    monkeypatch.setattr(suspects_module, "CACHE_MIN_ROWS", 10**9)  # force a row load to compare
    from_cache = SuspectIndex.load(store)
    assert store.has_suspect_cache(aid)
    store.forget_suspect_cache(aid)
    assert_same_index(from_cache, SuspectIndex.load(store))
    # a new full analysis replaces the old one: its cache is never used again, and is gone
    # once the new analysis is cached (a project file's at once: blobs go with the analysis)
    monkeypatch.setattr(suspects_module, "CACHE_MIN_ROWS", 0)
    SuspectIndex.load(store)
    az.analyze(store)
    assert not store.suspect_cache_is_current(aid)
    assert store.cached_suspect_columns(aid) is None
    new = SuspectIndex.load(store)
    assert new.analysis_id != aid and store.suspect_cache_is_current(new.analysis_id)
    assert not store.has_suspect_cache(aid)


def test_column_cache_keeps_the_default_orders(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cache holds the score order and the group order (as blobs with compact integer
    columns): a load from it sorts nothing and equals a row load; a cache from before the
    orders is written again with them."""
    import labelfix.core.suspects as suspects_module
    from labelfix.core.store.suspects import CACHED_ORDERS, SUSPECT_INDEX_COLUMNS, cache_owner

    monkeypatch.setattr(suspects_module, "CACHE_MIN_ROWS", 0)
    fresh = SuspectIndex.load(store)
    assert (fresh.group_rank > 0).any()  # the project has groups to order
    aid = fresh.analysis_id
    owner = cache_owner(aid)
    assert set(CACHED_ORDERS) <= set(store.cached_suspect_columns(aid))
    if store.cache_folder() is None:  # blobs
        assert store.get_arrays(owner)["ids"].dtype.itemsize < 8  # small ids in fewer bytes

    def no_sort(values: np.ndarray) -> np.ndarray:
        raise AssertionError("a load from the cache sorted")

    from labelfix.core import stable_sort

    monkeypatch.setattr(stable_sort, "stable_argsort", no_sort)
    cached = SuspectIndex.load(store)
    monkeypatch.undo()
    assert_same_index(cached, fresh)
    # a cache without the orders (an older LabelFix's blobs) is used, then saved with them
    older = {n: getattr(fresh, n) for n in SUSPECT_INDEX_COLUMNS}
    older["generation"] = np.array([store.suspects_generation(aid)], dtype=np.int64)
    store.forget_suspect_cache(aid)
    store.put_arrays(owner, older)
    monkeypatch.setattr(suspects_module, "CACHE_MIN_ROWS", 0)
    assert_same_index(SuspectIndex.load(store), fresh)
    assert set(CACHED_ORDERS) <= set(store.cached_suspect_columns(aid))
    assert store.has_arrays(owner) == (store.cache_folder() is None)  # a file replaces blobs


def test_file_names_cache(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """A large project's file names are cached as columns: a load from them lists, filters and
    sorts as one from the images table; the cache is not used once the images differ."""
    import labelfix.core.suspects as suspects_module

    monkeypatch.setattr(suspects_module, "CACHE_MIN_ROWS", 0)
    want = store.file_names()
    assert store.cached_file_names() is None
    fresh = SuspectIndex.load(store)  # reads the images table, saves the cache
    assert store.cached_file_names() is not None and fresh.file_names == want
    cached = SuspectIndex.load(store)
    assert isinstance(cached.file_names, suspects_module.FileNames)
    image = int(cached.image_id[0])
    assert cached.file_names.get(image) == want[image] and cached.file_names.get(-5) is None
    assert cached.row(0)["file_name"] == fresh.row(0)["file_name"]
    assert_same_index(cached, fresh)  # also the file-name sort
    needle = want[image][-6:]
    flt = SuspectFilter(file_name=needle)
    np.testing.assert_array_equal(cached.query(flt), fresh.query(flt))
    # another image makes the cache stale
    sql(
        store,
        "INSERT INTO images (id, position, file_name, width, height) "
        "SELECT MAX(id) + 1, MAX(position) + 1, 'new.jpg', 10, 10 FROM images",
    )
    assert store.cached_file_names() is None


def test_file_names_over_columns_decode_any_name() -> None:
    from labelfix.core.store.suspects import FileNameColumns
    from labelfix.core.suspects import FileNames

    names = {3: "a.jpg", 1: "dir/é ü.png", 7: "", 9: "odd\udc80.jpg", 4: "日本.jpg"}
    ids = sorted(names)
    encoded = [names[i].encode("utf-8", "surrogatepass") for i in ids]
    end = np.cumsum([len(e) for e in encoded])
    mapping = FileNames(FileNameColumns(np.array(ids), end, b"".join(encoded)))
    assert [mapping[i] for i in ids] == [names[i] for i in ids]
    assert mapping.get(2) is None and mapping.get("a") is None and mapping.get(None) is None
    assert mapping == names and len(mapping) == len(names) and dict(mapping) == names


@pytest.mark.parametrize("radix_groups", [2**15, 4])  # both ways of ordering the ties
def test_stable_float_argsort_equals_numpys_stable_sort(
    radix_groups: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fast float sort keeps equal values in position order, exactly like kind="stable"."""
    from labelfix.core import stable_sort

    monkeypatch.setattr(stable_sort, "RADIX_GROUPS", radix_groups)
    rng = np.random.default_rng(1)
    for trial in range(300):
        n = int(rng.integers(1, 3000))
        values = np.round(rng.normal(size=n), int(rng.integers(0, 3)))
        if trial % 3 == 0:
            values[rng.random(n) < 0.3] = -1.0  # the stand-in for "no confidence"
        if trial % 5 == 0:
            values[rng.random(n) < 0.2] = -0.0  # equal to 0.0 for a stable sort too
        got = stable_sort.stable_argsort(values)
        assert np.array_equal(got, np.argsort(values, kind="stable")), trial


def test_iou_range_keeps_a_closed_range_and_suspects_without_iou() -> None:
    idx = big_index(5_000, n_images=500, seed=3)
    idx.iou = np.round(idx.iou, 1)  # values exactly on the bounds
    idx.iou[::7] = np.nan
    keep = idx.mask(SuspectFilter(min_iou=0.3, max_iou=0.6))
    iou = idx.iou
    want = np.isnan(iou) | ((iou >= 0.3) & (iou <= 0.6))
    np.testing.assert_array_equal(keep, want)
    assert (iou[keep] == 0.3).any() and (iou[keep] == 0.6).any()
    assert (~keep).any()
    assert idx.mask(SuspectFilter(min_iou=0.0, max_iou=1.0)).all()


def test_a_row_names_both_labels_of_a_duplicate(store: Store) -> None:
    """row() carries other_annotation_id (the canvas highlights the partner from it): the second
    label of a duplicate's key, None for every other kind."""
    label = next(store.iter_annotations())
    with store.atomic():
        store.insert_annotation(dict(label, id=store.next_annotation_id()))  # labelled twice
    az.analyze(store)
    idx = SuspectIndex.load(store)
    rows = [idx.row(p) for p in range(len(idx))]
    duplicates = [r for r in rows if r["kind"] == "duplicate_label"]
    assert duplicates
    for r in duplicates:
        assert r["key"] == f"duplicate_label:{r['annotation_id']}:{r['other_annotation_id']}"
    assert all(r["other_annotation_id"] is None for r in rows if r["kind"] != "duplicate_label")


def test_a_row_load_reads_in_id_ranges(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """An analysis's suspects read range by range (a few at a time) are the ones read at once,
    in id order, with their statuses."""
    from labelfix.core.store import suspects as store_suspects

    idx = SuspectIndex.load(store)
    row = idx.row(3)
    decide(store, [dict(row, set_id=idx.set_id)], "rejected").apply(store)
    whole = store.suspect_index_columns(idx.analysis_id, status_codes=STATUS_CODE)
    assert len(whole["ids"]) > 20 and (whole["status"] > 0).sum() == 1
    monkeypatch.setattr(store_suspects, "ROWS_PER_READ", 7)
    parts = store.suspect_index_columns(idx.analysis_id, status_codes=STATUS_CODE)
    assert parts.keys() == whole.keys()
    for name, col in whole.items():
        assert parts[name].dtype == col.dtype, name
        np.testing.assert_array_equal(parts[name], col, err_msg=name)
