"""A new project never opens on a misleading view: it opens on every kind ranked by calibrated
score down to the default cut; when a confidence cut (the earlier default, one click away)
hides almost every suspect (or every one of a kind), the window says so and lowers the cut, or
goes back to the default view, in one click."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from labelfix.core.errors import KINDS
from labelfix.core.filter_advice import MOST, PER_KIND, advise
from labelfix.core.store import Store
from labelfix.core.suspects import DEFAULT_REVIEW_FILTER, SEED_REVIEW_FILTER
from labelfix.desktop.main_window import MainWindow


def with_default_filter(project: Path) -> Path:
    """The project as a new one opens: no saved review state, the default filter."""
    with Store.open(project) as store, store.atomic():
        store.set_meta("ui_state", {})
    return project


def listed_kinds(window: MainWindow) -> set[str]:
    s = window.session
    return {s.suspect_at(r)["kind"] for r in range(s.row_count())}


def test_a_new_project_opens_on_the_default_view_without_a_hint(
    open_window: Callable[..., MainWindow], demo_project: Path
) -> None:
    window = open_window(with_default_filter(demo_project))
    s = window.session
    assert s.filter == DEFAULT_REVIEW_FILTER
    assert len(listed_kinds(window)) >= 3  # not the spurious labels alone
    listed = s.index.score[s.positions]
    assert (listed >= s.index.review_cut).all() and s.index.review_cut > 0
    assert not window.filter_hint.isVisible()
    assert window.filter_bar.min_score.suffix() == " (default)"


def test_the_earlier_confidence_cut_is_one_click_away_and_called_out(
    open_window: Callable[..., MainWindow], demo_project: Path, qtbot: object
) -> None:
    window = open_window(with_default_filter(demo_project))
    s, hint, bar = window.session, window.filter_hint, window.filter_bar
    bar.seed.click()
    assert (s.filter.min_confidence, s.filter.min_score) == (0.75, 0.0)
    # the misleading view: only suspects without a prediction (so without a confidence)
    listed = [s.suspect_at(r) for r in range(s.row_count())]
    assert {r["kind"] for r in listed} <= {"spurious_label", "duplicate_label", "inaccurate_label"}
    assert all(r["prediction_id"] is None for r in listed if r["kind"] == "inaccurate_label")
    assert hint.isVisible()
    text = hint.text.text()
    assert text.startswith("conf ≥ 0.75 hides ") and "all " in text and "missing labels" in text
    suggested = hint.advice.suggested
    assert hint.button.text() == f"List conf ≥ {suggested:.2f}"
    hint.button.click()
    assert s.filter.min_confidence == suggested
    assert not hint.isVisible()
    index = s.index
    present = {
        KINDS[int(k)] for k in np.unique(index.kind[index.mask(s.filter.with_(min_confidence=0))])
    }
    assert listed_kinds(window) == present  # every kind's best suspects are listed
    assert s.row_count() > (1 - MOST) * len(
        index.mask(s.filter.with_(min_confidence=0)).nonzero()[0]
    )
    assert not bar.seed.isChecked()  # conf >= the suggested cut is not the earlier view
    bar.seed.click()  # on again, then the hint's other way out: the default view
    assert s.filter.min_confidence == 0.75 and hint.isVisible()
    hint.default_button.click()
    assert (s.filter.min_confidence, s.filter.min_score) == (0.0, None)
    assert not hint.isVisible() and not bar.seed.isChecked()


def test_the_suggested_cut_lists_enough_of_every_kind(demo_project: Path) -> None:
    from labelfix.core.suspects import SuspectIndex

    with Store.open(demo_project, readonly=True) as store:
        index = SuspectIndex.load(store)
    assert advise(index, DEFAULT_REVIEW_FILTER) is None  # no confidence cut, nothing to say
    advice = advise(index, SEED_REVIEW_FILTER)
    assert advice is not None and advice.suggested < 0.75
    assert advice.hidden_share > MOST or advice.hidden_kinds  # advise()'s two reasons
    shown = index.mask(SEED_REVIEW_FILTER.with_(min_confidence=advice.suggested))
    base = index.mask(SEED_REVIEW_FILTER.with_(min_confidence=0.0))
    for code in np.unique(index.kind[base]):
        of_kind = base & (index.kind == code)
        assert (shown & of_kind).sum() >= min(PER_KIND, of_kind.sum())
    assert advise(index, SEED_REVIEW_FILTER.with_(min_confidence=advice.suggested)) is None


def test_an_empty_list_says_why_the_canvas_is_empty(
    open_window: Callable[..., MainWindow], demo_project: Path, qtbot: object
) -> None:
    """A filter that lists nothing left a dark canvas and a blank table: now the canvas says
    the filter hides every suspect."""
    window = open_window(demo_project)
    s, canvas = window.session, window.canvas
    assert canvas.empty_message() is None  # a suspect is shown
    s.set_filter(replace(s.filter, file_name="no such file"))
    assert s.row_count() == 0
    qtbot.waitUntil(lambda: canvas.empty_message() is not None)
    assert f"lists none of this analysis's {len(s.index)} suspects" in canvas.empty_message()
    canvas.grab()  # paints it without error
