"""The inspector in a short window: its rows keep their height (the dock scrolls) instead of
being squeezed on top of each other when a hint runs over several lines."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from labelfix.desktop.inspector import IMAGE_ONLY_HINT, Inspector
from labelfix.desktop.main_window import MainWindow


def test_a_long_hint_in_a_short_window_squeezes_no_row(
    open_window: Callable[..., MainWindow], demo_project: Path, qtbot: object
) -> None:
    window = open_window(demo_project, size=(1300, 620))
    window.session.select_row(0)
    inspector = window.findChild(Inspector)
    qtbot.waitUntil(lambda: inspector.title.text() != "No suspect selected")
    inspector.hint.setText(IMAGE_ONLY_HINT)  # the longest hint: three lines in a narrow dock
    qtbot.wait(50)
    fields = [*inspector.fields.values(), inspector.hint, *inspector.label_fields.values()]
    for field in fields:
        assert field.height() >= field.minimumSizeHint().height(), field.text()
    tops = [f.mapTo(inspector, f.rect().topLeft()).y() for f in inspector.fields.values()]
    bottoms = [f.mapTo(inspector, f.rect().bottomLeft()).y() for f in inspector.fields.values()]
    assert all(b < t for b, t in zip(bottoms, tops[1:], strict=False))
