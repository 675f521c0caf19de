"""The project's undo history: a QUndoStack of EditCommands that always agrees with the project.

When an undo or redo fails (the project cannot be written: disk full, database locked), the
failed step's transaction has changed nothing, so the stack must not move either. QUndoStack
moves its index whatever the command did; the history moves it straight back (the commands do
nothing while it does) and says what failed. It refuses to move rather than marking the command
obsolete: an obsolete command is deleted, and then its edit (still on disk) could never be undone,
and the commands below it would undo from a state that is not the one they left. Refusing keeps
every command, and the same step succeeds once the project can be written again.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from labelfix.core.store import ConflictError

from ..commands import EditCommand, StepFailure, StepGuard

log = logging.getLogger(__name__)


def _sentence(error: Exception) -> str:
    """An error's text as a sentence, ending in a full stop, to put before another one."""
    text = str(error).rstrip()
    return text if text.endswith((".", "!", "?")) else f"{text}."


class UndoHistory(QObject):
    """The undo stack (unlimited) and what happens when one of its steps fails."""

    stepFailed = Signal(str)  # a sentence: what failed, and that nothing moved
    stepRefused = Signal(object)  # images of a step refused (changed by someone else since)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.stack = QUndoStack(self)
        self.stack.setUndoLimit(0)  # unlimited: every edit of the session can be undone
        self.guard = StepGuard()
        self.stack.indexChanged.connect(self._after_move)

    def push(self, command: EditCommand) -> Exception | None:
        """Push (and so apply) a command; the exception when it could not be applied."""
        command.guard = self.guard
        text = command.text()  # an obsolete command's C++ side is deleted by the push
        self.stack.push(command)
        if command.error is not None:
            log.error("%s: not applied", text, exc_info=command.error)
        return command.error

    def undo(self) -> None:
        """Undo the last command (a failure is reported and the stack stays)."""
        self.stack.undo()

    def redo(self) -> None:
        """Redo the next command (a failure is reported and the stack stays)."""
        self.stack.redo()

    def clear(self) -> None:
        """Forget every command (the edits stay in the project)."""
        self.stack.clear()

    def _after_move(self, _index: int) -> None:
        """After any move (undo, redo, a History jump): if a step failed, move back to just
        before it, touching nothing, and report it."""
        failure = self.guard.failure
        if failure is None or self.guard.quiet:
            return
        position = self._position(failure.command)
        self.guard.quiet = True
        try:
            if position is not None:
                self.stack.setIndex(position + 1 if failure.direction == "undo" else position)
        finally:
            self.guard.quiet = False
            self.guard.failure = None
        self._report(failure)

    def _position(self, command: EditCommand) -> int | None:
        for i in range(self.stack.count()):
            if self.stack.command(i) is command:
                return i
        return None

    def _report(self, failure: StepFailure) -> None:
        what = "Undo" if failure.direction == "undo" else "Redo"
        if isinstance(failure.error, ConflictError):  # someone else changed it since
            self.stepFailed.emit(
                f"{what} refused: {_sentence(failure.error)} Nothing was {what.lower()}ne of "
                f"“{failure.command.text()}”; the table and canvas show it as it is now."
            )
            self.stepRefused.emit(set(failure.command.image_ids))
            return
        log.error(
            "%s of %r failed; the history stays where it was",
            what.lower(),
            failure.command.text(),
            exc_info=failure.error,
        )
        self.stepFailed.emit(
            f"{what} failed: the project could not be written ({failure.error}). "
            f"Nothing was {what.lower()}ne of “{failure.command.text()}”. "
            f"{what} again once the project can be written."
        )
