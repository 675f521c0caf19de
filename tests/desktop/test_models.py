"""Models: qtmodeltester on every model; the table lists what the CLI lists, in its order;
header sorting goes through SuspectIndex.query."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetricsF

from labelfix.core.suspects import SORT_KEYS, SuspectFilter, SuspectIndex, cli_record
from labelfix.desktop.models import COLUMNS, CountsModel, SuspectTableModel
from labelfix.desktop.session import Session


@pytest.fixture
def session(demo_project: Path) -> Session:
    """The demo project's session."""
    s = Session.open(demo_project)
    yield s
    s.close()


def cli_suspects(project: Path, *args: str) -> list[dict]:
    """`labelfix suspects X --format json ...` as records."""
    out = subprocess.run(
        [sys.executable, "-m", "labelfix", "suspects", str(project), "--format", "json", *args],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def model_records(session: Session) -> list[dict]:
    """The table's rows as CLI records."""
    return [cli_record(session.suspect_at(r)) for r in range(session.row_count())]


def test_qtmodeltester_on_every_model(qtmodeltester: object, session: Session) -> None:
    model = SuspectTableModel(session)
    qtmodeltester.check(model)
    assert model.rowCount() == session.row_count() > 0
    for by in ("kind", "class"):
        qtmodeltester.check(CountsModel(session, by))
    session.set_filter(SuspectFilter(min_confidence=0.99, statuses=frozenset({"open"})))
    qtmodeltester.check(model)  # also when (nearly) empty
    assert model.rowCount() == session.row_count()


def test_table_lists_the_cli_rows_in_the_cli_order(session: Session, demo_project: Path) -> None:
    session.set_filter(SuspectFilter(min_confidence=0.3))
    assert session.row_count() > 20
    assert model_records(session) == cli_suspects(demo_project, "--min-confidence", "0.3")
    # the review default (open only) after a rejection: the rejected one is hidden, like --status open
    session.select_row(0)
    rejected = session.current()["key"]
    session.decide("rejected")
    session.set_filter(SuspectFilter(min_confidence=0.3, statuses=frozenset({"open"})))
    assert rejected not in {session.suspect_at(r)["key"] for r in range(session.row_count())}
    session.save_ui_state()
    assert model_records(session) == cli_suspects(
        demo_project, "--min-confidence", "0.3", "--status", "open"
    )
    session.set_filter(SuspectFilter(min_confidence=0.75, statuses=frozenset({"open"})))
    assert model_records(session) == cli_suspects(
        demo_project, "--min-confidence", "0.75", "--status", "open"
    )


def test_header_sort_goes_through_the_index(session: Session) -> None:
    model = SuspectTableModel(session)
    session.set_filter(SuspectFilter(min_confidence=0.3, statuses=None))
    assert {c[1] for c in COLUMNS} == set(SORT_KEYS)
    for column, (_title, key) in enumerate(COLUMNS):
        for order in (Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder):
            model.sort(column, order)
            descending = order == Qt.SortOrder.DescendingOrder
            expected = session.index.query(session.filter, key, descending)
            assert (session.sort_key, session.descending) == (key, descending)
            assert list(session.positions) == list(expected)
            assert model.rowCount() == len(expected)
            first = model.data(model.index(0, column))
            assert first == model._text(session.index, int(expected[0]), key)


def test_a_sort_reorders_the_table_and_leaves_the_counts_alone(
    session: Session, qtbot: object
) -> None:
    """Sorting lists the same rows anew: the table resets, the counts and histogram do no work."""
    from labelfix.desktop.summary import SummaryPanel

    table = SuspectTableModel(session)
    by_kind = CountsModel(session, "kind")
    panel = SummaryPanel(session)
    qtbot.addWidget(panel)
    resets: list[str] = []
    table.modelReset.connect(lambda: resets.append("table"))
    by_kind.modelReset.connect(lambda: resets.append("counts"))
    counts = [by_kind.data(by_kind.index(r, 1)) for r in range(by_kind.rowCount())]
    not_recounted = qtbot.assertNotEmitted(session.suspectsChanged)
    with not_recounted, qtbot.waitSignal(session.orderChanged):
        session.set_sort("confidence", False)
    assert resets == ["table"]
    values = np.nan_to_num(session.index.confidence[session.positions], nan=-1.0)
    assert len(values) > 10 and (values[:-1] <= values[1:]).all()  # no confidence sorts first
    assert [by_kind.data(by_kind.index(r, 1)) for r in range(by_kind.rowCount())] == counts
    # a filter change is new rows: counts recount, the histogram's threshold line moves, and
    # its bars (over the whole index) stay as they were
    bars = panel.histogram.counts
    with qtbot.waitSignal(session.suspectsChanged):
        session.set_filter(SuspectFilter(min_score=0.6, statuses=None))
    assert resets[-1] == "counts"
    assert panel.histogram.threshold == 0.6  # the score cut
    qtbot.wait(100)  # past the histogram's lazy refresh
    assert panel.histogram.counts is bars
    # a new index is counted again
    session.set_index(SuspectIndex.load(session.store))
    qtbot.waitUntil(lambda: panel.histogram.counts is not bars)
    np.testing.assert_array_equal(panel.histogram.counts, bars)


def test_kind_status_and_number_columns_show_their_values_whole(
    session: Session, qtbot: object
) -> None:
    """The table elides at the left (file names differ at their end), so the columns whose start
    matters are wide enough for their longest value in the table's own font."""
    from labelfix.desktop.models import KIND_TITLES
    from labelfix.desktop.table import CELL_PADDING, SuspectTable

    table = SuspectTable(session)
    qtbot.addWidget(table)
    fm = QFontMetricsF(table.font())
    columns = [title for title, _ in COLUMNS]
    longest = {
        "Kind": list(KIND_TITLES.values()),
        "Status": ["open", "accepted", "rejected", "flagged"],
        "Score": ["0.000"],
        "IoU": ["0.00"],
        "Conf.": ["0.00"],
    }
    for title, texts in longest.items():
        room = table.columnWidth(columns.index(title)) - CELL_PADDING
        for text in texts:
            assert fm.elidedText(text, Qt.TextElideMode.ElideLeft, room) == text, (title, text)


def test_iou_range_in_the_filter_bar_lists_what_the_cli_lists(
    session: Session, qtbot: object, demo_project: Path
) -> None:
    """The bar's IoU range filters the table like `labelfix suspects --min-iou --max-iou`, is
    kept in the project's review state, and "Any IoU" lifts it."""
    from labelfix.desktop.session import filter_from_json, filter_to_json
    from labelfix.desktop.widgets import FilterBar

    bar = FilterBar(session)
    qtbot.addWidget(bar)
    bar.min_conf.setValue(0.0)
    bar.per_object.setChecked(False)  # every suspect, as the CLI's JSON lists them
    bar.status.setCurrentIndex(1)  # all statuses
    everything = session.row_count()
    bar.iou.low.setValue(0.5)
    bar.iou.high.setValue(0.6)
    assert (session.filter.min_iou, session.filter.max_iou) == (0.5, 0.6)
    assert bar.iou.text() == "IoU 0.50–0.60"
    listed = model_records(session)
    assert 0 < len(listed) < everything
    assert all(0.5 <= r["iou"] <= 0.6 for r in listed if r["iou"] is not None)
    cli = cli_suspects(demo_project, "--min-iou", "0.5", "--max-iou", "0.6")
    assert [(r["kind"], r["image_id"], r["score"]) for r in listed] == [
        (r["kind"], r["image_id"], r["score"]) for r in cli
    ]
    assert filter_from_json(filter_to_json(session.filter)) == session.filter
    bar.iou.menu().actions()[-1].trigger()  # "Any IoU"
    assert (session.filter.min_iou, session.filter.max_iou) == (0.0, 1.0)
    assert session.row_count() == everything and bar.iou.text() == "IoU: any"
