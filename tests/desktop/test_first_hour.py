"""What a reviewer met in their first hour with issue 14's views (two prediction sets, the
Model tab, confusions, grouped suspects, the default cut), at 1400x900 and 1024x700: each
test pins one thing that was broken, confusing or clipped."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from labelfix.core.project import import_project
from labelfix.core.suspects import KINDS
from labelfix.desktop.demo import demo_source
from labelfix.desktop.main_window import MainWindow
from labelfix.desktop.models import KIND_TITLES

from helpers import a_group

SIZES = [(1400, 900), (1024, 700)]


def model_tab(window: MainWindow) -> object:
    summary = window.docks["summary"].widget()
    summary.setCurrentIndex(1)
    QApplication.processEvents()
    return summary.model_report


def settle(qtbot: object) -> None:
    qtbot.wait(60)  # the inspector and the summary follow the session a moment later
    QApplication.processEvents()


def test_kind_titles_are_the_kind_words() -> None:
    """duplicate_label read "duplicate" in the table, the kinds menu and the summary."""
    assert {k: KIND_TITLES[k] for k in KINDS} == {k: k.replace("_", " ") for k in KINDS}


def test_a_project_without_analysis_says_so_and_the_status_bar_never_overlaps(
    open_window: Callable[..., MainWindow], tmp_path: Path
) -> None:
    """The canvas said "This analysis found no suspects." before any analysis, and the start
    message was painted over the counts (both in the status bar at once)."""
    src = demo_source()
    path = tmp_path / "new.labelfix"
    import_project(path, src / "labels.json", src / "images", src / "predictions.json")
    window = open_window(path)
    assert not window.session.analysed()
    message = window.canvas.empty_message()
    assert message is not None and "no analysis yet" in message
    assert "Analyse" in message
    bar = window.statusBar()
    if bar.currentMessage():
        assert not window.counts.isVisible()


@pytest.mark.parametrize("size", SIZES)
def test_found_by_lists_one_set_a_line_and_is_not_clipped(
    open_window: Callable[..., MainWindow], two_sets_project: Path, qtbot: object, size: tuple
) -> None:
    window = open_window(two_sets_project, size=size)
    s = window.session
    index = s.index
    both = np.flatnonzero(index.support_counts() == 2)
    s.set_filter(s.filter.with_(min_score=0.0, per_object=False))
    s.select_id(int(index.ids[both[0]]))
    settle(qtbot)
    inspector = window.docks["inspector"].widget()
    field = inspector.fields["sets"]
    lines = field.toolTip().split("\n")  # the whole lines (a narrow field fits them: test_found_by)
    found = s.current()["supported_by"]
    assert len(lines) == len(found) == 2
    for line, x in zip(lines, found, strict=True):
        assert line.startswith(f"{x['set']}: score {x['score']:.2f}")
    assert field.height() >= field.heightForWidth(field.width())
    for line in field.text().split("\n"):
        assert field.fontMetrics().horizontalAdvance(line) <= field.contentsRect().width()


@pytest.mark.parametrize("size", SIZES)
def test_the_model_tab_shows_whole_rows_and_the_class_column(
    open_window: Callable[..., MainWindow], two_sets_project: Path, qtbot: object, size: tuple
) -> None:
    """The per-class and confusion tables were squeezed to less than one row, scrolled so far
    right that the class column read "la▸"."""
    window = open_window(two_sets_project, size=size)
    report = model_tab(window)
    settle(qtbot)
    for view in (report.metrics_view, report.confusions_view):
        assert view.model().rowCount() >= 4
        rows = view.viewport().height() // view.rowHeight(0)
        assert rows >= 4, f"{view.viewport().height()} px show {rows} rows"
        header = view.horizontalHeader()
        assert view.horizontalScrollBar().value() == 0
        last = view.model().columnCount() - 1
        right = header.sectionViewportPosition(last) + header.sectionSize(last)
        assert right <= view.viewport().width() + 1  # every number visible
        fm = view.fontMetrics()
        assert header.sectionSize(0) >= fm.horizontalAdvance("person") + 8
    assert report.plot.height() >= 120


@pytest.mark.parametrize("size", SIZES)
def test_the_suspects_tab_lists_every_kind_without_scrolling(
    open_window: Callable[..., MainWindow], two_sets_project: Path, qtbot: object, size: tuple
) -> None:
    window = open_window(two_sets_project, size=size)
    summary = window.docks["summary"].widget()
    settle(qtbot)
    view = summary.kind_view
    assert view.model().rowCount() == len(KINDS)
    assert view.viewport().height() >= len(KINDS) * view.rowHeight(0)


def test_a_confusion_pair_filter_is_shown_and_cleared_from_the_filter_bar(
    open_window: Callable[..., MainWindow], two_sets_project: Path, qtbot: object
) -> None:
    """A click on a confusion listed its pair's suspects, and nothing in the filter bar said
    so or undid it ("Classes: all" while two rows were listed)."""
    window = open_window(two_sets_project)
    s, bar = window.session, window.filter_bar
    report = model_tab(window)
    assert bar.pair.isHidden()
    a, b = report.confusions.keys[0]
    report.confusions_view.clicked.emit(report.confusions.index(0, 0))
    assert s.filter.class_pair == (a, b)
    names = s.category_names
    assert not bar.pair.isHidden()
    assert names[a] in bar.pair.text() and names[b] in bar.pair.text()
    bar.pair.click()
    assert s.filter.class_pair is None and bar.pair.isHidden()


def test_typing_a_file_name_keeps_the_default_cut(
    open_window: Callable[..., MainWindow], two_sets_project: Path, qtbot: object
) -> None:
    """The score box shows the default cut rounded to 2 decimals; any other filter change
    took that rounded value as the reviewer's own cut ("(default)" vanished)."""
    window = open_window(two_sets_project)
    s, bar = window.session, window.filter_bar
    s.index.review_cut = 0.2874  # a cut that 2 decimals do not show exactly
    bar._sync_cut()
    assert s.filter.min_score is None and bar.min_score.suffix() == " (default)"
    bar.search.setText("0000")
    qtbot.waitUntil(lambda: s.filter.file_name == "0000")
    assert s.filter.min_score is None and bar.min_score.suffix() == " (default)"
    bar.per_object.click()
    assert s.filter.min_score is None


def test_n_steps_through_the_object_s_alternatives_and_a_accepts_one(
    open_window: Callable[..., MainWindow], two_sets_project: Path, qtbot: object
) -> None:
    """The alternatives were a mouse click away (links in the inspector) but no key away."""
    window = open_window(two_sets_project)
    s = window.session
    index = s.index
    head = a_group(index)
    others = [int(p) for p in index.alternatives(head)]
    s.set_filter(s.filter.with_(min_score=0.0))
    s.select_id(int(index.ids[head]))
    window.table.setFocus()
    QTest.keyClick(window, Qt.Key.Key_N)
    assert s.current_pos == others[0]
    for _ in others[1:]:
        QTest.keyClick(window, Qt.Key.Key_N)
    QTest.keyClick(window, Qt.Key.Key_N)  # round to the most likely fix again
    assert s.current_pos == head
    QTest.keyClick(window, Qt.Key.Key_N)
    chosen = index.key(others[0])
    head_key = index.key(head)
    set_id = int(index.prediction_set_id[others[0]])
    QTest.keyClick(window, Qt.Key.Key_A)
    assert s.store.decision(set_id, chosen)["decision"] == "accepted"
    QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert s.store.decision(set_id, chosen) is None
    assert s.store.decision(int(index.prediction_set_id[head]), head_key) is None


def test_undo_and_redo_keep_one_found_by_line_per_set(
    open_window: Callable[..., MainWindow], two_sets_project: Path, qtbot: object
) -> None:
    """After an undo the inspector read "centernet 0.52 · centernet 0.43", after a redo five
    entries: re-reading an image's suspects kept their old prediction-set support rows."""
    window = open_window(two_sets_project)
    s = window.session
    s.set_filter(s.filter.with_(min_score=0.0))
    before = {s.index.key(p): len(s.index.supported_by(p)) for p in range(len(s.index))}
    s.select_row(0)
    window.table.setFocus()
    QTest.keyClick(window, Qt.Key.Key_A)
    QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClick(
        window,
        Qt.Key.Key_Z,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    after = {s.index.key(p): len(s.index.supported_by(p)) for p in range(len(s.index))}
    assert after == before


@pytest.mark.parametrize("width", [180, 260, 400])
def test_the_histogram_caption_stays_clear_of_the_bars_and_the_cut_line(
    open_window: Callable[..., MainWindow], two_sets_project: Path, width: int
) -> None:
    """In a narrow panel "tallest bar N (log scale)" was drawn over the bars, and the red cut
    line ran through it."""
    from labelfix.desktop.summary import ScoreHistogram

    window = open_window(two_sets_project)
    s = window.session
    s.set_filter(s.filter.with_(min_score=0.8))
    histogram = ScoreHistogram(s)
    histogram.resize(width, 120)
    histogram.refresh()
    caption, area = histogram.layout_rects()
    assert caption.bottom() <= area.top()  # the bars and the cut line live in ``area``
    assert caption.width() > 0 and area.height() >= 60
    histogram.grab()  # paints


def test_tags_keep_off_the_selected_label_s_edit_handles(
    open_window: Callable[..., MainWindow], two_sets_project: Path, qtbot: object
) -> None:
    """ "A: → wine glass" sat on the edited label's top edge, over its vertex handles: neither
    the text nor the handles could be read or grabbed."""
    from labelfix.desktop.canvas.handles import HANDLE_SIZE

    window = open_window(two_sets_project, size=(1400, 900))
    s, canvas = window.session, window.canvas
    s.set_filter(s.filter.with_(min_score=0.0, per_object=False))
    index = s.index
    checked = 0
    for pos in np.flatnonzero(index.kind == KINDS.index("wrong_class"))[:6]:
        s.select_id(int(index.ids[pos]))
        qtbot.waitUntil(lambda: canvas.review_scene.overlay is not None)
        s.select_label(s.current()["annotation_id"])
        qtbot.waitUntil(lambda: canvas.editor is not None)
        canvas.viewport().repaint()
        QApplication.processEvents()
        t = canvas.viewportTransform()
        half = HANDLE_SIZE / 2
        handles = [t.map(h.scenePos()) for h in canvas.editor.handles]
        for rects in canvas.review_scene.tag_rects(t).values():
            for r in rects:
                inner = r.adjusted(1, 1, -1, -1)
                for p in handles:
                    box = type(r)(p.x() - half, p.y() - half, 2 * half, 2 * half)
                    assert not inner.intersects(box), (r, p)
        checked += 1
    assert checked >= 3


def test_the_analyse_dialog_names_the_probability_cut(qtbot: object) -> None:
    """ "Min prediction score 0.05" read as the detector's raw score (and beside the table's
    Score, the suspects'); since calibration it is a probability (labelfix analyze
    --min-score: "least probability that raises a missing-label suspect")."""
    from labelfix.desktop.dialogs import ThresholdsDialog

    dialog = ThresholdsDialog(None)
    qtbot.addWidget(dialog)
    label = dialog.layout().labelForField(dialog.min_score)
    assert label is not None and label.text() == "Min probability (missing label)"


def test_accepting_a_suspect_two_sets_found_says_one_suspect(
    open_window: Callable[..., MainWindow], two_sets_project: Path, qtbot: object
) -> None:
    """The decision is recorded under each set's key, and the inspector counted those:
    "Last accept (2 suspects)" after one A."""
    window = open_window(two_sets_project)
    s = window.session
    index = s.index
    s.set_filter(s.filter.with_(min_score=0.0, per_object=False))
    both = np.flatnonzero(
        (index.support_counts() == 2) & (index.kind == KINDS.index("wrong_class"))
    )
    s.select_id(int(index.ids[both[0]]))
    window.table.setFocus()
    QTest.keyClick(window, Qt.Key.Key_A)
    settle(qtbot)
    text = window.docks["inspector"].widget().last_accept.text()
    assert text.startswith("Last accept (the suspect): now "), text


def test_the_reliability_plot_keeps_its_dots_off_its_title(
    open_window: Callable[..., MainWindow], two_sets_project: Path, qtbot: object
) -> None:
    """A bin whose predictions all matched (rate 1) drew its dot on the title's line."""
    from labelfix.desktop.model_report import DOT_MAX

    window = open_window(two_sets_project)
    plot = model_tab(window).plot
    plot.resize(200, 150)
    title, area = plot.layout_rects()
    assert title.bottom() <= area.top() - DOT_MAX  # a dot at rate 1 is centred on area.top()
    assert area.height() >= 80
    plot.grab()


def test_n_typed_into_the_file_name_box_is_text(
    open_window: Callable[..., MainWindow], two_sets_project: Path, qtbot: object
) -> None:
    window = open_window(two_sets_project)
    s, bar = window.session, window.filter_bar
    before = s.current_pos
    bar.search.setFocus()
    QTest.keyClicks(bar.search, "n")
    assert bar.search.text() == "n" and s.current_pos == before
