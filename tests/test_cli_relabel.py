"""The CLI of re-deciding and re-labelling: `apply --flag --note`, `apply --reopen` and
re-deciding listed decided suspects, `export --for-relabel` (subset + work list), `merge`
(a relabelled subset back; a mismatching one exits 2 with the reasons)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from labelfix.core.cli import run
from labelfix.core.coco import read_ground_truth
from labelfix.core.store import Store

from helpers import write_json
from relabel_cases import PREDICTIONS, cat_id, dataset, editor_round_trip


@pytest.fixture
def project(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """relabel_cases' project through the CLI (analysed with raw confidences is not a CLI
    option: the calibrated analysis finds the same kinds here)."""
    out = tmp_path / "x.labelfix"
    preds = [{"image_id": i, "category_id": c, "bbox": b, "score": s} for i, c, b, s in PREDICTIONS]
    gt = write_json(tmp_path / "gt.json", dataset())
    pred = write_json(tmp_path / "p.json", preds)
    assert run(["import", "--gt", str(gt), "--predictions", str(pred), "-o", str(out), "-q"]) == 0
    assert run(["analyze", str(out), "-q"]) == 0
    capsys.readouterr()
    return out


def cli(capsys: pytest.CaptureFixture[str], *args: str, code: int = 0) -> tuple[str, str]:
    got = run(list(args))
    captured = capsys.readouterr()
    assert got == code, captured.err
    return captured.out, captured.err


def statuses(capsys: pytest.CaptureFixture[str], project: Path) -> dict[str, str]:
    """kind:label -> status of every suspect."""
    out, _ = cli(
        capsys,
        "suspects",
        str(project),
        "--status",
        "all",
        "--min-confidence",
        "0",
        "--format",
        "csv",
    )
    header, *lines = out.strip().splitlines()
    status = header.split(",").index("status")
    rows = [line.split(",") for line in lines]
    return {f"{r[0]}:{r[4]}": r[status] for r in rows}


def test_apply_flag_with_a_note(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, err = cli(
        capsys,
        "apply",
        str(project),
        "--min-confidence",
        "0",
        "--kind",
        "wrong_class",
        "--flag",
        "--note",
        "which?",
    )
    assert "flagged 1 suspect(s)" in err
    with Store.open(project) as store:
        (key,) = [k for k, d in store.decisions(store.active_set_id()).items() if d == "flagged"]
        assert key.startswith("wrong_class:1:")
        assert store.decision(store.active_set_id(), key)["note"] == "which?"
    cli(
        capsys,
        "apply",
        str(project),
        "--min-confidence",
        "0",
        "--kind",
        "spurious_label",
        "--reject",
        "--note",
        "x",
        code=2,
    )


def test_reopen_and_redecide_accepted_suspects(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cli(
        capsys,
        "apply",
        str(project),
        "--min-confidence",
        "0",
        "--kind",
        "wrong_class",
        "--kind",
        "spurious_label",
        "--accept",
    )
    with Store.open(project) as store:
        assert store.annotation(1)["category_id"] == 2 and store.annotation(5) is None
    _, err = cli(
        capsys, "apply", str(project), "--status", "accepted", "--kind", "wrong_class", "--reopen"
    )
    assert "reopened 1 suspect(s)" in err
    _, err = cli(capsys, "apply", str(project), "--status", "accepted", "--reject")
    assert "rejected 1 suspect(s)" in err
    with Store.open(project) as store:
        assert store.annotation(1)["category_id"] == 1  # the class fix reverted
        assert store.annotation(5) is not None  # the deleted label is back
    assert "accepted" not in statuses(capsys, project).values()


def test_a_redecision_that_cannot_revert_is_named(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cli(capsys, "apply", str(project), "--min-confidence", "0", "--kind", "wrong_class", "--accept")
    with Store.open(project) as store:
        from labelfix.core.edits import SetCategory

        SetCategory(1, 1, reason="manual").apply(store)
    _, err = cli(capsys, "apply", str(project), "--status", "accepted", "--reopen")
    assert "no listed suspect changes" in err
    assert "left 1 decided suspect(s) as they were" in err
    assert "the class of label 1 was changed since the accept (class dog → cat)" in err


def test_export_for_relabel_and_merge_back(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    subset = tmp_path / "subset.json"
    _, err = cli(capsys, "export", str(project), "-o", str(subset), "--for-relabel", code=2)
    assert "no suspects to send for re-labelling (status flagged)" in err
    cli(
        capsys,
        "apply",
        str(project),
        "--min-confidence",
        "0",
        "--kind",
        "duplicate_label",
        "--flag",
        "--note",
        "two cats?",
    )
    _, err = cli(capsys, "export", str(project), "-o", str(subset), "--for-relabel")
    assert "wrote 1 image(s) with 5 labels and 1 suspect(s)" in err
    assert (tmp_path / "subset.csv").read_text().count("\n") == 2  # header + one suspect
    back, new_id = editor_round_trip(json.loads(subset.read_text()))
    back["annotations"] = [a for a in back["annotations"] if a["id"] != new_id[4]]
    for ann in back["annotations"]:
        if ann["id"] == new_id[1]:
            ann["category_id"] = cat_id(back, "dog")
    _, err = cli(capsys, "merge", str(project), str(write_json(tmp_path / "back.json", back)))
    assert "merge back.json: 1 image relabelled (0 labels changed, 1 added, 2 deleted)" in err
    cli(capsys, "export", str(project), "-o", str(tmp_path / "out.json"))
    out = read_ground_truth(tmp_path / "out.json")
    assert sorted(a["category_id"] for a in out.annotations if a["image_id"] == 1) == [1, 1, 1, 2]


def test_merge_refuses_a_subset_that_does_not_match(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cli(
        capsys, "apply", str(project), "--min-confidence", "0", "--kind", "spurious_label", "--flag"
    )
    subset = tmp_path / "subset.json"
    cli(capsys, "export", str(project), "-o", str(subset), "--for-relabel")
    back = json.loads(subset.read_text())
    back["images"][0]["file_name"] = "nowhere.jpg"
    bad = write_json(tmp_path / "bad.json", back)
    _, err = cli(capsys, "merge", str(project), str(bad), code=2)
    assert f"{bad}: the subset does not match the project (1 problem(s))" in err
    assert "images[0] (id 1) 'nowhere.jpg': no image of that file name in the project" in err
    assert "Traceback" not in err
