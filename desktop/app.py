"""``labelfix`` (no command), ``labelfix open X.labelfix`` and ``labelfix demo``: the desktop app.

``--screenshot OUT.png [--select N] [--grid]`` renders the window with row N of the project's
list selected and its image loaded (with ``--grid``: the triage grid, its crops made), then
exits; ``--smoke`` (on every desktop command, the bare one
included) starts the window as usual, says what it shows once it is painted, and exits;
``--theme auto|light|dark`` picks the palette (auto follows the system).

Whatever stops the app from starting is one sentence on stderr (and in a message box when a
window could show one), never a traceback or Qt's abort: no display, missing system libraries
for Qt's xcb plugin, a project that is not a LabelFix project, is from a newer LabelFix, is
read-only or is gone."""

from __future__ import annotations

import argparse
import ctypes
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from labelfix.core.store.lock import LockHolder

# Libraries Qt's xcb platform plugin loads that the PySide6 wheel does not bundle (from
# `ldd libqxcb.so libQt6XcbQpa.so.6`), and the Debian package of each.
XCB_LIBS = {
    "libxcb.so.1": "libxcb1",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-util.so.1": "libxcb-util1",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libdbus-1.so.3": "libdbus-1-3",
    "libglib-2.0.so.0": "libglib2.0-0",
}
NO_WINDOW_PLATFORMS = ("offscreen", "minimal")  # no one sees a message box there
TIMEOUT_S = 20.0


def _add_window_options(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """The options every desktop command takes (the bare command included). On the
    subcommands they default to SUPPRESS, so ``labelfix --theme dark open X`` keeps its theme."""

    def default(value: object) -> object:
        return value if top else argparse.SUPPRESS

    parser.add_argument(
        "--theme",
        choices=("auto", "light", "dark"),
        default=default(None),
        help="colours: follow the system (auto, the default) or pin light or dark",
    )
    parser.add_argument(
        "--screenshot",
        metavar="OUT.png",
        default=default(None),
        help="render the window to a PNG and exit",
    )
    parser.add_argument(
        "--select",
        type=int,
        default=default(0),
        metavar="N",
        help="row to select for --screenshot (0-based)",
    )
    parser.add_argument(
        "--size", default=default("1400x900"), help="window size for --screenshot (WxH)"
    )
    parser.add_argument(
        "--grid",
        action="store_true",
        default=default(False),
        help="with --screenshot: show the triage grid instead of the canvas",
    )
    parser.add_argument(
        "--reviewer",
        metavar="NAME",
        default=default(None),
        help="who the change log names (default: $LABELFIX_REVIEWER, settings, your user name)",
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        default=default(False),
        help="start as usual, show the window once it is painted, say what it shows, exit",
    )


def build_parser() -> argparse.ArgumentParser:
    """The desktop commands' arguments: none (the start page), ``open X``, ``demo``."""
    from labelfix import __version__

    version = f"labelfix {__version__}"
    parser = argparse.ArgumentParser(
        prog="labelfix",
        description="LabelFix desktop app; without a command it opens the start page",
    )
    parser.add_argument("--version", action="version", version=version)
    _add_window_options(parser, top=True)
    sub = parser.add_subparsers(dest="command")
    for name, help_ in (("open", "open a project"), ("demo", "open the bundled demo project")):
        p = sub.add_parser(name, help=help_, description=help_)
        p.add_argument("--version", action="version", version=version)
        if name == "open":
            p.add_argument(
                "project", help="X.labelfix, or a team project: postgresql://HOST/DB?project=NAME"
            )
            p.add_argument(
                "--images",
                metavar="DIR",
                help="a team project's image folder on this machine (remembered per project)",
            )
        _add_window_options(p, top=False)
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
    missing = missing_xcb_packages()
    if missing:
        if headless:
            os.environ["QT_QPA_PLATFORM"] = "offscreen"
            return None
        return (
            "Qt cannot open a window because system libraries are missing; on Debian/Ubuntu "
            f"install them with `sudo apt-get install {' '.join(missing)}`"
        )
    display = os.environ["DISPLAY"]
    if not display_reachable(display):
        if headless:
            os.environ["QT_QPA_PLATFORM"] = "offscreen"
            return None
        return (
            f"cannot connect to the X display {display!r} (is the desktop session running and "
            "DISPLAY right?); run LabelFix in a desktop session or under `xvfb-run -a labelfix ...`"
        )
    return None


def missing_xcb_packages() -> list[str]:
    """The Debian packages of the xcb plugin's system libraries that cannot be loaded."""
    missing = []
    for lib, package in XCB_LIBS.items():
        try:
            ctypes.CDLL(lib)
        except OSError:
            missing.append(package)
    return missing


def display_reachable(display: str) -> bool:
    """Whether an X server answers on ``display`` (checked with libxcb, as Qt would connect).

    Only local displays (``:N``, ``unix:N``, ``localhost:N`` as with ssh -X) are tried; a
    remote host could take minutes to time out, so it is assumed reachable."""
    host = display.rsplit(":", 1)[0]
    if host not in ("", "unix", "localhost", "127.0.0.1"):
        return True
    try:
        xcb = ctypes.CDLL("libxcb.so.1")
    except OSError:
        return True  # reported as a missing library instead
    xcb.xcb_connect.restype = ctypes.c_void_p
    xcb.xcb_connect.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
    xcb.xcb_connection_has_error.argtypes = [ctypes.c_void_p]
    xcb.xcb_connection_has_error.restype = ctypes.c_int
    xcb.xcb_disconnect.argtypes = [ctypes.c_void_p]
    conn = xcb.xcb_connect(display.encode(), None)
    try:
        return bool(conn) and xcb.xcb_connection_has_error(conn) == 0
    finally:
        if conn:
            xcb.xcb_disconnect(conn)


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


def use_reviewer(name: str | None) -> None:
    """``--reviewer NAME``: every project this process opens names NAME in its change log.
    It outranks ``$LABELFIX_REVIEWER``, so it takes that variable's place for this process."""
    if name and name.strip():
        from labelfix.core.settings import REVIEWER_ENV

        os.environ[REVIEWER_ENV] = name.strip()


def main(argv: list[str]) -> int:
    """Run the desktop app; returns the exit code."""
    args = build_parser().parse_args(argv)
    use_reviewer(args.reviewer)
    headless = bool(args.screenshot or args.smoke)
    problem = platform_problem(headless)
    if problem:
        print(f"labelfix: {problem}", file=sys.stderr)
        return 2

    from PySide6.QtCore import QSettings, Qt, qInstallMessageHandler
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication, QMessageBox

    from labelfix.core.project import ProjectError

    from . import errors, theme

    qInstallMessageHandler(_quiet_qt_messages)
    app = QApplication.instance()
    if app is None:
        # Qt 6 scales by the screen's factor; PassThrough keeps fractional factors (1.25, 1.5)
        # instead of rounding them, so text and images are neither blurry nor oversized.
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
            Qt.HighDpiScaleFactorRoundingPolicy.PassThrough
        )
        app = QApplication([sys.argv[0] if sys.argv else "labelfix"])
    _started()
    app.setOrganizationName("LabelFix")
    app.setApplicationName("labelfix")
    app.setDesktopFileName("labelfix")  # lets Wayland match windows to packaging/labelfix.desktop
    _set_icon(app)
    theme.load_style_sheet(app)
    theme.install(app, args.theme or _saved_theme(QSettings()))

    from .demo import ensure_demo_project
    from .main_window import MainWindow

    path: Path | str | None = None
    if args.command == "open" and args.project.startswith(("postgresql://", "postgres://")):
        path = args.project  # a team project: opened (and any problem said) by the window
        if args.images:
            from labelfix.core.project import remember_team_images

            try:
                remember_team_images(path, args.images)
            except ProjectError as exc:
                print(f"labelfix: {exc}", file=sys.stderr)
                return 2
    elif args.command == "open":
        path = Path(args.project)
        trouble = errors.check_project(path)
        if trouble is not None:
            print(f"labelfix: {trouble.sentence}", file=sys.stderr)
            if headless or QApplication.platformName() in NO_WINDOW_PLATFORMS:
                return 2
            QMessageBox.warning(None, "LabelFix", trouble.sentence)
            path = None  # show the start page instead
    elif args.command == "demo":
        try:
            path = ensure_demo_project(progress=_stderr_progress("preparing the demo project"))
        except (ProjectError, OSError) as exc:
            print(f"labelfix: cannot build the demo project: {exc}", file=sys.stderr)
            return 1
    tip = args.command == "demo"
    if args.screenshot:
        return render(path, Path(args.screenshot), args.select, args.size, tip=tip, grid=args.grid)
    if args.smoke:
        return smoke(path, tip=tip)
    window = MainWindow()
    window.restore_geometry()
    if path is not None and not window.open_path(path, tip=tip):
        print(f"labelfix: cannot open {path}", file=sys.stderr)
    window.show()
    return app.exec()


def _say_open_elsewhere(held: LockHolder, path: Path | str) -> str:
    """--smoke and --screenshot only look: open a project another app has open read-only (its
    lock stays that app's), and say so."""
    from .dialogs import READ_ONLY

    print(f"labelfix: note: {held.sentence(path)}; opened read-only", file=sys.stderr)
    return READ_ONLY


def smoke(path: Path | None, *, tip: bool = False) -> int:
    """Start the window as a plain start would (geometry, project, show), wait until it is
    painted (and the project's first image is shown), print one line saying what it shows on
    stderr, close it and return 0. Settings go to a temporary file, never the user's."""
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from .main_window import MainWindow

    app = QApplication.instance()
    with tempfile.TemporaryDirectory() as tmp:
        settings = QSettings(str(Path(tmp) / "settings.ini"), QSettings.Format.IniFormat)
        window = MainWindow(settings)
        window.open_locked = _say_open_elsewhere
        window.restore_geometry()
        if path is not None and not window.open_path(path, tip=tip):
            print(
                f"labelfix: cannot open {path}: {window.statusBar().currentMessage()}",
                file=sys.stderr,
            )
            _close(window)
            return 2
        window.show()
        _wait_until_shown(window)
        painted = not window.grab().isNull()
        print(f"labelfix: smoke: {_what_is_shown(window)}", file=sys.stderr)
        _close(window)
        app.processEvents()
    return 0 if painted else 1


def _what_is_shown(window: object) -> str:
    """One phrase saying what the window shows (for --smoke)."""
    session = window.session
    if session is None:
        return f"the start page is shown ({window.width()}x{window.height()})"
    current = session.current()
    image = "" if current is None else f", image {current['file_name']}"
    return (
        f"{session.title} is shown with {session.row_count()} suspects listed{image} "
        f"({window.width()}x{window.height()})"
    )


def _wait_until_shown(window: object) -> None:
    """Process events until the window is exposed and the current suspect's image is on the
    canvas (at most TIMEOUT_S; a slow image is reported and the window used as it is)."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    deadline = time.monotonic() + TIMEOUT_S
    while not window.isVisible() and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.005)
    current = window.session.current() if window.session else None
    while current is not None and window.canvas.shown_image_id != current["image_id"]:
        app.processEvents()
        if time.monotonic() > deadline:
            print("labelfix: the image did not load in time; rendering without it", file=sys.stderr)
            break
        time.sleep(0.005)
    for _ in range(5):
        app.processEvents()


def _wait_for_crops(window: object) -> None:
    """Process events until every crop on the grid's screen is made (at most TIMEOUT_S)."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    grid = window.grid
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        app.processEvents()
        keys = [grid.session.index.key(int(grid.session.positions[r])) for r in grid.visible_rows()]
        if all(grid.cache.get(k) is not None for k in keys):
            break
        time.sleep(0.01)
    else:
        print(
            "labelfix: the grid's crops did not load in time; rendering without them",
            file=sys.stderr,
        )
    for _ in range(5):
        app.processEvents()


def _close(window: object) -> None:
    """Close a window started headless and wait for its background work."""
    from PySide6.QtCore import QThreadPool
    from PySide6.QtWidgets import QApplication

    from . import workers

    window.ask_on_close = False
    window.close()
    workers.cancel_all()
    QThreadPool.globalInstance().waitForDone()
    window.deleteLater()
    QApplication.instance().processEvents()


def _saved_theme(settings: object) -> str:
    """The theme stored in QSettings ``appearance/theme`` (auto when unset or unknown)."""
    from . import theme

    value = str(settings.value(theme.SETTINGS_KEY, "auto") or "auto").lower()
    return value if value in theme.THEMES else "auto"


def render(
    path: Path | None,
    out: Path | None,
    select: int,
    size: str,
    *,
    tip: bool = False,
    grid: bool = False,
) -> int:
    """Open ``path`` in a window of ``size``, select row ``select``, wait for its image (or,
    with ``grid``, for the triage grid's crops on screen), save a PNG."""
    from PySide6.QtCore import QSettings

    from .main_window import MainWindow

    with tempfile.TemporaryDirectory() as tmp:
        settings = QSettings(
            str(Path(tmp) / "settings.ini"), QSettings.Format.IniFormat
        )  # leave the user's alone
        window = MainWindow(settings)
        window.open_locked = _say_open_elsewhere
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
        _wait_until_shown(window)
        if grid and window.session is not None:
            window.show_grid(True)
            _wait_for_crops(window)
        code = 0
        if out is not None:
            out.parent.mkdir(parents=True, exist_ok=True)
            if not window.grab().save(str(out)):
                print(f"labelfix: cannot write {out}", file=sys.stderr)
                code = 1
            else:
                print(f"wrote {out} ({window.width()}x{window.height()})", file=sys.stderr)
        _close(window)
    return code


QUIET = ("propagateSizeHints",)  # harmless platform-plugin chatter
_held: list[str] = []  # platform-plugin messages while Qt starts, printed once it has started
_starting = [True]


def _quiet_qt_messages(mode: object, context: object, message: str) -> None:
    """Qt's messages on stderr, except chatter; a platform plugin that cannot start (Qt would
    print a page and abort) becomes one sentence and exit code 2."""
    from PySide6.QtCore import QtMsgType

    if any(q in message for q in QUIET):
        return
    category = getattr(context, "category", "") or ""
    if mode == QtMsgType.QtFatalMsg and "platform plugin" in message:
        reason = next((m for m in _held if "could not connect" in m.lower()), None)
        reason = reason or next((m for m in _held if "platform plugin" in m), message)
        reason = reason.strip().splitlines()[0].rstrip(".")
        plugin = os.environ.get("QT_QPA_PLATFORM") or "default"
        missing = missing_xcb_packages() if sys.platform == "linux" else []
        fix = (
            f"on Debian/Ubuntu install `sudo apt-get install {' '.join(missing)}`"
            if missing
            else "check QT_QPA_PLATFORM, or run in a desktop session or under `xvfb-run -a labelfix ...`"
        )
        sys.stderr.write(
            f"labelfix: Qt could not start its {plugin!r} display plugin ({reason}); {fix}\n"
        )
        sys.stderr.flush()
        os._exit(2)  # Qt aborts after a fatal message: leave first, with no core dump
    if _starting[0] and category.startswith("qt.qpa"):
        _held.append(message)
        return
    sys.stderr.write(message + "\n")


def _started() -> None:
    """Qt's platform plugin is up: print the messages held while it started."""
    _starting[0] = False
    for message in _held:
        sys.stderr.write(message + "\n")
    _held.clear()
