"""An analysis's suspects stored as column blobs (core.store.suspect_blobs) read exactly as the
same analysis stored as rows of the ``suspects`` table: listings, counts, the suspect index,
re-analysed images, decisions kept over a full re-analysis, claims; and a project file whose
analysis is stored as rows (an older LabelFix's) opens and lists as before, unconverted."""

from __future__ import annotations

import contextlib
import io
import itertools
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from labelfix.core import project
from labelfix.core.analyze import reanalyze_images
from labelfix.core.cli import run
from labelfix.core.store import Store, analysis_writer, migrations, suspect_blobs
from labelfix.core.suspects import SuspectIndex

from backends import drop, pg_url, team_url
from helpers import real81_project, sql, tied_scores

ROWS = "SELECT * FROM suspects ORDER BY id"


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return real81_project(tmp_path_factory.mktemp("blobs") / "real.labelfix")


def _copy(src: Path, out: Path) -> Path:
    out.write_bytes(src.read_bytes())
    return out


@contextlib.contextmanager
def _stored(as_columns: bool, slice_rows: int = 37):  # noqa: ANN202
    """Analyses write their suspects as columns (small slices: several per analysis) or as
    rows, as an older LabelFix did."""
    with pytest.MonkeyPatch.context() as m:
        m.setattr(analysis_writer, "SUSPECTS_AS_COLUMNS", as_columns)
        m.setattr(suspect_blobs, "SLICE_ROWS", slice_rows)
        yield


def _listing(path: Path, *args: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert run(["suspects", str(path), "--format", "json", *args]) == 0
    return out.getvalue()


def _state(path: Path) -> tuple:
    """Everything a reader sees of the current analysis's suspects."""
    with Store.open(path) as store:
        analysis = store.current_analysis()
        assert analysis is not None
        aid = analysis["id"]
        rows = sql(store, ROWS).fetchall()
        counts = store.suspect_counts(aid)
        idx = SuspectIndex.load(store)
        columns = {n: getattr(idx, n).tolist() for n in ("ids", "score", "group", "status")}
        some = store.image_ids()[3:9]
        part = store.suspect_index_columns(aid, some, {"accepted": 1, "rejected": 2})
        part = {
            n: (str(c.dtype), [None if v != v else v for v in c.tolist()]) for n, c in part.items()
        }
    listings = [_listing(path, "--min-confidence", "0", "--status", "all"), _listing(path)]
    return rows, counts, columns, part, listings


def _pair(imported: Path, tmp_path: Path) -> tuple[Path, Path]:
    """The same project analysed with its suspects as rows and as columns."""
    as_rows = _copy(imported, tmp_path / "rows.labelfix")
    as_columns = _copy(imported, tmp_path / "columns.labelfix")
    with _stored(False):
        project.analyze_project(as_rows)
    with _stored(True):
        project.analyze_project(as_columns)
    return as_rows, as_columns


def test_columns_read_as_the_rows_and_write_none(imported: Path, tmp_path: Path) -> None:
    as_rows, as_columns = _pair(imported, tmp_path)
    with Store.open(as_columns) as store:
        aid = store.current_analysis()["id"]
        assert store.suspects_as_columns(aid)
        assert store._db.scalar("SELECT COUNT(*) FROM main.suspects") == 0
        assert len(store._directory(aid)) > 2  # several slices
    with Store.open(as_rows) as store:
        assert not store.suspects_as_columns(store.current_analysis()["id"])
        assert store._db.scalar("SELECT COUNT(*) FROM main.suspects") > 100
    assert _state(as_columns) == _state(as_rows)


def _decide(path: Path) -> None:
    with Store.open(path) as store:
        set_id = store.active_set_id()
        keys = [r[0] for r in sql(store, "SELECT key FROM suspects ORDER BY score DESC, id")]
        for key, decision in zip(keys[:12], ("accepted", "rejected", "flagged") * 4, strict=True):
            store.set_decision(set_id, key, decision, None)


def _reanalyse_some(path: Path) -> None:
    with Store.open(path) as store:
        ids = store.image_ids()
        reanalyze_images(store, ids[2:7])
        reanalyze_images(store, [ids[5], ids[40]])
        idx = SuspectIndex.load(store)
        fresh = SuspectIndex.load(store)
        idx.reload_images(store, [ids[40]])
        np.testing.assert_array_equal(idx.ids, fresh.ids)


def test_reanalysed_images_and_a_full_reanalysis_keep_decisions(
    imported: Path, tmp_path: Path
) -> None:
    as_rows, as_columns = _pair(imported, tmp_path)
    for path, columns in ((as_rows, False), (as_columns, True)):
        _decide(path)
        with _stored(columns):
            _reanalyse_some(path)
    assert _state(as_columns) == _state(as_rows)
    for path, columns in ((as_rows, False), (as_columns, True)):
        with _stored(columns):
            project.analyze_project(path, project.AnalysisParams(iou_threshold=0.6))
    assert _state(as_columns) == _state(as_rows)
    with Store.open(as_columns) as store:  # the old analysis's blobs went with it
        owners = {r[0] for r in store._db.rows("SELECT DISTINCT owner FROM arrays")}
        aid = store.current_analysis()["id"]
        assert {o for o in owners if suspect_blobs.is_rows_owner(o)} == {f"suspect_rows:{aid}"}


def test_an_older_file_with_rows_opens_as_before_and_converts_on_reanalysis(
    imported: Path, tmp_path: Path
) -> None:
    old = _copy(imported, tmp_path / "old.labelfix")
    with _stored(False):
        project.analyze_project(old)
    _decide(old)
    before = _state(old)
    conn = sqlite3.connect(old)  # schema 6: no suspect_ids_end, suspects in rows
    conn.execute("ALTER TABLE analyses DROP COLUMN suspect_ids_end")
    conn.execute("DELETE FROM _migrations WHERE version = 7")
    conn.commit()
    conn.close()
    reference = _copy(old, tmp_path / "reference.labelfix")
    with _stored(True):
        with Store.open(old) as store:  # migrated to 7 by adding a column: rows as they were
            assert store.schema_version() == migrations.latest_version() == 7
            assert not store.suspects_as_columns(store.current_analysis()["id"])
        assert _state(old) == before  # read as rows: nothing converted
        project.analyze_project(old, project.AnalysisParams(iou_threshold=0.6))
        with Store.open(old) as store:
            assert store.suspects_as_columns(store.current_analysis()["id"])
    with _stored(False):
        project.analyze_project(reference, project.AnalysisParams(iou_threshold=0.6))
    assert _state(old) == _state(reference)


def _objects(path: Path, keys: list[str]) -> int:
    """How many objects (suspect groups) these suspects are of."""
    with Store.open(path) as store:
        index = SuspectIndex.load(store)
    group = {index.key(p): int(index.group[p]) for p in range(len(index))}
    return len({group[k] for k in keys})


def test_claims_on_a_file_read_the_columns(imported: Path, tmp_path: Path) -> None:
    as_rows, as_columns = _pair(imported, tmp_path)
    got = []
    for path in (as_rows, as_columns):
        with Store.open(path) as store:
            set_id = store.active_set_id()
            got.append(store.claim_suspects(set_id, 7, kinds=["missing_label", "wrong_class"]))
            got.append(store.claim_suspects(set_id, 5))
            assert store._db.scalar("SELECT COUNT(*) FROM temp.sqlite_master") == 0
    assert got[:2] == got[2:] and _objects(as_rows, got[0]) == 7  # a claim takes objects


def test_claims_on_a_file_skip_decided_and_claimed_suspects_as_the_rows_do(
    imported: Path, tmp_path: Path
) -> None:
    """A claim reads only the best suspects stored as columns (count + decided + claimed):
    the same keys as the rows give, past the top-scored ones decided or claimed by another
    session, with a kind and a confidence filter, and after some images are re-analysed."""
    as_rows, as_columns = _pair(imported, tmp_path)
    got = []
    for path in (as_rows, as_columns):
        _decide(path)  # the 12 best-scored
        with _stored(True):
            _reanalyse_some(path)
        with Store.open(path) as other:
            got.append(other.claim_suspects(other.active_set_id(), 9))
        with Store.open(path) as store:
            set_id = store.active_set_id()
            got.append(store.claim_suspects(set_id, 6))
            got.append(store.claim_suspects(set_id, 4, kinds=["inaccurate_label"]))
            got.append(store.claim_suspects(set_id, 5, min_confidence=0.6))
            decided = set(store.decisions(set_id))
    assert got[:4] == got[4:]
    assert [_objects(as_rows, g) for g in got[:4]] == [9, 6, 4, 5]
    every = [k for g in got[:4] for k in g]
    assert len(set(every)) == len(every) and not set(every) & decided


@pytest.mark.parametrize("seed", range(6))
def test_a_claims_pick_slice_by_slice_is_the_pick_of_the_whole(seed: int) -> None:
    """A claim picks the best open suspects in each slice, then among those (one slice in
    memory at a time): the same suspects, in the same order, as one pick over all of them,
    with tied scores across the slices' borders."""
    rng = np.random.default_rng(seed)
    n = 3000
    columns = {
        "ids": rng.permutation(n).astype(np.int64),
        "kind": rng.integers(0, 5, n).astype(np.int8),
        "score": tied_scores(rng, n),
        "confidence": np.where(rng.random(n) < 0.2, np.nan, rng.random(n)),
    }
    kinds = [] if seed % 2 else ["missing_label", "wrong_class"]
    count = int(rng.integers(1, 400))
    pick = suspect_blobs.best_open(count, kinds, 0.3 * (seed % 3))
    ok = np.isnan(columns["confidence"]) | (columns["confidence"] >= 0.3 * (seed % 3))
    if kinds:
        ok &= columns["kind"] <= 1
    at = np.flatnonzero(ok)
    whole = pick(columns)
    np.testing.assert_array_equal(
        whole, at[np.lexsort((columns["ids"][at], -columns["score"][at]))][:count]
    )
    cuts = [0, *np.sort(rng.choice(np.arange(1, n), 7, replace=False)).tolist(), n]
    kept = np.concatenate(
        [
            lo + pick({k: c[lo:hi] for k, c in columns.items()})
            for lo, hi in itertools.pairwise(cuts)
        ]
    )
    again = kept[pick({k: c[kept] for k, c in columns.items()})]
    np.testing.assert_array_equal(again, whole)


def test_a_push_converts_the_columns_to_rows_and_a_pull_lists_the_same(
    imported: Path, tmp_path: Path
) -> None:
    pg_url()  # skips without a test server (fails with LABELFIX_TEST_PG_REQUIRED)
    as_rows, as_columns = _pair(imported, tmp_path)
    _decide(as_columns)
    with _stored(True):
        _reanalyse_some(as_columns)
    url = team_url()
    try:
        project.push_project(as_columns, url)
        pulled = tmp_path / "pulled.labelfix"
        project.pull_project(url, pulled)
        with Store.open(url) as team:
            aid = team.current_analysis()["id"]
            assert not team.suspects_as_columns(aid)
            assert not [
                o
                for (o,) in team._db.rows("SELECT owner FROM arrays")
                if suspect_blobs.is_rows_owner(o)
            ]
            in_team = team._db.rows("SELECT * FROM suspects ORDER BY id")
        with Store.open(as_columns) as store:
            assert [tuple(r) for r in in_team] == sql(store, ROWS).fetchall()
        assert _state(pulled) == _state(as_columns)
    finally:
        drop(url)
