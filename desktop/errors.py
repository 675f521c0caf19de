"""The sentences the desktop app shows when a project cannot be opened.

Every problem gets one sentence that says what is wrong and what to do, the same on the command
line (stderr) and in the window (a message box). Qt-free, so ``labelfix open`` can check a
project before any window exists.

Problem kinds: ``missing`` (no file at that path), ``not_project`` (a file, but not a LabelFix
project), ``too_new`` (written by a newer LabelFix), ``read_only`` (LabelFix cannot write to it),
``other`` (anything else the store reports)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from labelfix import __version__
from labelfix.core.project import (
    DatabaseError,
    ProjectError,
    open_project,
    parse_location,
    redact_text,
)

_TOO_NEW = re.compile(r"schema version (\d+), but this LabelFix reads up to (\d+)")


@dataclass(frozen=True)
class OpenProblem:
    """Why a project did not open: its kind and the sentence to show."""

    kind: str
    sentence: str


def classify(exc: BaseException) -> str:
    """The problem kind of an exception raised while opening a project."""
    text = str(exc)
    if isinstance(exc, FileNotFoundError) or "no such project file" in text:
        return "missing"
    if "update LabelFix" in text:
        return "too_new"
    if "is read-only" in text or isinstance(exc, PermissionError):
        return "read_only"
    if "is not a LabelFix project" in text or isinstance(exc, DatabaseError):
        return "not_project"
    return "other"


def open_problem(exc: BaseException, path: Path | str) -> OpenProblem:
    """The kind and the one sentence for an exception raised while opening ``path``."""
    path = Path(path)
    kind = classify(exc)
    if kind == "missing":
        sentence = f"{path}: no such project file; it may have been moved, renamed or deleted."
    elif kind == "not_project":
        sentence = (
            f"{path.name} is not a LabelFix project; to review a COCO dataset, create a project "
            "from it with “New project from COCO…” (or `labelfix import`)."
        )
    elif kind == "too_new":
        found = _TOO_NEW.search(str(exc))
        detail = (
            f" (project format {found.group(1)}; LabelFix {__version__} reads up to "
            f"format {found.group(2)})"
            if found
            else ""
        )
        sentence = f"{path.name} was saved by a newer LabelFix{detail}: update LabelFix to open it."
    elif kind == "read_only":
        sentence = (
            f"{path.name} is read-only: LabelFix saves every decision into the project, so copy it "
            "to a folder you can write to (or make it writable) and open it again."
        )
    else:
        text = str(exc).strip().rstrip(".") or type(exc).__name__
        sentence = f"{path.name} could not be opened: {text}."
    return OpenProblem(kind, sentence)


def team_problem(exc: BaseException, location: str) -> str:
    """The sentence for a team project that did not open (its URL shown without password)."""
    text = redact_text(str(exc).strip().rstrip(".")) or type(exc).__name__
    where = team_display(location)
    return text + "." if where in text else f"{where} could not be opened: {text}."


def team_display(location: str) -> str:
    """A team project's URL as shown and remembered: never its password."""
    try:
        return str(parse_location(location))
    except ProjectError:
        return redact_text(location)


def check_project(path: Path | str) -> OpenProblem | None:
    """Open ``path`` as the review window would (writable) and close it; None when it opens.

    It is opened read-only first, so that a file that is not a LabelFix project (another
    app's SQLite database, say) is never written to."""
    try:
        open_project(path, readonly=True).close()
        open_project(path).close()
    except (ProjectError, OSError, DatabaseError) as exc:
        return open_problem(exc, path)
    return None


def removed_from_recent(paths: list[Path]) -> str:
    """The note shown when recent projects that no longer exist are dropped from the list."""
    names = ", ".join(p.name for p in paths)
    if len(paths) == 1:
        return (
            f"{names} is no longer at {paths[0].parent}; it was removed from the recent projects."
        )
    return f"No longer found, so removed from the recent projects: {names}."
