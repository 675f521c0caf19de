"""Render the canvas's states into PNGs to look at (the review window, real keys where there
are keys): the first suspect, Z, O, the three forms of a fix (V), an accept, a missing image, the
box tool; with ``--project X --key K`` also one suspect of another project.

Run under a real X server:
    xvfb-run -a -s "-screen 0 1920x1080x24" python tools/screenshot_canvas.py OUT_DIR
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

SIZE = (1632, 918)  # a first start on a 1920x1080 screen (85%)


def _window(project: Path):  # noqa: ANN202 - MainWindow, imported late
    from labelfix.desktop.main_window import MainWindow

    window = MainWindow()
    window.resize(*SIZE)
    if not window.open_path(project):
        raise SystemExit(f"cannot open {project}")
    window.show()
    QTest.qWaitForWindowExposed(window)
    window.activateWindow()  # the keys' shortcuts need an active window
    for _ in range(40):
        if QApplication.activeWindow() is window:
            break
        QTest.qWait(25)
    return window


def _settle(window: object, ms: int = 400) -> None:
    """Let the image load and the deferred refreshes run."""
    for _ in range(ms // 25):
        QTest.qWait(25)
        if window.canvas.shown_image_id == window.canvas.image_id:
            break
    QTest.qWait(150)


def _shot(window: object, out: Path, name: str) -> None:
    path = out / f"{name}.png"
    window.grab().save(str(path))
    print(f"wrote {path}", file=sys.stderr)


def _key(window: object, key: Qt.Key) -> None:
    QTest.keyClick(window, key)
    QTest.qWait(60)


def _select(window: object, kinds: set[str], test) -> bool:  # noqa: ANN001
    from labelfix.core.suspects import SuspectFilter

    s = window.session
    s.set_filter(
        SuspectFilter(min_confidence=0.2, kinds=frozenset(kinds), statuses=frozenset({"open"}))
    )
    for row in range(s.row_count()):
        if test(s.suspect_at(row)):
            s.select_row(row)
            _settle(window)
            return True
    return False


def demo_states(project: Path, out: Path) -> None:
    """The demo project's states."""
    from labelfix.core.review import fix_variants

    window = _window(project)
    _settle(window)
    _shot(window, out, "01_first_suspect")
    _key(window, Qt.Key.Key_Z)
    _shot(window, out, "02_zoom_to_object")
    _key(window, Qt.Key.Key_Z)
    _key(window, Qt.Key.Key_O)
    _shot(window, out, "03_other_predictions_with_tags")
    _key(window, Qt.Key.Key_O)
    s = window.session
    if _select(
        window,
        {"inaccurate_label"},
        lambda r: (
            bool(fix_variants(s.store, dict(r, set_id=s.set_id)))
            and r["file_name"].endswith("386912.jpg")
        ),
    ):
        for i, form in enumerate(("stretch", "rectangle", "move")):
            _shot(window, out, f"04_fix_form_{i + 1}_{form}")
            _key(window, Qt.Key.Key_V)
    if _select(window, {"wrong_class"}, lambda r: True):
        _shot(window, out, "05_wrong_class_ghost")
        _key(window, Qt.Key.Key_A)
        _settle(window)
        _shot(window, out, "06_after_accept")
    _key(window, Qt.Key.Key_W)
    _shot(window, out, "07_box_tool_hint")
    window.ask_on_close = False
    window.close()


def missing_image(project: Path, out: Path) -> None:
    """A copy of the project whose images are gone, on a suspect framed off the image centre."""
    from labelfix.core.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "missing.labelfix"
        shutil.copy(project, copy)
        with Store.open(copy) as store, store.atomic():
            store.set_meta("images_root", tmp)
        window = _window(copy)
        s = window.session
        for row in range(min(s.row_count(), 40)):
            s.select_row(row)
            _settle(window)
            centre = window.canvas.review_scene.sceneRect().center()
            if not window.canvas.visible_scene_rect().contains(centre):
                break
        _shot(window, out, "08_missing_image")
        window.ask_on_close = False
        window.close()


def one_suspect(project: Path, key: str, out: Path, name: str) -> None:
    """One suspect of another project (e.g. real81's image 590)."""
    from labelfix.core.suspects import SuspectFilter

    window = _window(project)
    s = window.session
    s.set_filter(SuspectFilter(min_confidence=0.0, statuses=None))
    s.select_key(key)
    _settle(window)
    _shot(window, out, name)
    window.ask_on_close = False
    window.close()


def main() -> int:
    """Render the states into the folder given."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--project", type=Path, help="another project to show one suspect of")
    parser.add_argument("--key", help="that suspect's key, e.g. wrong_class:1898065:2401")
    args = parser.parse_args()
    os.environ.setdefault("LABELFIX_DATA_DIR", tempfile.mkdtemp(prefix="labelfix-shot-"))
    app = QApplication.instance() or QApplication(sys.argv)
    app.setOrganizationName("LabelFixScreenshot")
    from labelfix.desktop.demo import ensure_demo_project

    args.out.mkdir(parents=True, exist_ok=True)
    demo = ensure_demo_project()
    demo_states(demo, args.out)
    missing_image(ensure_demo_project(), args.out)
    if args.project and args.key:
        one_suspect(args.project, args.key, args.out, "09_" + args.key.replace(":", "_"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
