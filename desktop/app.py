"""``labelfix`` (no command), ``labelfix open X.labelfix`` and ``labelfix demo``: the desktop app.

``--screenshot OUT.png [--select N]`` renders the window with row N of the project's list
selected and its image loaded, then exits; ``labelfix demo --smoke`` renders one frame."""

from __future__ import annotations

import argparse
import ctypes
import os
import sys
import tempfile
import time
from pathlib import Path

# Libraries Qt's xcb platform plugin loads, and the Debian package of each.
XCB_LIBS = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libEGL.so.1": "libegl1",
    "libfontconfig.so.1": "libfontconfig1",
}
TIMEOUT_S = 20.0


def build_parser() -> argparse.ArgumentParser:
    """The desktop commands' arguments."""
    parser = argparse.ArgumentParser(prog="labelfix", description="LabelFix desktop app")
    sub = parser.add_subparsers(dest="command")
    for name, help_ in (("open", "open a project"), ("demo", "open the bundled demo project")):
        p = sub.add_parser(name, help=help_)
        if name == "open":
            p.add_argument("project", help="X.labelfix")
        p.add_argument(
            "--screenshot", metavar="OUT.png", help="render the window to a PNG and exit"
        )
        p.add_argument(
            "--select",
            type=int,
            default=0,
            metavar="N",
            help="row to select for --screenshot (0-based)",
        )
        p.add_argument("--size", default="1400x900", help="window size for --screenshot (WxH)")
        if name == "demo":
            p.add_argument(
                "--smoke", action="store_true", help="open the demo, render one frame, exit"
            )
    return parser


def platform_problem(headless: bool) -> str | None:
    """One sentence when Qt cannot show a window here (instead of Qt's abort), else None."""
    if sys.platform != "linux":
        return None
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    if platform and not platform.startswith("xcb"):
        return None
    if not platform and os.environ.get("WAYLAND_DISPLAY"):
        return None
    if not os.environ.get("DISPLAY"):
        if headless:
            os.environ["QT_QPA_PLATFORM"] = "offscreen"  # rendering a PNG needs no display
            return None
        return (
            "no display found (DISPLAY is not set): run LabelFix in a desktop session or under "
            "`xvfb-run -a labelfix ...`, or set QT_QPA_PLATFORM=offscreen"
        )
    missing = []
    for lib, package in XCB_LIBS.items():
        try:
            ctypes.CDLL(lib)
        except OSError:
            missing.append(package)
    if missing:
        return (
            "Qt cannot open a window because system libraries are missing; on Debian/Ubuntu install them with "
            f"`sudo apt-get install {' '.join(missing)}` (or set QT_QPA_PLATFORM=offscreen for --screenshot)"
        )
    return None


def _stderr_progress(label: str):  # noqa: ANN202 - a tiny closure
    def report(done: int, total: int) -> None:
        sys.stderr.write(f"\r{label} {100 * done // max(total, 1):3d}%")
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return report


def _set_icon(app: object) -> None:
    """The app icon from resources/icons (every PNG size the packaging renders)."""
    from PySide6.QtGui import QIcon

    import labelfix.resources

    icons = Path(labelfix.resources.__file__).resolve().parent / "icons"
    icon = QIcon()
    for png in sorted(icons.glob("labelfix-*.png")):
        icon.addFile(str(png))
    if not icon.isNull():
        app.setWindowIcon(icon)


def main(argv: list[str]) -> int:
    """Run the desktop app; returns the exit code."""
    args = build_parser().parse_args(argv)
    headless = bool(getattr(args, "screenshot", None) or getattr(args, "smoke", False))
    problem = platform_problem(headless)
    if problem:
        print(f"labelfix: {problem}", file=sys.stderr)
        return 2

    from PySide6.QtCore import qInstallMessageHandler
    from PySide6.QtWidgets import QApplication

    from labelfix.core.store import ProjectError

    qInstallMessageHandler(_quiet_qt_messages)
    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "labelfix"])
    app.setOrganizationName("LabelFix")
    app.setApplicationName("labelfix")
    app.setDesktopFileName("labelfix")  # lets Wayland match windows to packaging/labelfix.desktop
    _set_icon(app)
    app.setStyle("Fusion")
    _load_style(app)

    from .demo import ensure_demo_project
    from .main_window import MainWindow

    path: Path | None = None
    if args.command == "open":
        path = Path(args.project)
    elif args.command == "demo":
        try:
            path = ensure_demo_project(progress=_stderr_progress("preparing the demo project"))
        except (ProjectError, OSError) as exc:
            print(f"labelfix: cannot build the demo project: {exc}", file=sys.stderr)
            return 1
    if headless:
        out = Path(args.screenshot) if args.screenshot else None
        return render(path, out, args.select, args.size, tip=args.command == "demo")
    window = MainWindow()
    window.restore_geometry()
    if path is not None and not window.open_path(path, tip=args.command == "demo"):
        print(f"labelfix: cannot open {path}", file=sys.stderr)
    window.show()
    return app.exec()


def render(
    path: Path | None, out: Path | None, select: int, size: str, *, tip: bool = False
) -> int:
    """Open ``path`` in a window of ``size``, select row ``select``, wait for its image, save a PNG."""
    from PySide6.QtCore import QSettings, QThreadPool
    from PySide6.QtWidgets import QApplication

    from . import workers
    from .main_window import MainWindow

    app = QApplication.instance()
    with tempfile.TemporaryDirectory() as tmp:
        settings = QSettings(
            str(Path(tmp) / "settings.ini"), QSettings.Format.IniFormat
        )  # leave the user's alone
        window = MainWindow(settings)
        try:
            width, height = (int(v) for v in size.lower().split("x"))
        except ValueError:
            print(
                f"labelfix: --size {size!r}: expected WIDTHxHEIGHT, e.g. 1400x900", file=sys.stderr
            )
            return 2
        window.resize(width, height)
        if path is not None:
            if not window.open_path(path, tip=tip):
                print(
                    f"labelfix: cannot open {path}: {window.statusBar().currentMessage()}",
                    file=sys.stderr,
                )
                return 2
            session = window.session
            if session.row_count() == 0:
                print(
                    "labelfix: the project lists no suspects (is it analysed?); rendering anyway",
                    file=sys.stderr,
                )
            elif not 0 <= select < session.row_count():
                print(
                    f"labelfix: --select {select}: the list has {session.row_count()} rows",
                    file=sys.stderr,
                )
                return 2
            else:
                session.select_row(select)
        window.show()
        deadline = time.monotonic() + TIMEOUT_S
        current = window.session.current() if window.session else None
        while current is not None and window.canvas.shown_image_id != current["image_id"]:
            app.processEvents()
            if time.monotonic() > deadline:
                print(
                    "labelfix: the image did not load in time; rendering without it",
                    file=sys.stderr,
                )
                break
            time.sleep(0.005)
        for _ in range(5):
            app.processEvents()
        code = 0
        if out is not None:
            out.parent.mkdir(parents=True, exist_ok=True)
            if not window.grab().save(str(out)):
                print(f"labelfix: cannot write {out}", file=sys.stderr)
                code = 1
            else:
                print(f"wrote {out} ({window.width()}x{window.height()})", file=sys.stderr)
        window.close()
        workers.cancel_all()
        QThreadPool.globalInstance().waitForDone()
        window.deleteLater()
        app.processEvents()
    return code


QUIET = ("propagateSizeHints",)  # harmless platform-plugin chatter


def _quiet_qt_messages(mode: object, context: object, message: str) -> None:
    if not any(q in message for q in QUIET):
        sys.stderr.write(message + "\n")


def _load_style(app: object) -> None:
    try:
        import labelfix.resources

        qss = Path(labelfix.resources.__file__).resolve().parent / "style.qss"
        if qss.exists():
            app.setStyleSheet(qss.read_text(encoding="utf-8"))
    except OSError:
        pass
