"""`labelfix suspects` shows each suspect's review status and lists open ones by default
(--status all: every one; --status repeatable); its JSON records keep their fields. `labelfix
apply --accept` says which listed suspects it skipped because an earlier fix of the run used
their evidence, and which it took in their place."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from labelfix.core.cli import run
from labelfix.core.suspects import CLI_FIELDS

from helpers import write_json

# image 1: two near-identical person labels and no prediction (a duplicate pair, each label
# spurious too); image 2: a matched person and an unlabelled car (a missing label)
GT = {
    "images": [
        {"id": 1, "file_name": "a.jpg", "width": 100, "height": 80},
        {"id": 2, "file_name": "b.jpg", "width": 100, "height": 80},
    ],
    "categories": [{"id": 1, "name": "person"}, {"id": 3, "name": "car"}],
    "annotations": [
        {
            "id": 1,
            "image_id": 1,
            "category_id": 1,
            "bbox": [0, 0, 40, 40],
            "area": 1600,
            "iscrowd": 0,
        },
        {
            "id": 2,
            "image_id": 1,
            "category_id": 1,
            "bbox": [0, 0, 40, 41],
            "area": 1640,
            "iscrowd": 0,
        },
        {
            "id": 3,
            "image_id": 2,
            "category_id": 1,
            "bbox": [0, 0, 30, 30],
            "area": 900,
            "iscrowd": 0,
        },
    ],
}
PREDICTIONS = [
    {"image_id": 2, "category_id": 1, "bbox": [0, 0, 30, 30], "score": 0.95},
    {"image_id": 2, "category_id": 3, "bbox": [50, 40, 30, 30], "score": 0.8},
]
LISTING = [  # kind, label (best first)
    ("duplicate_label", 2),
    ("missing_label", None),
    ("spurious_label", 2),
    ("spurious_label", 1),
]


@pytest.fixture
def project(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    out = tmp_path / "x.labelfix"
    gt, preds = write_json(tmp_path / "gt.json", GT), write_json(tmp_path / "p.json", PREDICTIONS)
    assert run(["import", "--gt", str(gt), "--predictions", str(preds), "-o", str(out), "-q"]) == 0
    assert run(["analyze", str(out), "-q"]) == 0
    capsys.readouterr()
    return out


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[str, str]:
    code = run(list(args))
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured.out, captured.err


def listed(capsys: pytest.CaptureFixture[str], project: Path, *args: str) -> list[dict]:
    out, _ = cli(capsys, "suspects", str(project), "--format", "json", *args)
    return [json.loads(line) for line in out.splitlines()]


def test_the_listing_before_any_decision(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = listed(capsys, project)
    assert [(r["kind"], r["annotation_id"]) for r in rows] == LISTING
    assert all(list(r) == list(CLI_FIELDS) for r in rows)  # the JSON fields scripts read


def test_suspects_show_the_status_and_list_open_ones_by_default(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cli(capsys, "apply", str(project), "--kind", "missing_label", "--accept", "-q")
    assert [r["kind"] for r in listed(capsys, project)] == [
        "duplicate_label",
        "spurious_label",
        "spurious_label",
    ]
    assert len(listed(capsys, project, "--status", "all")) == 4
    decided = listed(capsys, project, "--status", "accepted", "--status", "rejected")
    assert [r["kind"] for r in decided] == ["missing_label"]
    table, err = cli(capsys, "suspects", str(project), "--status", "all")
    header, first, second = table.splitlines()[:3]
    assert "status" in header.split()
    assert first.split()[:3] == ["duplicate_label", "0.976", "open"]
    assert second.split()[:3] == ["missing_label", "0.775", "accepted"]
    text, _ = cli(capsys, "suspects", str(project), "--format", "csv", "--status", "all")
    records = list(csv.DictReader(io.StringIO(text)))
    assert list(records[0]) == [*CLI_FIELDS, "status"]
    assert [r["status"] for r in records] == ["open", "accepted", "open", "open"]
    _, err = cli(capsys, "suspects", str(project))
    assert "3 suspect(s) (open; --status all lists decided ones too)" in err


def test_apply_says_what_it_skipped_and_took_instead(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, err = cli(capsys, "apply", str(project), "--top", "3", "--accept")
    assert "accepted 3 suspect(s)" in err
    assert "skipped 1 listed suspect(s): an earlier fix of this run used their evidence" in err
    assert (
        "  #3 spurious_label label 2 on a.jpg: its label 2 was already deleted (#1, duplicate_label)"
        in err
    )
    assert (
        "took 1 more from the listing in their place:\n  #4 spurious_label label 1 on a.jpg" in err
    )
    rows = listed(capsys, project, "--status", "accepted")
    assert sorted((r["kind"], r["annotation_id"]) for r in rows) == sorted(
        [("duplicate_label", 2), ("missing_label", None), ("spurious_label", 1)]
    )
    assert listed(capsys, project) == []  # the skipped one's label is gone: re-analysis dropped it


def test_apply_tells_what_the_reanalysis_dropped(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, err = cli(capsys, "apply", str(project), "--kind", "duplicate_label", "--accept")
    assert "re-analysed 1 image(s): 1 open suspect(s) no longer apply" in err
    assert "spurious_label:2:" in err
