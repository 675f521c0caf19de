"""The shortcut sheet (`?`) and the README's keyboard table come from the one actions table:
one heading per group, the quick-class keys shown as 1 … 9, every description whole."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from PySide6.QtCore import QSettings

from labelfix.desktop.actions import ACTIONS, shortcut_rows, shortcut_table
from labelfix.desktop.dialogs import ShortcutSheet

ROOT = Path(__file__).resolve().parents[2]


def keyboard_table() -> str:
    spec = importlib.util.spec_from_file_location(
        "keyboard_table", ROOT / "tools" / "keyboard_table.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.table()


def test_each_group_is_one_block_in_the_order_groups_first_appear(tmp_path: Path) -> None:
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    groups = [g for g, _t, _k in shortcut_rows(settings)]
    blocks = [g for i, g in enumerate(groups) if i == 0 or groups[i - 1] != g]
    assert blocks == list(dict.fromkeys(spec.group for spec in ACTIONS))


def test_the_quick_class_keys_show_as_a_range(tmp_path: Path) -> None:
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    rows = {title: keys for _g, title, keys in shortcut_rows(settings)}
    assert rows["Set the label's class to one of the 9 most frequent classes"] == "1 … 9"
    assert "—" not in {keys for title, keys in rows.items() if "class" in title}
    nudge = rows["Move the selected label by 1 px (with Shift: 10 px)"]
    assert nudge.count(",") == 3


def test_user_overrides_show_on_the_sheet(tmp_path: Path) -> None:
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    settings.setValue("shortcuts/accept", "Y")
    rows = {title: keys for _g, title, keys in shortcut_rows(settings)}
    assert rows["Accept the fix"] == "Y"
    defaults = {title: keys for _g, title, keys in shortcut_table()}
    assert defaults["Accept the fix"] == ("A",)


def test_the_sheet_is_wide_enough_for_every_row(qtbot: object) -> None:
    sheet = ShortcutSheet()
    qtbot.addWidget(sheet)
    sheet.show()
    qtbot.waitExposed(sheet)
    assert sheet.area.viewport().width() >= sheet.table.sizeHint().width()
    assert sheet.area.horizontalScrollBar().maximum() == 0
    text = sheet.table.text()
    for group in dict.fromkeys(spec.group for spec in ACTIONS):
        assert text.count(f"<b>{group}</b>") == 1, group
    assert "1 … 9" in text


def test_the_readme_table_is_the_tool_s_output() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert keyboard_table() in readme, "run `python tools/keyboard_table.py` and paste the table"
