"""The headless CLI end to end: import, info, analyze, suspects, matches, apply, export."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import DEMO, shared_path, tiny_dataset, tiny_predictions, write_json


def labelfix(*args: str) -> subprocess.CompletedProcess:
    """Run the real console entry point in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "labelfix", *args], capture_output=True, text=True, timeout=300
    )


@pytest.fixture
def tiny_project(tmp_path: Path) -> Path:
    gt = write_json(tmp_path / "gt.json", tiny_dataset())
    pred = write_json(tmp_path / "pred.json", tiny_predictions())
    out = tmp_path / "t.labelfix"
    r = labelfix(
        "import", "--gt", str(gt), "--predictions", str(pred), "--name", "m", "-o", str(out), "-q"
    )
    assert r.returncode == 0, r.stderr
    return out


def test_bad_input_exits_2_naming_file_and_record(tmp_path: Path) -> None:
    data = tiny_dataset()
    data["annotations"][1]["bbox"] = [1, 2, float("nan"), 4]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))  # NaN is written as the token NaN
    r = labelfix("import", "--gt", str(bad), "-o", str(tmp_path / "x.labelfix"))
    assert r.returncode == 2
    assert "bad.json" in r.stderr and "annotations[1] (id 11).bbox" in r.stderr
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "x.labelfix").exists()


def test_broken_json_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "broken.json"
    bad.write_text('{"images": [')
    r = labelfix("import", "--gt", str(bad), "-o", str(tmp_path / "x.labelfix"))
    assert r.returncode == 2 and "broken.json" in r.stderr and "Traceback" not in r.stderr


def test_prediction_on_unknown_image_exits_2(tiny_project: Path, tmp_path: Path) -> None:
    preds = tiny_predictions()
    preds[2]["image_id"] = 999
    p = write_json(tmp_path / "p2.json", preds)
    r = labelfix("add-predictions", str(tiny_project), str(p), "--name", "other")
    assert r.returncode == 2 and "p2.json" in r.stderr and "[2]" in r.stderr


def test_not_a_project_exits_2(tmp_path: Path) -> None:
    junk = tmp_path / "junk.labelfix"
    junk.write_bytes(b"\0" * 5000)
    r = labelfix("info", str(junk))
    assert r.returncode == 2 and "not a LabelFix project" in r.stderr


def test_round_trip_and_analysis(tiny_project: Path, tmp_path: Path) -> None:
    r = labelfix("info", str(tiny_project))
    assert r.returncode == 0 and "labels       3" in r.stdout
    assert labelfix("analyze", str(tiny_project), "-q").returncode == 0
    r = labelfix("suspects", str(tiny_project), "--format", "json")
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    kinds = {row["kind"] for row in rows}
    assert "missing_label" in kinds and "wrong_class" in kinds
    assert [row["score"] for row in rows] == sorted((row["score"] for row in rows), reverse=True)
    missing = next(row for row in rows if row["kind"] == "missing_label")
    assert missing["prediction_id"] == 2 and missing["annotation_id"] is None
    # an IoU range keeps the rows inside it (closed range); a reversed range is a clear error
    wrong = next(row for row in rows if row["kind"] == "wrong_class")
    for low, high, kept in [(wrong["iou"], 1.0, True), (0.0, wrong["iou"] - 0.01, False)]:
        r = labelfix(
            "suspects", str(tiny_project), "--format", "json",
            "--min-iou", str(low), "--max-iou", str(high),
        )  # fmt: skip
        ranged = [json.loads(line) for line in r.stdout.splitlines()]
        assert all(low <= row["iou"] <= high for row in ranged if row["iou"] is not None)
        assert (wrong in ranged) == kept
    r = labelfix("suspects", str(tiny_project), "--min-iou", "0.7", "--max-iou", "0.2")
    assert r.returncode == 2 and "--min-iou 0.7 is above --max-iou 0.2" in r.stderr
    r = labelfix("matches", str(tiny_project), "--format", "json")
    matches = [json.loads(line) for line in r.stdout.splitlines()]
    assert [m["prediction_id"] for m in matches] == [1, 2, 3, 4]
    assert matches[0]["outcome"] == "tp" and matches[0]["annotation_id"] == 10
    assert matches[1]["outcome"] == "fp" and matches[1]["annotation_id"] is None
    assert matches[3]["outcome"] == "ignored" and matches[3]["annotation_id"] == 12  # crowd

    r = labelfix(
        "apply", str(tiny_project), "--kind", "missing_label", "--min-confidence", "0.5", "--accept"
    )
    assert r.returncode == 0, r.stderr
    out = tmp_path / "fixed.json"
    r = labelfix(
        "export", str(tiny_project), "-o", str(out), "--changes", str(tmp_path / "log.csv")
    )
    assert r.returncode == 0, r.stderr
    fixed = json.loads(out.read_text())
    new = [a for a in fixed["annotations"] if a["id"] > 12]
    assert (
        len(new) == 1 and new[0]["category_id"] == 7 and new[0]["bbox"] == [70.0, 50.0, 20.0, 20.0]
    )
    assert "missing_label" in (tmp_path / "log.csv").read_text()


def test_demo_round_trip(tmp_path: Path) -> None:
    out = tmp_path / "demo.labelfix"
    r = labelfix(
        "import",
        "--gt",
        str(DEMO / "labels.json"),
        "--images",
        str(DEMO / "images"),
        "--predictions",
        str(DEMO / "predictions.json"),
        "-o",
        str(out),
        "-q",
    )
    assert r.returncode == 0, r.stderr
    assert labelfix("export", str(out), "-o", str(tmp_path / "e.json"), "-q").returncode == 0
    assert json.loads((tmp_path / "e.json").read_text()) == json.loads(
        (DEMO / "labels.json").read_text()
    )


@pytest.mark.parametrize(
    "gt_parts",
    [
        ("coco_real81", "annotations", "instances_real81.json"),
        ("coco_val2014_100", "instances_val2014_100.json"),
    ],
)
def test_shared_real_data_round_trip(tmp_path: Path, gt_parts: tuple[str, ...]) -> None:
    gt = shared_path(*gt_parts)
    out = tmp_path / "real.labelfix"
    args = ["import", "--gt", str(gt), "-o", str(out), "-q"]
    if gt_parts[0] == "coco_real81":
        args += ["--images", str(gt.parents[1] / "images")]
        args += [
            "--predictions",
            str(gt.parents[1] / "predictions" / "centernet_bbox_results.json"),
        ]
    else:
        args += ["--predictions", str(gt.parent / "instances_val2014_fakesegm100_results.json")]
    r = labelfix(*args)
    assert r.returncode == 0, r.stderr
    assert labelfix("export", str(out), "-o", str(tmp_path / "e.json"), "-q").returncode == 0
    assert json.loads((tmp_path / "e.json").read_text()) == json.loads(gt.read_text())


def test_a_broken_analysis_module_is_a_crash_with_its_cause(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An ImportError in the analysis commands must surface, not silently drop the commands."""
    import importlib

    import labelfix.core

    for name in ("cli", "cli_analysis"):
        monkeypatch.delitem(sys.modules, f"labelfix.core.{name}", raising=False)
        monkeypatch.delattr(labelfix.core, name, raising=False)
    monkeypatch.setitem(sys.modules, "labelfix.core.cli_analysis", None)  # import fails
    with pytest.raises(ImportError, match="cli_analysis"):
        importlib.import_module("labelfix.core.cli").build_parser()


def test_suspects_names_the_analysed_sets_when_the_active_one_is_not(
    tiny_project: Path, tmp_path: Path
) -> None:
    """The active set is new and not analysed but another set is: the message says which sets
    are analysed and how to list them, instead of "not analysed yet"."""
    assert labelfix("analyze", str(tiny_project), "-q").returncode == 0
    pred = write_json(tmp_path / "pred2.json", tiny_predictions())
    added = labelfix("add-predictions", str(tiny_project), str(pred), "--name", "new")
    assert added.returncode == 0, added.stderr
    r = labelfix("suspects", str(tiny_project))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "the active prediction set 'new' has not been analysed" in r.stderr
    assert "analysed: 'm'" in r.stderr
    assert "--predictions m" in r.stderr and "labelfix analyze" in r.stderr
    assert labelfix("suspects", str(tiny_project), "--predictions", "m").returncode == 0


def test_a_coco_file_where_a_project_goes_says_how_to_make_one(tmp_path: Path) -> None:
    """A new user's `labelfix labels.json` got argparse's "invalid choice" with the list of
    21 commands, and `labelfix analyze labels.json` "is not a LabelFix project (file is not a
    database)": both now say how a project is made of a COCO file."""
    gt = write_json(tmp_path / "labels.json", tiny_dataset())
    r = labelfix(str(gt))
    assert r.returncode == 2
    assert f"labelfix: {gt} is a file, not a command" in r.stderr
    assert f"labelfix import --gt {gt} --images DIR" in r.stderr
    assert "invalid choice" not in r.stderr
    r = labelfix("analyze", str(gt))
    assert r.returncode == 2
    assert f"{gt} is not a LabelFix project" in r.stderr
    assert f"labelfix import --gt {gt}" in r.stderr


@pytest.mark.parametrize("before", [True, False])
def test_reviewer_before_or_after_the_command(tiny_project: Path, before: bool) -> None:
    """README lists --reviewer for every command: `labelfix --reviewer NAME suspects X` was
    refused (the desktop app's parser took it: "invalid choice: 'suspects'")."""
    assert labelfix("analyze", str(tiny_project), "-q").returncode == 0
    option = ("--reviewer", "bob")
    command = ("apply", str(tiny_project), "--reject", "--top", "1", "--min-confidence", "0")
    r = labelfix(*option, *command) if before else labelfix(*command, *option)
    assert r.returncode == 0, r.stderr
    r = labelfix("decisions", str(tiny_project))
    assert r.returncode == 0 and "bob" in r.stdout, (r.stdout, r.stderr)
    r = labelfix("--reviewer", "bob", "suspects", str(tiny_project), "--status", "all")
    assert r.returncode == 0 and "rejected" in r.stdout, r.stderr


def test_every_command_takes_reviewer_after_it_too(tmp_path: Path) -> None:
    """README: `--reviewer NAME` as every command does, before or after it. `import`, `push`,
    `pull` and `projects` refused it after the command ("unrecognized arguments")."""
    from labelfix.core.cli import build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "command")
    lacking = [
        name
        for name, p in sub.choices.items()
        if name not in ("reviewer", "open", "demo")  # sets the name itself / the app's parser
        and "--reviewer" not in {o for a in p._actions for o in a.option_strings}
    ]
    assert lacking == []
    gt = write_json(tmp_path / "gt.json", tiny_dataset())
    out = tmp_path / "x.labelfix"
    r = labelfix("import", "--gt", str(gt), "-o", str(out), "--reviewer", "bob")
    assert r.returncode == 0, r.stderr
