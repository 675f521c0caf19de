"""Column files (core.store.column_file) and the project caches kept in them: written whole or
not at all, mapped back with the same values, never taken for another project's."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from labelfix.core import analyze as az
from labelfix.core.store import Store
from labelfix.core.store import column_file as cf
from labelfix.core.store.suspects import cache_owner, suspects_file
from labelfix.core.suspects import SuspectIndex
from tests.desktop.synthetic import write_project
from tests.test_suspect_index import assert_same_index


def test_round_trip_mapped_copy_on_write(tmp_path: Path) -> None:
    path = tmp_path / "c.columns"
    cols = {
        "a": np.arange(10_000, dtype=np.int64),
        "f": np.linspace(0, 1, 333),
        "empty": np.zeros(0, np.int32),
        "grid": np.arange(12, dtype=np.int8).reshape(3, 4),
        "bytes": np.frombuffer("naïve.jpg".encode(), np.uint8),
    }
    cf.write_column_file(path, {"token": "t", "n": 3}, cols)
    check, back = cf.read_column_file(path)
    assert check == {"token": "t", "n": 3}
    for name, col in cols.items():
        assert back[name].dtype == col.dtype and back[name].shape == col.shape, name
        np.testing.assert_array_equal(back[name], col)
    assert back["a"].ctypes.data % cf.ALIGN == 0  # each column on a page of its own
    before = path.read_bytes()
    back["a"][0] = 99  # a private copy of the page: the file stays as written
    assert path.read_bytes() == before and cf.read_column_file(path)[1]["a"][0] == 0
    # replaced while mapped: the old mapping keeps its values, a new read sees the new file
    cf.write_column_file(path, {}, {"a": np.full(5, 7)})
    assert back["f"][-1] == 1.0 and cf.read_column_file(path)[1]["a"].tolist() == [7] * 5
    assert not list(tmp_path.glob("*.tmp-*"))


@pytest.mark.parametrize("damage", ["missing", "short", "magic", "header"])
def test_a_damaged_file_is_not_read(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "c.columns"
    cf.write_column_file(path, {}, {"a": np.arange(5000, dtype=np.int64)})
    data = path.read_bytes()
    if damage == "missing":
        path.unlink()
    elif damage == "short":
        path.write_bytes(data[:-100])
    elif damage == "magic":
        path.write_bytes(b"X" + data[1:])
    else:
        path.write_bytes(data[:16] + b"[" + data[17:])  # the JSON header broken
    assert cf.read_column_file(path) is None


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An analysed 60-image project file whose suspects and file names are cached."""
    import labelfix.core.suspects as suspects_module

    monkeypatch.setattr(suspects_module, "CACHE_MIN_ROWS", 0)
    (tmp_path / "one").mkdir()
    path = write_project(tmp_path / "one", n_images=60, preds_per_image=8, seed=3)
    with Store.open(path) as store:
        az.analyze(store)
        SuspectIndex.load(store)
    return path


def _row_load(store: Store, monkeypatch: pytest.MonkeyPatch) -> SuspectIndex:
    import labelfix.core.suspects as suspects_module

    monkeypatch.setattr(suspects_module, "CACHE_MIN_ROWS", 10**9)
    store.forget_suspect_cache(store.current_analysis()["id"])
    return SuspectIndex.load(store)


def test_a_project_file_keeps_its_caches_in_files(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Next to the project, not in it; a load from them equals a load from the rows."""
    folder = project.with_name(project.name + "-cache")
    with Store.open(project, readonly=True) as store:
        aid = store.current_analysis()["id"]
        assert store.cache_folder() == folder
        assert (folder / suspects_file(aid)).exists() and (folder / "file_names.columns").exists()
        assert not store.has_arrays(cache_owner(aid)) and not store.has_arrays("file_names")
        cached = SuspectIndex.load(store)
    with Store.open(project) as store:
        assert_same_index(cached, _row_load(store, monkeypatch))


def test_another_projects_cache_files_are_not_used(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A project made anew (or copied) over a path keeps none of the old project's caches,
    even with the same analysis id and image ids."""
    import labelfix.core.suspects as suspects_module

    monkeypatch.setattr(suspects_module, "CACHE_MIN_ROWS", 0)
    (tmp_path / "two").mkdir()
    other = write_project(tmp_path / "two", n_images=60, preds_per_image=8, seed=4)
    with Store.open(other) as store:
        az.analyze(store)
    for leftover in project.parent.glob(project.name + "-*"):
        if leftover.is_file():  # the old project's -wal / -shm, not its cache folder
            leftover.unlink()
    shutil.copyfile(other, project)
    with Store.open(project) as store:
        aid = store.current_analysis()["id"]
        assert (store.cache_folder() / suspects_file(aid)).exists()  # the old project's
        assert store.cached_suspect_columns(aid) is None and store.cached_file_names() is None
        loaded = SuspectIndex.load(store)  # and caches its own
        assert store.suspect_cache_is_current(aid)
        assert_same_index(loaded, _row_load(store, monkeypatch))


def test_a_folder_that_cannot_be_written_keeps_the_cache_as_blobs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import labelfix.core.suspects as suspects_module

    def refuse(*_args: object) -> None:
        raise PermissionError("read-only folder")

    monkeypatch.setattr(cf, "write_column_file", refuse)
    monkeypatch.setattr("labelfix.core.store.cache_files.write_column_file", refuse)
    monkeypatch.setattr(suspects_module, "CACHE_MIN_ROWS", 0)
    path = write_project(tmp_path, n_images=60, preds_per_image=8, seed=3)
    with Store.open(path) as store:
        az.analyze(store)
        fresh = SuspectIndex.load(store)
        aid = fresh.analysis_id
        assert store.has_arrays(cache_owner(aid)) and store.suspect_cache_is_current(aid)
        assert store.has_arrays("file_names")
        assert not (store.cache_folder() / suspects_file(aid)).exists()
        assert_same_index(SuspectIndex.load(store), fresh)
    # blobs (as an older LabelFix left them) move into files at the next writable open
    monkeypatch.undo()
    monkeypatch.setattr(suspects_module, "CACHE_MIN_ROWS", 0)
    with Store.open(path, readonly=True) as store:
        assert_same_index(SuspectIndex.load(store), fresh)
        assert store.has_arrays(cache_owner(aid)) and store.has_arrays("file_names")
    with Store.open(path) as store:
        assert_same_index(SuspectIndex.load(store), fresh)
        assert not store.has_arrays(cache_owner(aid)) and not store.has_arrays("file_names")
        assert (store.cache_folder() / suspects_file(aid)).exists()
        assert (store.cache_folder() / "file_names.columns").exists()
        assert_same_index(SuspectIndex.load(store), fresh)


def test_the_parts_the_window_reads_are_cached_in_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A set stored in parts: the part of the image shown is written to a file at its first
    read and mapped at the next open, with the same predictions."""
    from labelfix.core import coco_stream
    from labelfix.core.store import prediction_parts

    from helpers import real81_project

    monkeypatch.setattr(coco_stream, "STREAM_BYTES", 0)  # predictions stored in parts
    monkeypatch.setattr(prediction_parts, "PART_IMAGES", 5)
    monkeypatch.setattr(prediction_parts, "PART_PREDICTIONS", 400)
    project = real81_project(tmp_path / "p.labelfix")
    with Store.open(project, readonly=True) as store:
        set_id = store.active_set_id()
        assert len(store.prediction_parts(set_id)) > 2
        images = sorted(store.file_names())
        want = {i: store.predictions_for_image(set_id, i) for i in images}
        assert not store.cache_folder().exists()  # a read-only project writes no cache
    image = next(i for i in images if want[i])
    with Store.open(project) as store:
        assert store.predictions_for_image(set_id, image) == want[image]
        written = sorted(p.name for p in store.cache_folder().glob("predictions-*"))
        assert len(written) == 1
    with Store.open(project, readonly=True) as store:
        monkeypatch.setattr(store, "prediction_part", None)  # not read from the project
        assert store.predictions_for_image(set_id, image) == want[image]
        some = store.predictions_for_image(set_id, image)[0]
        assert store.prediction(set_id, some["id"], image) == some
    with Store.open(project) as store:  # every image, through files written as they come
        assert {i: store.predictions_for_image(set_id, i) for i in images} == want
        parts = len(store.prediction_parts(set_id))
        assert len(list(store.cache_folder().glob("predictions-*"))) == parts


def test_a_large_analysis_leaves_its_index_cached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The project service's analysis builds and caches the suspect index when it found many
    suspects, so the window's first open maps it; a small one is left alone."""
    import labelfix.core.suspects as suspects_module
    from labelfix.core.project import analyze_project

    path = write_project(tmp_path, n_images=60, preds_per_image=8, seed=3)
    monkeypatch.setattr(suspects_module, "CACHE_MIN_ROWS", 10**9)
    with Store.open(path) as store:
        analyze_project(store)
        aid = store.current_analysis()["id"]
        assert not store.has_suspect_cache(aid)
    monkeypatch.setattr(suspects_module, "CACHE_MIN_ROWS", 10)
    summary = analyze_project(path)
    assert sum(summary.suspects.values()) >= 10
    with Store.open(path) as store:
        aid = store.current_analysis()["id"]
        assert store.suspect_cache_is_current(aid)
        assert (store.cache_folder() / suspects_file(aid)).exists()
        cached = SuspectIndex.load(store)
        assert_same_index(cached, _row_load(store, monkeypatch))
