"""The ``labelfix`` entry point: desktop commands (no command, ``open``, ``demo``) go to the Qt
app, everything else to the headless CLI in :mod:`labelfix.core.cli`, which never loads Qt."""

from __future__ import annotations

import sys

DESKTOP_COMMANDS = {"open", "demo"}
# the options before a command that take a value (`labelfix --reviewer NAME suspects X`)
VALUE_OPTIONS = {"--theme", "--screenshot", "--select", "--size", "--reviewer"}
# options of the bare desktop command (`labelfix --smoke`, `labelfix --theme dark`)
DESKTOP_OPTIONS = VALUE_OPTIONS | {"--smoke", "--grid"}
TEAM_SCHEMES = ("postgresql://", "postgres://")  # a team project's URL opens like a file


def main(argv: list[str] | None = None) -> None:
    """Dispatch to the desktop app or the headless CLI."""
    argv = sys.argv[1:] if argv is None else argv
    at = command_index(argv)
    word = argv[at] if at is not None else None
    if word is not None and (word.endswith(".labelfix") or word.startswith(TEAM_SCHEMES)):
        # `labelfix X.labelfix` (the desktop entry's Exec runs it), `labelfix postgresql://…`
        argv = [*argv[:at], "open", *argv[at:]]
        word = "open"
    if (
        not argv
        or word in DESKTOP_COMMANDS
        or (word is None and argv[0].split("=")[0] in DESKTOP_OPTIONS)
    ):
        from .desktop.app import main as desktop_main

        sys.exit(desktop_main(argv))
    from .core.cli import main as core_main

    core_main(argv)


def command_index(argv: list[str]) -> int | None:
    """Where the command (or project) is in ``argv``: the first word that is neither an option
    nor an option's value (``--reviewer NAME`` may come before the command); None if none."""
    i = 0
    while i < len(argv):
        word = argv[i]
        if not word.startswith("-"):
            return i
        i += 2 if word in VALUE_OPTIONS else 1
    return None
