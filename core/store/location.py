"""Where a project lives: a ``.labelfix`` file, or a team project on a PostgreSQL server.

A team project's location is a libpq URL with the project's name as a parameter::

    postgresql://HOST[:PORT]/DB?project=NAME        (also postgres://, and ?service=NAME)

Credentials come only from libpq's usual places (``PGPASSWORD``, ``~/.pgpass``, ``PGSERVICE`` and
service files, the URL's user name). A password written into the URL is used for the
connection but never shown, logged or remembered: :meth:`TeamLocation.display` and
:meth:`TeamLocation.key` leave it out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from .base import ProjectError

SCHEMES = ("postgresql://", "postgres://")
PROJECT_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,47}$")
SCHEMA_PREFIX = "labelfix_"


def is_team_location(location: object) -> bool:
    """True if ``location`` names a team project (a PostgreSQL URL) rather than a file."""
    return isinstance(location, str) and location.startswith(SCHEMES)


def check_project_name(name: str) -> str:
    """The name, if it can name a team project (lower-case letters, digits, ``_``, ``-``)."""
    if not PROJECT_NAME.match(name or ""):
        raise ProjectError(
            f"{name!r} cannot name a team project: use 1-48 lower-case letters, digits, "
            "'_' or '-', starting with a letter or digit"
        )
    return name


@dataclass(frozen=True, repr=False)
class TeamLocation:
    """A team project: the server (a libpq URL without the project) and the project's name."""

    url: str
    """The libpq connection URL (may hold a password: never show or store it)."""
    project: str

    @classmethod
    def parse(cls, location: str, project: str | None = None) -> TeamLocation:
        """Parse ``postgresql://…?project=NAME`` (or take the name from ``project``)."""
        if not is_team_location(location):
            raise ProjectError(f"{location!r} is not a postgresql:// URL")
        parts = urlsplit(location)
        query = parse_qsl(parts.query, keep_blank_values=True)
        named = [v for k, v in query if k == "project"]
        rest = [(k, v) for k, v in query if k != "project"]
        if project is not None and named and named[-1] != project:
            raise ProjectError(
                f"the URL names project {named[-1]!r} but --project says {project!r}"
            )
        name = project if project is not None else (named[-1] if named else None)
        if not name:
            raise ProjectError(
                f"{_redact(location)}: name the team project, e.g. "
                "postgresql://HOST/DB?project=NAME (or --project NAME)"
            )
        url = parts._replace(query=urlencode(rest)).geturl()
        return cls(url, check_project_name(name))

    @property
    def schema(self) -> str:
        """The PostgreSQL schema that holds the project's tables."""
        return SCHEMA_PREFIX + self.project

    def display(self) -> str:
        """The location as shown to people and in logs: the URL without a password."""
        return _with_project(_redact(self.url), self.project)

    def key(self) -> str:
        """The location as remembered on this machine: server, port, database and project,
        without user or password (``postgresql://HOST:PORT/DB?project=NAME``)."""
        parts = urlsplit(self.url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
        extra = [(k, v) for k, v in parse_qsl(parts.query) if k in ("service", "host", "port")]
        query = urlencode([*extra, ("project", self.project)])
        return f"postgresql://{host}{port}{parts.path or '/'}?{query}"

    def with_project(self, project: str) -> TeamLocation:
        """The same server, another project."""
        return TeamLocation(self.url, check_project_name(project))

    def __str__(self) -> str:
        return self.display()

    def __repr__(self) -> str:  # never the password, not even in a traceback
        return f"TeamLocation({self.display()!r})"


def _redact(url: str) -> str:
    """A libpq URL without its password (in the user part or as a parameter)."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, hostport = netloc.rsplit("@", 1)
        user = unquote(userinfo.split(":", 1)[0])
        netloc = f"{quote(user, safe='')}@{hostport}" if user else hostport
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "password"]
    return parts._replace(netloc=netloc, query=urlencode(query)).geturl()


def _with_project(url: str, project: str) -> str:
    sep = "&" if urlsplit(url).query else "?"
    return f"{url}{sep}project={project}"


def redact(text: str) -> str:
    """``text`` with the password of any postgresql:// URL in it removed (for messages)."""
    return re.sub(r"postgres(?:ql)?://[^\s'\"]+", lambda m: _redact(m.group(0)), text)


def parse_location(location: str | Path, project: str | None = None) -> Path | TeamLocation:
    """A project's location: a team location for a postgresql:// URL, else a file path."""
    if isinstance(location, TeamLocation):
        return location
    if is_team_location(location):
        return TeamLocation.parse(str(location), project)
    if project is not None:
        raise ProjectError(f"--project names a team project; {location} is a project file")
    return Path(location)
