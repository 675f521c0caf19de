"""Opening a project by its location: a ``.labelfix`` file or a team project's URL.

The project service (:mod:`labelfix.core.project`) re-exports :func:`open_project`; its parts
that run on an open store (:mod:`labelfix.core.project_predict`) open locations with it too.
"""

from __future__ import annotations

from pathlib import Path

from . import settings
from .store import ProjectError, Store, TeamLocation, parse_location

Location = str | Path | TeamLocation


def open_project(
    location: Location,
    *,
    readonly: bool = False,
    reviewer: str | None = None,
    project: str | None = None,
    images: str | Path | None = None,
    session: str | None = None,
) -> Store:
    """Open an existing project: a project file, or a team project by its ``postgresql://``
    URL (``project`` names it when the URL does not). ``reviewer`` overrides who the change
    log names (default: the settings, else the OS user); ``images`` sets this machine's image
    folder for the project first. Raises ProjectError with a sentence a user can act on."""
    where = parse_location(location, project)
    if images is not None:
        folder = Path(images)
        if not folder.is_dir():
            raise ProjectError(f"{folder}: no such image folder")
        if isinstance(where, TeamLocation):
            settings.set_project_images(where.key(), folder)
    store = Store.open(where, readonly=readonly, reviewer=reviewer, session=session)
    if images is not None and not isinstance(where, TeamLocation) and not readonly:
        with store.atomic():
            store.set_images_root(images)
    return store
