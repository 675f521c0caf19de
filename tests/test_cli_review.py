"""`labelfix suspects` shows each suspect's review status and lists open ones by default
(--status all: every one; --status repeatable); its JSON records keep their fields (and add the
probability, group and supporting sets). `labelfix apply --accept` closes the other suspects
of an accepted suspect's object and says so, and says what the re-analysis dropped."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from labelfix.core.bulk import plan_accepts
from labelfix.core.cli import run
from labelfix.core.cli_analysis import CSV_FIELDS
from labelfix.core.suspects import CLI_FIELDS, GROUP_FIELDS

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
    """What a script reads: every suspect (``--min-confidence 0``), one JSON line each."""
    out, _ = cli(
        capsys, "suspects", str(project), "--format", "json", "--min-confidence", "0", *args
    )
    return [json.loads(line) for line in out.splitlines()]


def test_the_listing_before_any_decision(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = listed(capsys, project)
    assert [(r["kind"], r["annotation_id"]) for r in rows] == LISTING
    # the fields scripts read, in their order, then the new ones
    assert all(list(r) == [*CLI_FIELDS, *GROUP_FIELDS] for r in rows)
    # the duplicate pair and both labels' spurious suspects are one object's alternatives
    by_kind = {(r["kind"], r["annotation_id"]): r for r in rows}
    pair = [by_kind[k] for k in LISTING if k[0] != "missing_label"]
    assert len({r["group"] for r in pair}) == 1 and [r["group_rank"] for r in pair] == [0, 1, 2]
    assert by_kind[("missing_label", None)]["group"] != pair[0]["group"]
    assert all([s["set"] for s in r["supported_by"]] == ["p"] for r in rows)


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
    # a small box: 0.775 x sqrt(1/3) since score version 3's size factor (full from 96 px)
    assert second.split()[:3] == ["missing_label", "0.447", "accepted"]
    text, _ = cli(
        capsys, "suspects", str(project), "--format", "csv", "--status", "all",
        "--min-confidence", "0",
    )  # fmt: skip
    records = list(csv.DictReader(io.StringIO(text)))
    assert list(records[0]) == list(CSV_FIELDS) and CSV_FIELDS[: len(CLI_FIELDS) + 1] == (
        *CLI_FIELDS,
        "status",
    )
    assert [r["status"] for r in records] == ["open", "accepted", "open", "open"]
    _, err = cli(capsys, "suspects", str(project))
    # the default view: one row per object, down to the default cut (the spurious labels'
    # 0.31 is below it), saying how to list every suspect
    assert "1 object(s) (open; --status all lists decided ones too)" in err
    assert "the default cut for this analysis; 3 suspect(s) match without it" in err


def test_accepting_closes_the_other_suspects_of_the_object(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, err = cli(capsys, "apply", str(project), "--min-confidence", "0", "--top", "3", "--accept")
    assert "accepted 2 suspect(s)" in err
    assert (
        "closed 2 other suspect(s) of the same objects (rejected: another fix of the object was "
        "accepted): spurious_label:1:, spurious_label:2:" in err
    )
    assert "no longer apply" not in err  # closed, not dropped
    rows = listed(capsys, project, "--status", "accepted")
    assert sorted((r["kind"], r["annotation_id"]) for r in rows) == sorted(
        [("duplicate_label", 2), ("missing_label", None)]
    )
    rejected = listed(capsys, project, "--status", "rejected")
    assert sorted(r["annotation_id"] for r in rejected) == [1, 2]
    assert listed(capsys, project) == []


def test_bulk_accepts_skip_a_suspect_whose_evidence_an_earlier_fix_used() -> None:
    """Suspects of an analysis without groups (made before them): the evidence check."""
    dup = {"kind": "duplicate_label", "annotation_id": 2, "other_annotation_id": 1, "key": "d"}
    spurious = {"kind": "spurious_label", "annotation_id": 2, "key": "s2"}
    other = {"kind": "spurious_label", "annotation_id": 1, "key": "s1"}
    plan = plan_accepts([dup, spurious, other], top=2)
    assert [s["key"] for s in plan.suspects] == ["d", "s1"]
    assert plan.skipped[0].reason == "its label 2 was already deleted (#1, duplicate_label)"
    assert [rank for rank, _ in plan.instead] == [3]
    # prediction ids are per prediction set: the same id in two sets is two predictions
    a = {"kind": "missing_label", "prediction_id": 5, "set_id": 1, "key": "a"}
    b = {"kind": "missing_label", "prediction_id": 5, "set_id": 2, "key": "b"}
    assert len(plan_accepts([a, b]).suspects) == 2
    grouped = [dict(dup, group=0), dict(other, group=0)]
    plan = plan_accepts(grouped)
    assert [s["key"] for s in plan.suspects] == ["d"] and len(plan.closed) == 1


# image 1: label 1 (person) and a person prediction overlapping it partly (an inaccurate label)
# beside a second person prediction nobody labelled (a missing label); accepting the first moves
# the label onto its prediction, which then explains the second enough: it no longer applies
MOVED_GT = {
    "images": [{"id": 1, "file_name": "a.jpg", "width": 120, "height": 80}],
    "categories": [{"id": 1, "name": "person"}],
    "annotations": [
        {"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 40, 40], "area": 1600},
    ],
}
MOVED_PREDICTIONS = [
    {"image_id": 1, "category_id": 1, "bbox": [20, 0, 40, 40], "score": 0.9},
    {"image_id": 1, "category_id": 1, "bbox": [40, 0, 30, 40], "score": 0.85},
]


def test_apply_tells_what_the_reanalysis_dropped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "moved.labelfix"
    gt = write_json(tmp_path / "gt.json", MOVED_GT)
    preds = write_json(tmp_path / "p.json", MOVED_PREDICTIONS)
    assert run(["import", "--gt", str(gt), "--predictions", str(preds), "-o", str(out), "-q"]) == 0
    assert run(["analyze", str(out), "-q"]) == 0
    assert sorted(r["kind"] for r in listed(capsys, out)) == ["inaccurate_label", "missing_label"]
    _, err = cli(capsys, "apply", str(out), "--kind", "inaccurate_label", "--accept")
    assert "re-analysed 1 image(s): 1 open suspect(s) no longer apply" in err
    assert "missing_label::2" in err
