"""The ``labelfix`` entry point: desktop commands (no command, ``open``, ``demo``) go to the Qt
app, everything else to the headless CLI in :mod:`labelfix.core.cli`, which never loads Qt."""

from __future__ import annotations

import sys

DESKTOP_COMMANDS = {"open", "demo"}
# options of the bare desktop command (`labelfix --smoke`, `labelfix --theme dark`)
DESKTOP_OPTIONS = {"--theme", "--smoke", "--screenshot", "--select", "--size", "--reviewer"}
TEAM_SCHEMES = ("postgresql://", "postgres://")  # a team project's URL opens like a file


def main(argv: list[str] | None = None) -> None:
    """Dispatch to the desktop app or the headless CLI."""
    argv = sys.argv[1:] if argv is None else argv
    if argv and (argv[0].endswith(".labelfix") or argv[0].startswith(TEAM_SCHEMES)):
        # `labelfix X.labelfix` (the desktop entry's Exec runs it), `labelfix postgresql://…`
        argv = ["open", *argv]
    if not argv or argv[0] in DESKTOP_COMMANDS or argv[0].split("=")[0] in DESKTOP_OPTIONS:
        from .desktop.app import main as desktop_main

        sys.exit(desktop_main(argv))
    from .core.cli import main as core_main

    core_main(argv)
