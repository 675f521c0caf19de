"""The README says what the code does: the Linux libraries `.ci/run` installs, the change log's
columns, the commands `labelfix --help` lists."""

from __future__ import annotations

import re
from pathlib import Path

from labelfix.core.change_log import CHANGE_FIELDS
from labelfix.core.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def section(title: str) -> str:
    start = README.index(title)
    end = README.find("\n#", start + len(title))
    return README[start : end if end > 0 else None]


def test_the_linux_library_list_has_what_ci_installs() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    installed = set(re.findall(r"\b(lib[a-z0-9.+-]+)", ci.split("apt-get install", 1)[1]))
    listed = set(re.findall(r"\b(lib[a-z0-9.+-]+)", section("### Linux system libraries")))
    assert installed <= listed, sorted(installed - listed)
    assert "libdbus-1-3" in listed


def test_every_change_log_column_is_documented() -> None:
    text = section("## File formats")
    for column in CHANGE_FIELDS:
        assert f"`{column}`" in text, column


def test_every_command_is_in_the_readme() -> None:
    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices
    text = section("## Command line")
    for name in commands:
        assert f"labelfix {name}" in text, name


def test_the_json_listings_say_they_are_json_lines() -> None:
    """`labelfix suspects X --format json > s.json` then `json.load` failed with "Extra data":
    suspects and matches print one JSON object a line, and neither the help nor the README
    said so (report's JSON is one document)."""
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices
    for command in ("suspects", "matches"):
        assert "JSON Lines" in sub[command].format_help(), command
    assert "JSON Lines" in section("## Command line")
