"""The command line on a team project (PostgreSQL test server): every project command takes the
URL; push, pull, claim, the lead's views; a password never shows up or is remembered."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

from labelfix.core.store import TeamLocation

from backends import drop, pg_url, team_url
from helpers import DEMO, tiny_dataset, tiny_predictions, write_json


def labelfix(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "labelfix", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


def test_every_project_command_takes_a_team_url(tmp_path: Path) -> None:
    url = team_url()
    gt = write_json(tmp_path / "gt.json", tiny_dataset())
    preds = write_json(tmp_path / "pred.json", tiny_predictions())
    try:
        r = labelfix("import", "--gt", str(gt), "--images", str(tmp_path), "-o", url, "-q")
        assert r.returncode == 0, r.stderr
        r = labelfix("add-predictions", url, str(preds), "--name", "m", "-q")
        assert r.returncode == 0, r.stderr
        assert labelfix("analyze", url, "-q").returncode == 0
        r = labelfix("info", url)
        assert "team project" in r.stdout and f"image folder {tmp_path}" in r.stdout
        assert len(labelfix("matches", url).stdout.splitlines()) == 4
        r = labelfix("claim", url, "-n", "1", "--reviewer", "alice")
        claimed = r.stdout.split()
        assert r.returncode == 0 and len(claimed) == 1, r.stderr
        r = labelfix("claim", url, "-n", "5", "--reviewer", "bob")
        assert claimed[0] not in r.stdout.split()  # alice's claim is hers
        r = labelfix("suspects", url, "--claimed", "--reviewer", "alice", "--format", "json")
        listed = [json.loads(x) for x in r.stdout.splitlines()]
        assert [x["kind"] for x in listed] == [claimed[0].split(":")[0]]
        r = labelfix("apply", url, "--claimed", "--accept", "--reviewer", "alice")
        assert r.returncode == 0 and "accepted 1 suspect" in r.stderr, r.stderr
        r = labelfix("reviewers", url, "--format", "json")
        assert json.loads(r.stdout)["alice"]["accepted"] == 1
        r = labelfix("decisions", url, "--by", "alice")
        assert [json.loads(x)["suspect_key"] for x in r.stdout.splitlines()] == claimed
        r = labelfix("changes", url)
        assert {json.loads(x)["reviewer"] for x in r.stdout.splitlines()} == {"alice"}
        out, log = tmp_path / "out.json", tmp_path / "log.csv"
        r = labelfix("export", url, "-o", str(out), "--changes", str(log))
        assert r.returncode == 0, r.stderr
        assert "alice" in log.read_text()
        copy = tmp_path / "copy.labelfix"
        assert labelfix("pull", url, "-o", str(copy), "-q").returncode == 0
        r = labelfix("export", str(copy), "-o", str(tmp_path / "again.json"))
        assert json.loads((tmp_path / "again.json").read_text()) == json.loads(out.read_text())
    finally:
        drop(url)


def test_push_then_open_by_url_and_project(tmp_path: Path) -> None:
    project = tmp_path / "demo.labelfix"
    r = labelfix(
        "import", "--gt", str(DEMO / "labels.json"), "--images", str(DEMO / "images"),
        "--predictions", str(DEMO / "predictions.json"), "-o", str(project), "-q",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    name = TeamLocation.parse(team_url()).project
    try:
        r = labelfix("push", str(project), pg_url(), "--project", name)
        assert r.returncode == 0 and "published" in r.stderr, r.stderr
        again = labelfix("push", str(project), pg_url(), "--project", name)
        assert again.returncode == 2 and "already exists" in again.stderr
        assert name in labelfix("projects", pg_url()).stdout.split()
        r = labelfix("info", pg_url(), "--project", name)
        assert r.returncode == 0 and "labels       435" in r.stdout, r.stderr
        missing = labelfix("info", pg_url(), "--project", "no-such-project")
        assert missing.returncode == 2 and "labelfix push" in missing.stderr
    finally:
        drop(f"{pg_url()}?project={name}")


def test_a_password_is_never_shown_or_remembered(tmp_path: Path) -> None:
    password = os.environ.get("PGPASSWORD")
    parts = urlsplit(pg_url())
    if not password or not parts.username:
        return  # a server without a password: nothing to leak
    url = team_url()
    with_password = url.replace(f"{parts.username}@", f"{parts.username}:{password}@", 1)
    gt = write_json(tmp_path / "gt.json", tiny_dataset())
    config = tmp_path / "config"
    env = {"PGPASSWORD": "", "LABELFIX_CONFIG_DIR": str(config)}
    try:
        runs = [
            labelfix("import", "--gt", str(gt), "--images", str(tmp_path), "-o", with_password,
                     env=env),
            labelfix("info", with_password, env=env),
            labelfix("changes", with_password, env=env),
        ]  # fmt: skip
        assert all(r.returncode == 0 for r in runs), [r.stderr for r in runs]
        for r in runs:
            assert password not in r.stdout + r.stderr
        settings = (config / "settings.json").read_text()
        assert password not in settings and str(tmp_path) in settings
        wrong = with_password.replace(password, "wrong-" + password[:4])
        r = labelfix("info", wrong, env=env)
        assert r.returncode == 2 and "wrong-" not in r.stderr, r.stderr
    finally:
        drop(url)
