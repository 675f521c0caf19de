"""Print the README's keyboard table from the one actions table (desktop/actions.py)."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from labelfix.desktop.actions import ACTIONS  # noqa: E402


def main() -> None:
    """Print a Markdown table: group, keys, action."""
    print("| group | keys | action |")
    print("|---|---|---|")
    quick_done = False
    for spec in ACTIONS:
        if spec.arg is not None:
            if quick_done:
                continue
            quick_done = True
            print(
                f"| {spec.group} | `1` … `9` | set the label's class to one of the 9 most frequent classes |"
            )
            continue
        keys = ", ".join(f"`{k}`" for k in spec.keys) or "—"
        print(f"| {spec.group} | {keys} | {spec.title} |")


if __name__ == "__main__":
    main()
