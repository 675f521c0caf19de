"""A project made in the window says what its import warned about: an image folder holding
none of the images in one sentence, and the predictions' warnings are kept with the labels'."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QPlainTextEdit

from labelfix.core.store import Store
from labelfix.desktop import jobs
from labelfix.desktop.main_window import MainWindow

EXPORTERS = Path(__file__).resolve().parents[1] / "data" / "exporters"


def test_a_wrong_image_folder_is_said_when_the_new_project_opens(
    qtbot: object, tmp_path: Path
) -> None:
    empty = tmp_path / "photos"
    empty.mkdir()
    out = tmp_path / "new.labelfix"
    jobs.import_and_analyze(
        EXPORTERS / "cvat_coco_1_0.json", empty, EXPORTERS / "sahi_predictions.json", out
    )
    with Store.open(out, readonly=True) as store:
        warnings = store.get_meta("warnings")
    assert any("none of the 3 images were found under" in w for w in warnings)
    assert any("a box-only prediction" in w for w in warnings)  # the predictions' warning too
    window = MainWindow()
    qtbot.addWidget(window)
    said: list[str] = []
    window.tell = said.append  # the message box's sentence (no box offscreen)
    window.show()
    qtbot.waitExposed(window)
    assert window.open_new_project(out)
    assert said[0].startswith("Imported with 2 warning(s): none of the 3 images were found under")
    assert "check the folder" in said[0]
    qtbot.wait(50)
    # the warnings stay one click away without hiding the counts (a 20 s status bar message
    # took the counts' place, and then the warnings were gone from the window)
    assert window.counts.isVisible() and not window.statusBar().currentMessage()
    assert window.badge.isVisible() and window.badge.text() == "⚠ 2 warnings"
    listed = window.badge.show_list().findChild(QPlainTextEdit).toPlainText()
    assert "none of the 3 images were found under" in listed and "a box-only prediction" in listed
    window.close_project()
    assert not window.badge.isVisible()
    assert window.open_path(out)  # opened again later: the import's warnings are still there
    assert window.badge.isVisible() and window.badge.count() == 2
    window.close()
