"""`labelfix report`'s table: a share under half a percent read "0%" beside a count of 1
(one person of 214 predicted as a couch), and a class with no prediction at the cut had a blank
precision cell, which read as a shifted column; now "<1%" and "-". The sets' dependence sentence
(score version 14) is the report's only with two or more sets, one rule for the CLI and the
app's Model tab."""

from __future__ import annotations

from labelfix.core.analysis_report import dependence_sentence, report_dependence_sentence
from labelfix.core.cli_report import number_text, share_text


def test_a_small_share_is_not_zero() -> None:
    assert share_text(1 / 214) == "<1%"
    assert share_text(0.0) == "0%"
    assert share_text(2 / 9) == "22%"
    assert share_text(1.0) == "100%"


def test_a_missing_number_is_a_dash() -> None:
    assert number_text(None) == "-"
    assert number_text(0.5) == "0.500"


def test_the_dependence_sentence_needs_two_sets_and_a_measured_dependence() -> None:
    two = {"sets": {"1": {}, "2": {}}, "dependence": 0.15}
    assert report_dependence_sentence(two) == dependence_sentence(2, 0.15)
    assert "counts them as 1.74 independent sets" in dependence_sentence(2, 0.15)
    assert report_dependence_sentence({"sets": [{}, {}, {}], "dependence": 1.0}) == (
        dependence_sentence(3, 1.0)
    )
    assert report_dependence_sentence({"sets": {"1": {}, "2": {}}}) is None  # version 13
    assert report_dependence_sentence({"sets": {"1": {}}, "dependence": 0.5}) is None
