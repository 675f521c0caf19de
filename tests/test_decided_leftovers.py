"""A full re-analysis keeps the old analysis's decided suspects that it does not find again:
a project file's reads them once (its write transaction holds the file from the start), and
not at all when nothing is decided."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest

from labelfix.core import project
from labelfix.core.cli import run
from labelfix.core.store import Store

from helpers import real81_project, sql


@pytest.fixture(scope="module")
def analysed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = real81_project(tmp_path_factory.mktemp("decided") / "real.labelfix")
    project.analyze_project(out)
    with Store.open(out) as store:
        set_id = store.active_set_id()
        keys = [r[0] for r in sql(store, "SELECT key FROM suspects ORDER BY score DESC").fetchall()]
        for key, decision in zip(keys[:9], ("accepted", "rejected", "flagged") * 3, strict=True):
            store.set_decision(set_id, key, decision, None)
    return out


def _listing(path: Path, status: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert run(["suspects", str(path), "--format", "json", "--status", status]) == 0
    return out.getvalue()


def test_a_full_analysis_reads_the_old_decided_rows_once(
    analysed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from labelfix.core.store.analyses import AnalysisRepository

    copy = tmp_path / "again.labelfix"
    copy.write_bytes(analysed.read_bytes())
    reads: list[str] = []
    read = AnalysisRepository._decided_leftovers

    def counted(self, *args, **kwargs):  # noqa: ANN001, ANN202
        reads.append("read")
        return read(self, *args, **kwargs)

    monkeypatch.setattr(AnalysisRepository, "_decided_leftovers", counted)
    project.analyze_project(copy)
    assert reads == ["read"]
    with Store.open(copy) as store:
        assert len(store.decisions(store.active_set_id())) == 9
    for status in ("accepted", "rejected", "flagged", "all"):
        assert _listing(copy, status) == _listing(analysed, status)


def test_nothing_decided_joins_no_old_row_to_the_decisions(
    analysed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh = tmp_path / "fresh.labelfix"
    fresh.write_bytes(analysed.read_bytes())
    with Store.open(fresh) as store:
        set_id = store.active_set_id()
        for key in store.decisions(set_id):
            store.set_decision(set_id, key, None, None)
        rows = store._db.rows
        seen: list[str] = []
        monkeypatch.setattr(
            store._db, "rows", lambda sql, params=(): (seen.append(sql), rows(sql, params))[1]
        )
        project.analyze_project(store)
    assert seen and not [q for q in seen if "JOIN decisions" in q]
