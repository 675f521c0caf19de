"""`labelfix analyze --scores comparable` and `labelfix report`'s sentence on whether the
prediction set's scores are comparable across classes (core.score_scale), on the real data
(CenterNet on 81 COCO images: one score scale for all classes)."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest

from labelfix.core.cli import run
from labelfix.core.cli_report import score_scale_data
from labelfix.core.store import Store

from helpers import real81_project


def _out(argv: list[str]) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        assert run(argv) == 0
    return out.getvalue()


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return real81_project(tmp_path_factory.mktemp("scale") / "p.labelfix")


def test_the_report_says_the_scores_look_comparable(project: Path) -> None:
    _out(["analyze", str(project)])
    text = _out(["report", str(project)])
    assert "  Scores look comparable across classes (pooled log loss 0." in text
    assert "`--scores comparable` may find more missing labels.\n" in text
    (part,) = json.loads(_out(["report", str(project), "--format", "json"]))["sets"]
    scale = part["score_scale"]
    assert scale["comparable"] and scale["scores"] == "per-class"
    assert scale["pooled_log_loss"] <= scale["per_class_log_loss"]
    assert scale["predictions"] > 1000 and scale["sentence"] in text


def test_analyze_scores_comparable_is_stored_with_the_analysis(project: Path) -> None:
    _out(["analyze", str(project), "--scores", "comparable"])
    store = Store.open(project)
    try:
        assert store.current_analysis()["params"].scores == "comparable"
    finally:
        store.close()
    text = _out(["report", str(project)])
    assert "missing labels are ranked by one curve over all classes" in text
    _out(["analyze", str(project)])  # the default again
    store = Store.open(project)
    try:
        assert store.current_analysis()["params"].scores == "per-class"
    finally:
        store.close()


def test_an_analysis_without_the_diagnostic_reports_none() -> None:
    assert score_scale_data(None) is None
