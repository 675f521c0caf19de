"""Light and dark palettes on the Fusion style, following the system's colour scheme.

``install(app, "auto")`` applies the palette for the system's current scheme
(``QStyleHints.colorScheme()``, Qt 6.5+) and re-applies it when the system switches
(``colorSchemeChanged``); ``"light"`` or ``"dark"`` pin one. ``resources/style.qss`` uses
palette roles only, so it reads well in both."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

THEMES = ("auto", "light", "dark")
SETTINGS_KEY = "appearance/theme"  # optional QSettings override: auto | light | dark

Scheme = Qt.ColorScheme
Role = QPalette.ColorRole
Group = QPalette.ColorGroup

# Dark colours, chosen for contrast with each other (text on base >= 12:1, on window >= 10:1).
DARK = {
    Role.Window: "#2b2b2e",
    Role.WindowText: "#e8e8ea",
    Role.Base: "#1e1e20",
    Role.AlternateBase: "#27272a",
    Role.ToolTipBase: "#4a3f16",  # the tip bar and tool tips: a dark amber
    Role.ToolTipText: "#f5e9b8",
    Role.PlaceholderText: "#8d8d93",
    Role.Text: "#e8e8ea",
    Role.Button: "#35353a",
    Role.ButtonText: "#e8e8ea",
    Role.BrightText: "#ff6b6b",
    Role.Light: "#4a4a50",
    Role.Midlight: "#3c3c41",
    Role.Mid: "#2f2f33",
    Role.Dark: "#18181a",
    Role.Shadow: "#000000",
    Role.Highlight: "#3d7bd9",
    Role.HighlightedText: "#ffffff",
    Role.Link: "#7fb3ff",
    Role.LinkVisited: "#c49bff",
}
DARK_DISABLED = {
    Role.WindowText: "#7a7a80",
    Role.Text: "#7a7a80",
    Role.ButtonText: "#7a7a80",
    Role.Highlight: "#4a4a50",
    Role.HighlightedText: "#b0b0b5",
}

_follower: QObject | None = None


def system_scheme() -> Scheme:
    """The system's colour scheme (Light when the platform does not say)."""
    app = QGuiApplication.instance()
    scheme = app.styleHints().colorScheme() if app is not None else Scheme.Unknown
    return Scheme.Dark if scheme == Scheme.Dark else Scheme.Light


def dark_palette() -> QPalette:
    """LabelFix's dark palette."""
    palette = QPalette()
    for role, colour in DARK.items():
        palette.setColor(role, QColor(colour))
    if hasattr(Role, "Accent"):  # Qt 6.6+
        palette.setColor(Role.Accent, QColor(DARK[Role.Highlight]))
    for role, colour in DARK_DISABLED.items():
        palette.setColor(Group.Disabled, role, QColor(colour))
    return palette


def light_palette(app: QApplication) -> QPalette:
    """The Fusion style's own light palette, with the tip-bar yellow."""
    palette = app.style().standardPalette()
    palette.setColor(Role.ToolTipBase, QColor("#fff4c2"))
    palette.setColor(Role.ToolTipText, QColor("#3a3000"))
    return palette


def to_scheme(theme: str | Scheme | None) -> Scheme:
    """``"auto"``/None -> the system's scheme; ``"light"``/``"dark"`` or a Qt.ColorScheme as given."""
    if isinstance(theme, Scheme):
        return system_scheme() if theme == Scheme.Unknown else theme
    if theme in (None, "", "auto"):
        return system_scheme()
    if theme == "dark":
        return Scheme.Dark
    if theme == "light":
        return Scheme.Light
    raise ValueError(f"unknown theme {theme!r}; expected one of {', '.join(THEMES)}")


def apply(app: QApplication, theme: str | Scheme | None = "auto") -> Scheme:
    """Put the Fusion style and the palette for ``theme`` on ``app``; returns the scheme used."""
    scheme = to_scheme(theme)
    if not app.property("labelfixFusion"):  # style().name() is "" under a style sheet
        app.setStyle("Fusion")
        app.setProperty("labelfixFusion", True)
    app.setPalette(dark_palette() if scheme == Scheme.Dark else light_palette(app))
    app.setProperty("labelfixScheme", "dark" if scheme == Scheme.Dark else "light")
    sheet = app.styleSheet()
    if sheet:  # palette(...) in the style sheet is resolved when set: set it again
        app.setStyleSheet("")
        app.setStyleSheet(sheet)
    return scheme


def current(app: QApplication) -> Scheme:
    """The scheme :func:`apply` last put on ``app`` (by its window colour otherwise)."""
    marked = app.property("labelfixScheme")
    if marked in ("dark", "light"):
        return Scheme.Dark if marked == "dark" else Scheme.Light
    return Scheme.Dark if app.palette().color(Role.Window).lightness() < 128 else Scheme.Light


class _Follower(QObject):
    """Re-applies the palette when the system's colour scheme changes (deleted to stop)."""

    def __init__(self, app: QApplication) -> None:
        super().__init__(app)
        self.setObjectName("labelfixThemeFollower")
        self.app = app
        app.styleHints().colorSchemeChanged.connect(self.changed)

    def changed(self, scheme: Scheme) -> None:
        """The system switched between light and dark."""
        apply(self.app, scheme)


def install(app: QApplication, theme: str = "auto") -> Scheme:
    """Apply ``theme``; with ``"auto"`` keep following the system when its scheme changes."""
    global _follower
    scheme = apply(app, theme)
    if _follower is not None:
        try:
            _follower.app.styleHints().colorSchemeChanged.disconnect(_follower.changed)
            _follower.deleteLater()
        except (RuntimeError, TypeError):  # its application is gone already
            pass
        _follower = None
    if theme in (None, "", "auto"):
        _follower = _Follower(app)
    return scheme


def load_style_sheet(app: QApplication) -> None:
    """Set resources/style.qss on ``app`` (silently nothing when it is missing)."""
    try:
        import labelfix.resources

        qss = Path(labelfix.resources.__file__).resolve().parent / "style.qss"
        if qss.exists():
            app.setStyleSheet(qss.read_text(encoding="utf-8"))
    except OSError:
        pass
