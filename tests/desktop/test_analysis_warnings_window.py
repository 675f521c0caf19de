"""An analysis that could not use something says so in the window: here the image evidence of
score version 8 finds the project's image folder without its images."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from labelfix.core.store import Store


def test_image_files_the_analysis_could_not_read_are_said(
    qtbot: object, demo_project: Path, tmp_path: Path, open_window: Callable[..., object]
) -> None:
    empty = tmp_path / "photos"
    empty.mkdir()
    with Store.open(demo_project) as store, store.atomic():
        store.set_meta("images_root", str(empty))
    window = open_window(demo_project)
    with qtbot.waitSignal(window.analysisFinished, timeout=120_000) as done:
        window.run_analysis()
    assert done.args[0].warnings, "the demo's inaccurate_label suspects need their images"
    qtbot.waitUntil(lambda: "Analysis" in window.badge.sections)
    message = window.badge.text_of_all()
    assert "image file(s) missing" in message and str(empty) in message
    assert not window.statusBar().currentMessage().startswith("Analysis: ")  # counts not hidden
