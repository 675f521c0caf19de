"""A project made in the window says what its import warned about: an image folder holding
none of the images in one sentence, and the predictions' warnings are kept with the labels'."""

from __future__ import annotations

from pathlib import Path

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
    assert window.open_new_project(out)
    message = window.statusBar().currentMessage()
    assert message.startswith("Imported with 2 warning(s): none of the 3 images were found under")
    assert "check the folder" in message and "labelfix info" in message
    window.close()
