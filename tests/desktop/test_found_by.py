"""The inspector's "Found by" (one prediction set a line with its score) in a narrow inspector:
at 1024x700 "demo detector: score 0.78 · conf. 0.33" wrapped onto three lines, a long set name
broke mid-word ("centernet-" / "mobilenetv3-coco80-" / "run1: score 0.71 ·" / "conf. 0.33")."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from labelfix.desktop.main_window import MainWindow
from tests.desktop.demo_copies import private_copy, with_shifted_set

LONG = "centernet-mobilenetv3-coco80-run1"


@pytest.fixture(scope="module")
def built_long_name(built_demo: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo with a second prediction set of a long name (the demo's boxes shifted by 5%
    of their width), analysed with both sets."""
    folder = tmp_path_factory.mktemp("long_name")
    return with_shifted_set(built_demo, folder, LONG, square_scores=False)


@pytest.fixture
def long_name_project(built_long_name: Path, tmp_path: Path) -> Path:
    return private_copy(built_long_name, tmp_path / "long.labelfix")


def settle(qtbot: object) -> None:
    qtbot.wait(60)
    QApplication.processEvents()


def show_two_sets(window: MainWindow, qtbot: object) -> object:
    s = window.session
    both = np.flatnonzero(s.index.support_counts() == 2)
    s.set_filter(s.filter.with_(min_score=0.0, per_object=False))
    s.select_id(int(s.index.ids[both[0]]))
    settle(qtbot)
    return window.docks["inspector"].widget().fields["sets"]


def lines_of(field: object) -> list[str]:
    return re.split(r"<br>|\n", field.text())


def check_lines(window: MainWindow, field: object, per_set: int) -> None:
    """At most ``per_set`` lines a set, none clipped, names whole or elided (never broken
    mid-word), numbers whole (under the name when narrow); the tooltip has the whole lines."""
    found = window.session.current()["supported_by"]
    lines = lines_of(field)
    fm = field.fontMetrics()
    assert field.height() <= len(lines) * fm.lineSpacing() + 8
    for line in lines:
        assert fm.horizontalAdvance(line) <= field.contentsRect().width()  # not clipped
    groups: list[tuple[str, list[str], int]] = []  # name, its numbers, its lines
    for line in lines:
        if line.startswith(" "):  # numbers under their name
            name, numbers, n = groups[-1]
            groups[-1] = (name, [*numbers, line.strip()], n + 1)
        else:
            name, _, numbers = line.partition(": ")
            groups.append((name, [numbers] if numbers else [], 1))
    assert len(groups) == len(found) == 2, lines
    for (name, parts, n), x in zip(groups, found, strict=True):
        assert n <= per_set, lines
        numbers = " · ".join(parts)
        assert name == x["set"] or (name.endswith("…") and x["set"].startswith(name[:-1]))
        assert numbers.removeprefix("score ") == f"{x['score']:.2f} · conf. {x['confidence']:.2f}"
    tip = field.toolTip()
    for x in found:  # the whole names, for an elided one
        assert f"{x['set']}: score {x['score']:.2f}" in tip


@pytest.mark.parametrize("size", [(1400, 900), (1024, 700)])
def test_found_by_keeps_a_set_to_two_lines_in_a_narrow_inspector(
    open_window: Callable[..., MainWindow],
    long_name_project: Path,
    qtbot: object,
    size: tuple,
) -> None:
    window = open_window(long_name_project, size=size)
    field = show_two_sets(window, qtbot)
    check_lines(window, field, per_set=2)
    dock = window.docks["inspector"]
    window.resizeDocks([dock], [190], Qt.Orientation.Horizontal)  # the splitter dragged narrow
    settle(qtbot)
    assert dock.width() <= 230
    check_lines(window, field, per_set=3)
    inspector = dock.widget()  # nothing clipped at the right (the file name held it wide)
    assert inspector.widget().width() <= inspector.viewport().width()
    image = inspector.fields["image"]
    file_name = window.session.current()["file_name"]
    assert image.toolTip() == file_name
    fm = image.fontMetrics()
    assert fm.horizontalAdvance(image.text()) <= image.contentsRect().width()
    assert image.text() == file_name or image.text().startswith("…")  # its end tells it
    assert any(line.endswith("…") for line in lines_of(field))  # the long name
    window.resizeDocks([dock], [600], Qt.Orientation.Horizontal)  # wide: one line a set
    settle(qtbot)
    check_lines(window, field, per_set=1)
    found = window.session.current()["supported_by"]
    assert lines_of(field)[0].startswith(f"{found[0]['set']}: score")


def test_a_name_elided_beside_its_numbers_keeps_enough_to_tell_it(qapp: object) -> None:
    """ "cent…: score 0.64 · conf. 0.25" told nothing: the name goes on its own line then."""
    from PySide6.QtGui import QFont, QFontMetrics

    from labelfix.desktop.found_by import fit_line

    fm = QFontMetrics(QFont())
    numbers = "score 0.64 · conf. 0.25"
    for keep in range(2, 12):
        width = fm.horizontalAdvance(LONG[:keep] + "…: " + numbers) + 1
        lines = fit_line(LONG, numbers, width, fm)
        name = lines[0].split(": ")[0]
        assert len(name) >= 10, lines
        assert all(fm.horizontalAdvance(line) <= width for line in lines)
