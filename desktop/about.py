"""Help ▸ About LabelFix: version, what it does, the Qt and Python it runs on, the licence,
where it keeps its files and where the demo's data comes from."""

from __future__ import annotations

import html
import platform
from importlib import metadata

import PySide6
from PySide6.QtCore import Qt, QUrl, qVersion
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from labelfix import __version__

from .demo import data_dir, demo_source

WHAT_IT_DOES = (
    "Finds likely label errors in a COCO dataset by comparing its labels with a detector's "
    "predictions, and lets you fix them one key press at a time."
)
DEMO_PROVENANCE = (
    "Demo data: 20 COCO images with their original COCO labels (CC BY 4.0) and a real "
    "MobileNetV3-CenterNet detector's predictions; sources and licences in its"
)


def licence() -> str:
    """The licence LabelFix is distributed under (from the installed package's metadata)."""
    try:
        meta = metadata.metadata("labelfix")
    except metadata.PackageNotFoundError:
        return "MIT"
    return meta.get("License-Expression") or meta.get("License") or "MIT"


def about_rows() -> list[tuple[str, str]]:
    """The About dialog's facts as (label, value) rows, in display order."""
    return [
        ("Version", __version__),
        ("Qt", f"{qVersion()} (PySide6 {PySide6.__version__})"),
        ("Python", f"{platform.python_version()} ({platform.python_implementation()})"),
        ("Licence", licence()),
        ("Data folder", str(data_dir())),
    ]


class AboutDialog(QDialog):
    """The About box."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About LabelFix")
        rows = "".join(
            f"<tr><td style='padding-right:12px'><b>{html.escape(k)}</b></td>"
            f"<td>{html.escape(v)}</td></tr>"
            for k, v in about_rows()
        )
        readme = QUrl.fromLocalFile(str(demo_source() / "README.md")).toString()
        self.text = QLabel(
            f"<h2>LabelFix {html.escape(__version__)}</h2>"
            f"<p>{html.escape(WHAT_IT_DOES)}</p>"
            f"<table>{rows}</table>"
            f"<p>{html.escape(DEMO_PROVENANCE)} "
            f"<a href='{html.escape(readme)}'>README</a>.</p>"
        )
        self.text.setTextFormat(Qt.TextFormat.RichText)
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.LinksAccessibleByMouse
        )
        self.text.setOpenExternalLinks(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        folder = buttons.addButton("Open data folder", QDialogButtonBox.ButtonRole.ActionRole)
        folder.clicked.connect(self.open_data_folder)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(buttons)
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 84)

    def open_data_folder(self) -> None:
        """Show the data folder in the file manager (created if needed)."""
        folder = data_dir()
        folder.mkdir(parents=True, exist_ok=True)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))


def show_about(parent: QWidget | None = None) -> None:
    """Show the About dialog (modal)."""
    AboutDialog(parent).exec()
