"""Print the README's keyboard table from the one actions table (desktop/actions.py): the
same rows, in the same order, as the shortcut sheet (`?`) shows with the default keys."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from labelfix.desktop.actions import QUICK_CLASS_KEYS, shortcut_table  # noqa: E402


def table() -> str:
    """The Markdown table: group, keys, action."""
    lines = ["| group | keys | action |", "|---|---|---|"]
    for group, title, keys in shortcut_table():
        if keys == (QUICK_CLASS_KEYS,):
            shown = "`1` … `9`"
        else:
            shown = ", ".join(f"`{k}`" for k in keys) or "—"
        lines.append(f"| {group} | {shown} | {title} |")
    return "\n".join(lines)


def main() -> None:
    """Print the table."""
    print(table())


if __name__ == "__main__":
    main()
