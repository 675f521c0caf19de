"""`labelfix report`'s table: a share under half a percent read "0%" beside a count of 1
(one person of 214 predicted as a couch), and a class with no prediction at the cut had a blank
precision cell, which read as a shifted column; now "<1%" and "-"."""

from __future__ import annotations

from labelfix.core.cli_report import number_text, share_text


def test_a_small_share_is_not_zero() -> None:
    assert share_text(1 / 214) == "<1%"
    assert share_text(0.0) == "0%"
    assert share_text(2 / 9) == "22%"
    assert share_text(1.0) == "100%"


def test_a_missing_number_is_a_dash() -> None:
    assert number_text(None) == "-"
    assert number_text(0.5) == "0.500"
