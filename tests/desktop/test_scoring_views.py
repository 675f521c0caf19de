"""The window's issue-14 views on the demo project: the Model tab (per-class metrics and
confusions a click away from their suspects, a reliability plot per class), the inspector's
list of the object's alternatives with accept closing them (one undo), the table's default view
and its columns, and an analysis of several prediction sets from the Analyse dialog."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from labelfix.core.review import CLOSED_NOTE
from labelfix.core.suspects import DEFAULT_REVIEW_FILTER, STATUS_CODE, SuspectFilter
from labelfix.desktop import jobs
from labelfix.desktop.dialogs import ThresholdsDialog
from labelfix.desktop.main_window import MainWindow
from labelfix.desktop.models import COLUMNS
from labelfix.desktop.table import SETS_COLUMN

from helpers import a_group

OPEN = STATUS_CODE["open"]


def model_tab(window: MainWindow) -> object:
    summary = window.docks["summary"].widget()
    summary.setCurrentIndex(1)
    return summary.model_report


def test_the_model_tab_shows_the_report_and_filters_by_a_click(
    open_window: Callable[..., MainWindow], demo_project: Path, qtbot: object
) -> None:
    window = open_window(demo_project)
    s, report = window.session, model_tab(window)
    stored, fits = s.analysis_report()
    (part,) = stored["sets"].values()
    assert report.metrics.rowCount() == len(part["classes"]) > 10
    names = s.category_names
    row = next(i for i, k in enumerate(report.metrics.keys) if part["classes"][str(k)]["ap"])
    cat = report.metrics.keys[row]
    shown = [report.metrics.data(report.metrics.index(row, c)) for c in range(5)]
    metrics = part["classes"][str(cat)]
    assert shown == [
        names[cat],
        str(metrics["labels"]),
        f"{metrics['ap']:.2f}",
        "—" if metrics["precision"] is None else f"{metrics['precision']:.2f}",
        f"{metrics['recall']:.2f}",
    ]
    # sortable: worst AP first
    report.metrics_view.sortByColumn(2, Qt.SortOrder.AscendingOrder)
    aps = [r[2] for r in report.metrics.rows if r[2] is not None]
    assert aps == sorted(aps)
    # a click on a class lists its suspects and plots its calibration
    row = report.metrics.keys.index(cat)
    report.metrics_view.clicked.emit(report.metrics.index(row, 0))
    assert s.filter.category_ids == frozenset({cat})
    listed = s.index.category_id[s.positions], s.index.predicted_category_id[s.positions]
    assert ((listed[0] == cat) | (listed[1] == cat)).all()
    if str(cat) in part["reliability"]:
        assert report.class_choice.currentData() == cat
        assert report.plot.curve == sorted(
            zip(fits[s.index.set_id]["calibration"]["classes"][str(cat)]["score"],
                fits[s.index.set_id]["calibration"]["classes"][str(cat)]["p"], strict=True)
        )  # fmt: skip
        assert report.plot.bins == part["reliability"][str(cat)]
    # a confusion: label class A predicted as B, a click lists those suspects
    assert report.confusions.rowCount() > 0
    a, b = report.confusions.keys[0]
    s.set_filter(DEFAULT_REVIEW_FILTER.with_(min_score=0.0))
    report.confusions_view.clicked.emit(report.confusions.index(0, 0))
    assert s.filter.class_pair == (a, b) and s.filter.category_ids is None
    assert (s.index.category_id[s.positions] == a).all()
    assert (s.index.predicted_category_id[s.positions] == b).all()
    window.grab()  # paints (the plot included) without error


def test_the_inspector_lists_the_object_s_alternatives_and_accept_closes_them(
    open_window: Callable[..., MainWindow], demo_project: Path, qtbot: object
) -> None:
    window = open_window(demo_project)
    s = window.session
    index = s.index
    head = a_group(index)
    s.set_filter(DEFAULT_REVIEW_FILTER.with_(min_score=0.0))
    s.select_id(int(index.ids[head]))
    inspector = window.docks["inspector"].widget()
    qtbot.waitUntil(lambda: inspector.title.text() != "No suspect selected")
    others = index.alternatives(head)
    links = inspector.alternatives.text()
    assert links.count("<a href=") == len(others)
    for p in others:
        assert f'href="{int(index.ids[p])}"' in links
    table = window.table.suspect_model
    row = s.current_row()
    assert table.data(table.index(row, [c[1] for c in COLUMNS].index("alternatives"))) == (
        f"+{len(others)}"
    )
    keys = [index.key(int(p)) for p in others]  # positions move when the image is re-read
    head_key = index.key(head)
    window.table.setFocus()
    QTest.keyClick(window, Qt.Key.Key_A)
    assert s.store.decision(index.set_id, head_key)["decision"] == "accepted"
    for key in keys:
        decided = s.store.decision(index.set_id, key)
        assert decided["decision"] == "rejected"
        assert decided["note"] == CLOSED_NOTE.format(key=head_key)
    closed = s.index.positions_of(keys)  # those the re-analysis still finds (or kept)
    assert (s.index.status[closed] == STATUS_CODE["rejected"]).all()
    QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert s.store.decision(index.set_id, head_key) is None
    assert all(s.store.decision(index.set_id, key) is None for key in keys)
    again = s.index.positions_of([head_key, *keys])
    assert len(again) == 1 + len(keys) and (s.index.status[again] == OPEN).all()


def test_the_table_opens_one_row_per_object_down_to_the_default_cut(
    open_window: Callable[..., MainWindow], demo_project: Path
) -> None:
    window = open_window(demo_project)
    s, bar = window.session, window.filter_bar
    assert s.filter == DEFAULT_REVIEW_FILTER
    assert bar.per_object.isChecked() and bar.min_score.suffix() == " (default)"
    assert bar.min_score.value() == round(s.index.review_cut, 2)
    groups = s.index.group[s.positions]
    assert len(np.unique(groups)) == len(groups)  # one row per object
    assert window.table.isColumnHidden(SETS_COLUMN)  # one prediction set
    bar.per_object.click()
    assert not s.filter.per_object and s.row_count() > len(groups)
    bar.min_score.setValue(0.5)  # the reviewer's own cut replaces the default
    assert s.filter.min_score == 0.5 and bar.min_score.suffix() == ""
    assert (s.index.score[s.positions] >= 0.5).all()


def test_several_prediction_sets_from_the_analyse_dialog(
    open_window: Callable[..., MainWindow], demo_project: Path, tmp_path: Path, qtbot: object
) -> None:
    """A second set (the demo detector's boxes shifted, scores squared: another detector's
    habits) analysed together with the first: the table shows who found each suspect."""
    from labelfix.core import project
    from labelfix.desktop.demo import demo_source

    preds = json.loads((demo_source() / "predictions.json").read_text())
    for p in preds:
        x, y, w, h = p["bbox"]
        p["bbox"], p["score"] = [x + 0.05 * w, y, w, h], p["score"] ** 2
    other = tmp_path / "shifted.json"
    other.write_text(json.dumps(preds))
    with project.open_project(demo_project) as store:
        project.add_predictions(store, other, "shifted", activate=False)
    window = open_window(demo_project)
    s = window.session
    sets = s.prediction_sets()
    assert len(sets) == 2 and window.actions["analyze_sets"].isEnabled()
    dialog = ThresholdsDialog(s.analysis_params(), window, sets=sets)
    qtbot.addWidget(dialog)
    assert dialog.chosen_sets() == [x["id"] for x in sets]
    dialog.sets.item(1).setCheckState(Qt.CheckState.Unchecked)
    assert dialog.chosen_sets() == [sets[0]["id"]]
    dialog.sets.item(0).setCheckState(Qt.CheckState.Unchecked)
    assert not dialog.ok.isEnabled()  # at least one set
    result = jobs.analyze_project(demo_project, s.analysis_params(), [x["id"] for x in sets])
    s.set_index(result.index)
    assert s.index.multi and not window.table.isColumnHidden(SETS_COLUMN)
    table = window.table.suspect_model
    column = [c[1] for c in COLUMNS].index("sets")
    texts = {table.data(table.index(r, column)) for r in range(s.row_count())}
    assert "all (2)" in texts
    # a decision on a suspect both sets found is kept under both sets' keys
    s.set_filter(SuspectFilter(statuses=frozenset({"open"})))
    row = next(r for r in range(s.row_count()) if len(s.suspect_at(r)["supported_by"]) == 2)
    suspect = s.suspect_at(row)
    s.select_row(row)
    s.decide("flagged", "both")
    for found in suspect["supported_by"]:
        assert s.store.decision(found["set_id"], found["key"])["decision"] == "flagged"
    pos = s.review.position_of_id(suspect["id"])
    assert s.index.status[pos] == STATUS_CODE["flagged"]
    model_tab(window).reload()
    assert model_tab(window).set_choice.count() == 2  # a report per set
