"""The suspect index cached after an analysis (core.suspect_cache.cache_after_analysis) is built from
the columns the analysis's writer kept of the rows it wrote, not by reading them back: the
cache file it writes is the very file a read of the rows writes, column for column and byte for
byte (ids as SQLite assigned them), for boxes and masks, one set and several, the analysis in
memory and in passes, with decided suspects kept from the old analysis; when the rows changed
after the write it reads them as before; a team project keeps no columns."""

from __future__ import annotations

import importlib.util
import tempfile
from pathlib import Path

import numpy as np
import pytest

from labelfix.core import analyze as analyze_module
from labelfix.core import analyze_passes
from labelfix.core import suspects as suspects_module
from labelfix.core.errors import AnalysisParams
from labelfix.core.project import add_predictions, analyze_project, import_project
from labelfix.core.store import Store, parse_location
from labelfix.core.store.analyses import AnalysisRepository
from labelfix.core.store.column_file import read_column_file
from labelfix.core.store.spill import SpilledColumns
from labelfix.core.store.suspects import SuspectRepository, suspects_file
from labelfix.core.suspects import SuspectIndex

from backends import drop, location
from helpers import ROOT, sql, write_json


def _generate():
    spec = importlib.util.spec_from_file_location("generate", ROOT / "bench" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path, Path]]:
    """Labels and two models' predictions (boxes; masks), written once."""
    generate = _generate()
    folder = tmp_path_factory.mktemp("inputs")
    gt = generate.make_ground_truth(40, seed=3)
    out = {}
    for geometry in ("boxes", "masks"):
        segm = geometry == "masks"
        out[geometry] = (
            write_json(folder / f"gt-{geometry}.json", gt),
            write_json(folder / f"a-{geometry}.json", generate.make_predictions(gt, 12, 4, segm)),
            write_json(folder / f"b-{geometry}.json", generate.make_predictions(gt, 9, 5, segm)),
        )
    return out


def _project(where: str | Path, files: tuple[Path, Path, Path]) -> None:
    gt, a, b = files
    import_project(parse_location(str(where)), gt, None, a, "a")
    with Store.open(where) as store:
        add_predictions(store, b, "b", activate=False)


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every cache threshold at 0; counts the reads of a whole analysis's rows."""
    monkeypatch.setattr(suspects_module, "CACHE_MIN_ROWS", 0)
    calls: list[int] = []
    whole = SuspectRepository._fetch_all

    def counted(self: SuspectRepository, *args: object) -> dict:
        calls.append(1)
        return whole(self, *args)

    monkeypatch.setattr(SuspectRepository, "_fetch_all", counted)
    return calls


def _cache_file(store: Store, analysis_id: int) -> tuple[bytes, dict, dict[str, np.ndarray]]:
    path = store.cache_folder() / suspects_file(analysis_id)
    check, columns = read_column_file(path)
    return path.read_bytes(), check, {n: np.array(c) for n, c in columns.items()}


def _assert_same_as_a_read(store: Store, scope: int | list[int]) -> None:
    """The analysis's cache file equals the one a load from its rows writes."""
    aid = store.current_analysis(scope)["id"]
    assert store.suspect_cache_is_current(aid)
    built, check, columns = _cache_file(store, aid)
    store.forget_suspect_cache(aid)
    SuspectIndex.load(store, scope)  # read from the rows, cached again
    read, want_check, want = _cache_file(store, aid)
    assert check == want_check
    assert list(columns) == list(want)
    assert {"order:score", "ids", "prediction_set_id"} <= set(columns)
    for name, col in want.items():
        assert columns[name].dtype == col.dtype, name
        np.testing.assert_array_equal(columns[name], col, err_msg=name)
    assert built == read
    ids = sql(store, "SELECT id FROM suspects WHERE analysis_id = ? ORDER BY id", [aid]).fetchall()
    assert columns["ids"].tolist() == [i for (i,) in ids]


@pytest.mark.parametrize(
    ("geometry", "sets", "passes"),
    [
        ("boxes", "a", False),
        ("boxes", "a", True),
        ("boxes", "a,b", False),
        ("masks", "a", False),
        ("masks", "a", True),
        ("masks", "a,b", False),
    ],
)
def test_the_cache_from_the_written_rows_equals_a_read(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    inputs: dict,
    reads: list[int],
    geometry: str,
    sets: str,
    passes: bool,
) -> None:
    path = tmp_path / "p.labelfix"
    _project(path, inputs[geometry])
    monkeypatch.setattr(analyze_passes, "in_passes", lambda *a: passes)
    if passes:  # many chunks, so many slices of columns
        monkeypatch.setattr(analyze_module.chunks, "__defaults__", (5,))
        monkeypatch.setattr(analyze_passes, "GROUP_IMAGES", 10)
    params = AnalysisParams(geometry=geometry)
    with Store.open(path) as store:
        first = analyze_project(store, params, set_name="a")  # rows of an analysis before
        assert sum(first.suspects.values()) > 50
        summary = analyze_project(store, params, set_name=sets)
        assert not reads  # no analysis's rows were read back
        scope = store.resolve_sets(sets)
        assert store.current_analysis(scope)["id"] == summary.analysis_id
        _assert_same_as_a_read(store, scope if len(scope) > 1 else scope[0])
        assert reads == [1]


@pytest.mark.parametrize("sets", ["a", "a,b"])
def test_decided_suspects_kept_from_the_old_analysis(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, inputs: dict, reads: list[int], sets: str
) -> None:
    """Rows written after the analysis's own (the old analysis's decided suspects it did not
    find again) are read and join the kept columns."""
    kept: list[int] = []
    insert = AnalysisRepository._insert_leftovers

    def counted(self: AnalysisRepository, analysis_id: int, leftovers: list) -> None:
        kept.append(len(leftovers))
        insert(self, analysis_id, leftovers)

    monkeypatch.setattr(AnalysisRepository, "_insert_leftovers", counted)
    path = tmp_path / "p.labelfix"
    _project(path, inputs["boxes"])
    with Store.open(path) as store:
        scope = store.resolve_sets(sets)
        analyze_project(store, set_ids=scope)
        idx = SuspectIndex.load(store, scope if len(scope) > 1 else scope[0])
        # the weakest predictions: gone with a higher min_score (it cuts on probability; a
        # merged score may also be low because another set disagrees: score version 12)
        low = np.argsort(idx.probability)[:15]
        for pos in low.tolist():
            for support in idx.supported_by(pos):
                store.set_decision(support["set_id"], support["key"], "rejected", None)
        reads.clear()
        summary = analyze_project(store, AnalysisParams(min_score=0.5), set_ids=scope)
        assert not reads
        assert kept[-1] >= 5 and summary.analysis_id == store.current_analysis(scope)["id"]
        _assert_same_as_a_read(store, scope if len(scope) > 1 else scope[0])


def test_rows_rewritten_after_the_write_are_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, inputs: dict, reads: list[int]
) -> None:
    """An edit made while the analysis ran re-analyses its images after the write (the
    generation moves on): the kept columns are not used, the rows are read as before."""
    path = tmp_path / "p.labelfix"
    _project(path, inputs["boxes"])
    with Store.open(path) as store:
        image = store.image_ids()[0]
        monkeypatch.setattr(store, "images_changed_since", lambda _change: [image])
        summary = analyze_project(store)
        assert summary.stale_images == 1 and store.suspects_generation(summary.analysis_id) == 1
        assert reads == [1]
        assert store.take_written_suspects() is None  # taken and let go
        _assert_same_as_a_read(store, store.active_set_id())


def test_spilled_columns_join_slices_of_any_integer_size(tmp_path: Path) -> None:
    spilled = SpilledColumns(("a", "f"), tmp_path, ".test-")
    small = {"a": np.array([1, -1], np.int8), "f": np.array([0.5, np.nan])}
    spilled.add(small)
    spilled.add({"a": np.array([2**40], np.int64), "f": np.array([-0.0])})
    spilled.add({"a": np.array([300], np.int16), "f": np.array([7.0])})
    assert len(spilled) == 4
    a = spilled.column("a", np.zeros(0, np.int64))
    assert a.dtype == np.int64 and a.tolist() == [1, -1, 2**40, 300]
    np.testing.assert_array_equal(spilled.column("f", np.zeros(0)), [0.5, np.nan, -0.0, 7.0])
    spilled.close()
    assert SpilledColumns(("a",), None, ".test-").column("a", np.zeros(0, np.int8)).dtype == np.int8


def test_the_cache_is_not_saved_once_the_rows_moved_on(
    tmp_path: Path, inputs: dict, reads: list[int]
) -> None:
    """Columns made at an older generation are not saved over the current one."""
    path = tmp_path / "p.labelfix"
    _project(path, inputs["boxes"])
    with Store.open(path) as store:
        aid = analyze_project(store).analysis_id
        idx = SuspectIndex.load(store)
        store.forget_suspect_cache(aid)
        columns = {n: getattr(idx, n) for n in suspects_module.SUSPECT_INDEX_COLUMNS}
        assert not store.save_suspect_cache(aid, columns, generation=1)
        assert not store.has_suspect_cache(aid)
        assert store.save_suspect_cache(aid, columns, generation=0)


def test_a_team_project_keeps_no_columns(
    tmp_path: Path, inputs: dict, reads: list[int], backend: str
) -> None:
    """Only a project file keeps the written rows' columns; a team project's analysis
    leaves its index uncached, as before."""
    at = location(backend, tmp_path)
    try:
        _project(at, inputs["boxes"])
        with Store.open(at) as store:
            aid = analyze_project(store).analysis_id
            if backend == "postgresql":
                assert store.cache_folder() is None
                assert not store.has_suspect_cache(aid)
            else:
                assert store.suspect_cache_is_current(aid)
            assert store.take_written_suspects() is None
            assert not reads
            with store.analysis_writer(store.active_set_id(), AnalysisParams()):
                pass
            written = store.take_written_suspects()
            assert (written is None) == (backend == "postgresql")
            if written is not None:
                written.close()
    finally:
        drop(at)


def test_closing_the_store_lets_go_of_the_kept_columns(tmp_path: Path, inputs: dict) -> None:
    """An analysis run without analyze_project (which takes the columns for the cache) keeps
    them (in memory: written in one chunk); closing the store lets go of them."""
    path = tmp_path / "p.labelfix"
    _project(path, inputs["boxes"])
    store = Store.open(path)
    analyze_module.analyze(store, store.resolve_sets("a"), AnalysisParams())
    written = store.__dict__.get("_written_suspects")
    assert written is not None and len(written.columns) > 0
    assert written.columns._first is not None and not written.columns._files
    store.close()
    assert written.columns._first is None
    assert store.take_written_suspects() is None


def test_spilled_columns_keep_a_first_chunk_alone_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One chunk (an analysis done in memory) writes no file; a second writes both."""
    made: list[str] = []
    temporary = tempfile.TemporaryFile

    def counted(**kwargs: object) -> object:
        made.append(str(kwargs.get("prefix")))
        return temporary(**kwargs)

    monkeypatch.setattr(tempfile, "TemporaryFile", counted)
    spilled = SpilledColumns(("a", "f"), tmp_path, ".test-")
    spilled.add({"a": np.array([1, 2], np.int16), "f": np.array([0.5, -0.0])})
    assert made == []
    a = spilled.column("a", np.zeros(0, np.int64))
    assert a.dtype == np.int16 and a.tolist() == [1, 2]
    spilled.add({"a": np.array([2**40], np.int64), "f": np.array([np.nan])})
    assert made == [".test-", ".test-"]  # a file per column, holding both chunks
    assert len(spilled) == 3
    assert spilled.column("a", np.zeros(0, np.int64)).tolist() == [1, 2, 2**40]
    np.testing.assert_array_equal(spilled.column("f", np.zeros(0)), [0.5, -0.0, np.nan])
    spilled.close()
