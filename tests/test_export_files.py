"""Exported files are written like any other file the user writes: permissions from the umask
(an existing file keeps its own), never mkstemp's owner-only 0600."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from labelfix.core.coco import read_ground_truth
from labelfix.core.export import export_changes, export_coco
from labelfix.core.store import Store

from helpers import tiny_dataset, write_json


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Store]:
    store = Store.create(tmp_path / "p.labelfix")
    store.import_ground_truth(
        read_ground_truth(write_json(tmp_path / "gt.json", tiny_dataset())), None
    )
    yield store
    store.close()


@pytest.fixture
def umask() -> Iterator[object]:
    """Set the process umask for a test (restored after)."""
    old = os.umask(0o022)

    def set_mask(mask: int) -> None:
        os.umask(mask)

    yield set_mask
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
@pytest.mark.parametrize("mask", [0o022, 0o002, 0o077])
def test_new_exports_get_the_umask_mode(
    project: Store, tmp_path: Path, umask: object, mask: int
) -> None:
    umask(mask)
    export_coco(project, tmp_path / "out.json")
    export_changes(project, tmp_path / "log.csv")
    export_changes(project, tmp_path / "log.json")
    for name in ("out.json", "log.csv", "log.json"):
        assert mode(tmp_path / name) == 0o666 & ~mask, name


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_a_replaced_export_keeps_its_mode(project: Store, tmp_path: Path, umask: object) -> None:
    umask(0o022)
    out = tmp_path / "out.json"
    out.write_text("{}")
    out.chmod(0o640)
    export_coco(project, out)
    assert mode(out) == 0o640
    assert out.read_text() != "{}"
