"""Sending suspects for re-labelling and taking them back (core.relabel, core.merge): the
subset's content and its fit to CVAT's and Label Studio's COCO importers, the work list, a merge
of a renumbered subset (images by file name, classes by name, ids kept or new), refusals naming
file and record, one undoable edit per image, re-analysis, and the whole round trip."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from labelfix.core import project
from labelfix.core.coco import CocoError, read_ground_truth
from labelfix.core.edits import RELABELLED
from labelfix.core.export import export_coco
from labelfix.core.merge import RelabelError, plan_merge
from labelfix.core.relabel import SUBSET_KEY, WORK_LIST_FIELDS, export_for_relabel
from labelfix.core.review import decide
from labelfix.core.store import Store
from labelfix.core.suspects import SuspectFilter, SuspectIndex

from helpers import write_json
from relabel_cases import LABELS, build, cat_id, editor_round_trip, suspect


@pytest.fixture
def store(tmp_path: Path) -> Store:
    """relabel_cases' project with two suspects of a.jpg flagged."""
    store = build(tmp_path)
    for kind, note in (("wrong_class", "cat or dog?"), ("missing_label", "unlabelled cat")):
        decide(store, [suspect(store, kind)], "flagged", note).apply(store)
    yield store
    store.close()


def flagged(store: Store) -> list[dict]:
    """The flagged suspects in listing order."""
    index = SuspectIndex.load(store)
    rows = index.query(SuspectFilter(statuses=frozenset({"flagged"})))
    return [dict(index.row(int(r)), set_id=index.set_id) for r in rows]


def exported(store: Store, tmp_path: Path) -> dict:
    """Export the flagged suspects' images; the subset as parsed."""
    export_for_relabel(store, flagged(store), tmp_path / "subset.json")
    return json.loads((tmp_path / "subset.json").read_text())


# ---------------------------------------------------------------------- export
def test_the_subset_holds_the_suspects_images_with_their_labels_and_suspects(
    store: Store, tmp_path: Path
) -> None:
    subset = exported(store, tmp_path)
    assert [im["file_name"] for im in subset["images"]] == ["a.jpg"]  # b.jpg has no suspect
    assert sorted(a["id"] for a in subset["annotations"]) == [1, 2, 3, 4, 5]
    assert [c["name"] for c in subset["categories"]] == ["cat", "dog"]
    records = subset["images"][0][SUBSET_KEY]["suspects"]
    by_kind = {r["kind"]: r for r in records}
    assert by_kind["wrong_class"]["note"] == "cat or dog?"
    assert by_kind["wrong_class"]["status"] == "flagged"
    assert by_kind["wrong_class"]["suggested_fix"] == {
        "action": "set_category", "label_id": 1, "category": "dog", "bbox": [10, 10, 40, 40],
    }  # fmt: skip
    fix = by_kind["missing_label"]["suggested_fix"]
    assert (fix["action"], fix["category"], fix["bbox"]) == ("add_label", "cat", [10, 100, 30, 30])
    assert subset[SUBSET_KEY]["suspects"] == 2
    assert subset["info"] == {"description": "relabel cases"}  # the project's top keys kept
    assert {a["note"] for a in subset["annotations"]} == {f"kept {i}" for i in range(1, 6)}


def test_the_subset_meets_cvat_and_label_studio_importers_expectations(
    store: Store, tmp_path: Path
) -> None:
    """Datumaro's COCO instances reader (CVAT's "COCO 1.0") parses with required fields: image
    id (int) and file_name (str); annotation id, image_id, category_id (int, not 0), iscrowd
    (int), segmentation (list or dict) and bbox (list of 4); "score" and "attributes" on a label
    mean something to it, so the subset adds neither. Label Studio's converter needs every
    image's width and height, and reads every segmentation entry as a polygon (so a box
    label's is [], which it skips)."""
    subset = exported(store, tmp_path)
    for image in subset["images"]:
        assert type(image["id"]) is int and isinstance(image["file_name"], str)
        assert type(image["width"]) is int and type(image["height"]) is int
    for ann in subset["annotations"]:
        for key in ("id", "image_id", "category_id", "iscrowd"):
            assert type(ann[key]) is int, (ann, key)
        assert ann["category_id"] != 0
        assert isinstance(ann["segmentation"], list | dict)
        assert len(ann["bbox"]) == 4
        assert "score" not in ann
        if isinstance(ann["segmentation"], list):
            assert all(len(part) >= 6 and len(part) % 2 == 0 for part in ann["segmentation"])
    assert all(type(c["id"]) is int and isinstance(c["name"], str) for c in subset["categories"])
    read_ground_truth(tmp_path / "subset.json")  # and LabelFix reads it as COCO


def test_the_work_list_has_one_row_per_suspect(store: Store, tmp_path: Path) -> None:
    export_for_relabel(store, flagged(store), tmp_path / "subset.json")
    with (tmp_path / "subset.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == list(WORK_LIST_FIELDS)
    assert {r["kind"] for r in rows} == {"wrong_class", "missing_label"}
    wrong = next(r for r in rows if r["kind"] == "wrong_class")
    assert (wrong["file_name"], wrong["note"], wrong["label_class"]) == (
        "a.jpg",
        "cat or dog?",
        "cat",
    )
    assert wrong["suggested_fix"] == "label 1 becomes dog"


# ---------------------------------------------------------------------- merge
def test_a_renumbered_subset_merges_by_file_name_and_class_name(
    store: Store, tmp_path: Path
) -> None:
    back, new_id = editor_round_trip(exported(store, tmp_path))
    anns = {a["id"]: a for a in back["annotations"]}
    anns[new_id[1]]["category_id"] = cat_id(back, "dog")  # the annotator fixes the class
    anns[new_id[5]]["bbox"] = [62, 112, 18, 18]  # reshapes a box
    back["annotations"].remove(anns[new_id[4]])  # deletes the duplicate
    back["annotations"].append({"id": 999, "image_id": back["images"][0]["id"], "iscrowd": 0,
                                "category_id": cat_id(back, "cat"), "bbox": [10, 100, 30, 30],
                                "segmentation": [], "area": 900})  # fmt: skip
    before_b = store.annotations_for_image(2)
    next_id = store.next_annotation_id()
    plan = project.merge_relabelled(store, write_json(tmp_path / "back.json", back))
    # labels 2 and 3 came back unchanged under new ids: they keep theirs; 5 was reshaped (it
    # overlaps its old box with IoU 0.81: changed, its id kept); 1 took another class and 4 is
    # gone, so (the editor's ids saying nothing) 1 and 4 are deleted and 2 labels added
    assert plan.totals() == {"deleted": 2, "added": 2, "changed": 1}
    labels = store.annotations_for_image(1)
    assert sorted(a["id"] for a in labels) == [2, 3, 5, *range(next_id, next_id + 2)]
    shapes = sorted((a["category_id"], a["bbox"]) for a in labels)
    assert shapes == sorted([(2, [10, 10, 40, 40]), (1, [100, 10, 40, 40]),
                             (1, [150, 100, 30, 30]), (1, [62, 112, 18, 18]),
                             (1, [10, 100, 30, 30])])  # fmt: skip
    assert store.annotations_for_image(2) == before_b  # not in the subset: untouched


def test_ids_the_editor_kept_stay_and_unchanged_labels_are_not_touched(
    store: Store, tmp_path: Path
) -> None:
    subset = exported(store, tmp_path)  # not renumbered: the editor kept the project's ids
    for ann in subset["annotations"]:
        ann["bbox"] = [v + 0.008 for v in ann["bbox"]]  # float noise below 0.01 px
        if ann["id"] == 1:
            ann["category_id"] = 2
    revisions = {a["id"]: a["revision"] for a in store.annotations_for_image(1)}
    plan = project.merge_relabelled(store, write_json(tmp_path / "back.json", subset))
    assert plan.totals() == {"deleted": 0, "added": 0, "changed": 1}
    after = {a["id"]: a for a in store.annotations_for_image(1)}
    assert after[1]["category_id"] == 2 and after[1]["extra"] == {"note": "kept 1"}
    assert {i: a["revision"] for i, a in after.items() if i != 1} == {
        i: r for i, r in revisions.items() if i != 1
    }


def test_a_subset_id_of_another_images_label_gets_a_new_id(store: Store, tmp_path: Path) -> None:
    subset = exported(store, tmp_path)
    subset["annotations"][0]["id"] = 6  # label 6 exists, but on b.jpg
    subset["annotations"][0]["bbox"] = [11, 10, 40, 40]
    project.merge_relabelled(store, write_json(tmp_path / "back.json", subset))
    assert store.annotation(6)["image_id"] == 2
    assert store.annotation(6)["bbox"] == [10, 10, 20, 20]
    assert store.annotation(1)["bbox"] == [11, 10, 40, 40]  # label 1 moved by 1 px


def test_label_studio_names_zero_ids_and_missing_sizes_merge(store: Store, tmp_path: Path) -> None:
    back, new_id = editor_round_trip(exported(store, tmp_path), label_studio=True)
    assert back["images"][0]["file_name"] == "images/1a2b3c4d-a.jpg"
    anns = {a["id"]: a for a in back["annotations"]}
    anns[new_id[5]]["bbox"] = [62, 112, 18, 18]  # the annotator reshapes a box
    plan = project.merge_relabelled(store, write_json(tmp_path / "back.json", back))
    assert [c.file_name for c in plan.changes] == ["a.jpg"]
    assert plan.totals() == {"deleted": 0, "added": 0, "changed": 1}
    labels = store.annotations_for_image(1)
    assert sorted((a["category_id"], a["bbox"]) for a in labels) == sorted(
        (cat, [62, 112, 18, 18] if i == 5 else box)
        for i, image, cat, box, _p in LABELS
        if image == 1
    )


def test_unchanged_labels_keep_their_ids_and_keys_when_the_editor_renumbers(
    store: Store, tmp_path: Path
) -> None:
    """CVAT and Label Studio give every label a new id: a label that comes back with its class,
    crowd flag and shape unchanged is still the project's label (same id, revision, unknown
    keys), so a merge of one reshaped label on a 5-label image reads "1 changed" (the reshaped
    one overlaps its old shape), not "5 added, 5 deleted", and the export keeps the ids."""
    back, new_id = editor_round_trip(exported(store, tmp_path))
    anns = {a["id"]: a for a in back["annotations"]}
    anns[new_id[2]]["segmentation"] = [[100, 10, 141, 10, 141, 50, 100, 50]]  # one vertex moved
    back["annotations"].reverse()  # the editor's own order
    before = {a["id"]: a for a in store.annotations_for_image(1)}
    plan = project.merge_relabelled(store, write_json(tmp_path / "back.json", back))
    assert plan.totals() == {"deleted": 0, "added": 0, "changed": 1}
    after = {a["id"]: a for a in store.annotations_for_image(1)}
    assert set(after) == {1, 2, 3, 4, 5}
    for i in (1, 3, 4, 5):
        assert after[i]["revision"] == before[i]["revision"]
    for i in after:
        assert after[i]["extra"] == {"note": f"kept {i}"}
    assert after[2]["segmentation"] == [[100, 10, 141, 10, 141, 50, 100, 50]]


def test_a_project_label_is_kept_once_when_two_subset_labels_equal_it(
    store: Store, tmp_path: Path
) -> None:
    back, new_id = editor_round_trip(exported(store, tmp_path))
    anns = {a["id"]: a for a in back["annotations"]}
    anns[new_id[4]]["bbox"] = list(anns[new_id[3]]["bbox"])  # 3 and 4 now the same box
    plan = project.merge_relabelled(store, write_json(tmp_path / "back.json", back))
    assert plan.totals() == {"deleted": 0, "added": 0, "changed": 1}  # 3 kept, 4 moved onto it
    ids = sorted(a["id"] for a in store.annotations_for_image(1))
    assert ids == [1, 2, 3, 4, 5]


def test_a_mismatching_subset_is_refused_with_every_reason(store: Store, tmp_path: Path) -> None:
    back, _ = editor_round_trip(exported(store, tmp_path))
    back["images"].append({"id": 7, "file_name": "zebra.jpg", "width": 10, "height": 10})
    back["images"].append({"id": 8, "file_name": "b.jpg", "width": 99, "height": 80})
    back["categories"].append({"id": 9, "name": "sofa"})
    back["categories"].append({"id": 10, "name": "lamp"})  # unused: only a warning
    back["annotations"][0]["category_id"] = 9
    log = len(store.change_log())
    with pytest.raises(RelabelError) as caught:
        project.merge_relabelled(store, write_json(tmp_path / "back.json", back))
    text = str(caught.value)
    assert f"{tmp_path / 'back.json'}: the subset does not match the project (3 problem(s))" in text
    assert "images[1] (id 7) 'zebra.jpg': no image of that file name in the project" in text
    assert "images[2] (id 8) 'b.jpg': 99x80 in the subset, 100x80 in the project" in text
    assert "categories[2] (id 9) 'sofa': no class of that name in the project (used by 1" in text
    assert "lamp" not in text
    assert len(store.change_log()) == log  # nothing written


def test_an_ambiguous_or_repeated_image_is_refused(store: Store, tmp_path: Path) -> None:
    subset = exported(store, tmp_path)
    subset["images"].append(dict(subset["images"][0], id=50))
    same = r"images\[1\] \(id 50\) 'a.jpg': the same project image as images\[0\]"
    with pytest.raises(RelabelError, match=same):
        plan_merge(store, write_json(tmp_path / "back.json", subset))


def test_an_invalid_subset_is_a_coco_error_naming_the_record(store: Store, tmp_path: Path) -> None:
    subset = exported(store, tmp_path)
    subset["annotations"][0]["bbox"] = [1, 2, 3]
    with pytest.raises(CocoError, match=r"annotations\[0\] \(id 1\)\.bbox"):
        plan_merge(store, write_json(tmp_path / "back.json", subset))


def test_each_image_is_one_undoable_relabelled_edit(store: Store, tmp_path: Path) -> None:
    subset = exported(store, tmp_path)
    subset["images"].append({"id": 2, "file_name": "b.jpg", "width": 100, "height": 80})
    for ann in subset["annotations"]:
        ann["bbox"] = [v + 1 for v in ann["bbox"]]
        ann["segmentation"] = []
    subset["annotations"].append({"id": 6, "image_id": 2, "category_id": 1, "bbox": [5, 5, 9, 9],
                                  "iscrowd": 0, "segmentation": [], "area": 81})  # fmt: skip
    before = {i: store.annotations_for_image(i) for i in (1, 2)}
    seq = store.last_change()
    plan = plan_merge(store, write_json(tmp_path / "back.json", subset))
    edit = plan.edit()
    edit.apply(store)
    entries = store.change_log(after_seq=seq)
    assert {e["action"] for e in entries} == {RELABELLED}
    by_edit: dict[str, set[int]] = {}
    for e in entries:
        by_edit.setdefault(e["edit_id"], set()).add(e["image_id"])
    assert sorted(by_edit.values(), key=min) == [{1}, {2}]  # one edit per image
    edit.revert(store)
    strip = lambda labels: [{k: v for k, v in a.items() if k != "revision"} for a in labels]  # noqa: E731
    assert {i: strip(store.annotations_for_image(i)) for i in (1, 2)} == {
        i: strip(before[i]) for i in (1, 2)
    }


def test_merged_images_are_re_analysed(store: Store, tmp_path: Path) -> None:
    subset = exported(store, tmp_path)
    subset["annotations"].append({"id": 77, "image_id": 1, "category_id": 1, "iscrowd": 0,
                                  "bbox": [10, 100, 30, 30], "segmentation": []})  # fmt: skip
    missing = suspect(store, "missing_label")["key"]
    index = SuspectIndex.load(store)
    assert index.positions_of([missing]).size == 1
    project.merge_relabelled(store, write_json(tmp_path / "back.json", subset))
    index = SuspectIndex.load(store)
    open_keys = {
        index.key(int(r)) for r in index.query(SuspectFilter(statuses=frozenset({"open"})))
    }
    assert not any(k.startswith("missing_label:") for k in open_keys)  # the new label explains it


def test_an_unchanged_subset_changes_nothing(store: Store, tmp_path: Path) -> None:
    seq = store.last_change()
    plan = project.merge_relabelled(
        store, write_json(tmp_path / "back.json", exported(store, tmp_path))
    )
    assert plan.changes == [] and plan.unchanged == 1
    assert store.last_change() == seq


def test_the_merge_summary_says_what_is_counted(store: Store, tmp_path: Path) -> None:
    """'0 unchanged' after the label counts read as labels: it counts images; one label is
    'label', not 'labels'."""
    subset = exported(store, tmp_path)
    subset["annotations"][0]["category_id"] = cat_id(subset, "dog")  # was a cat
    plan = project.merge_relabelled(store, write_json(tmp_path / "back.json", subset))
    assert plan.summary() == (
        "merge back.json: 1 image relabelled (1 label changed, 0 added, 0 deleted), "
        "0 images unchanged"
    )


# ---------------------------------------------------------------------- the whole round trip
def test_round_trip_export_edit_elsewhere_merge_export_coco(store: Store, tmp_path: Path) -> None:
    back, new_id = editor_round_trip(exported(store, tmp_path))
    anns = {a["id"]: a for a in back["annotations"]}
    anns[new_id[1]]["category_id"] = cat_id(back, "dog")
    back["annotations"].remove(anns[new_id[4]])
    back["annotations"].append({"id": 1, "image_id": back["images"][0]["id"], "iscrowd": 0,
                                "category_id": cat_id(back, "cat"), "bbox": [10, 100, 30, 30],
                                "segmentation": [], "area": 900})  # fmt: skip
    project.merge_relabelled(store, write_json(tmp_path / "back.json", back))
    export_coco(store, tmp_path / "out.json")
    out = read_ground_truth(tmp_path / "out.json")
    by_image: dict[int, list] = {}
    for a in out.annotations:
        by_image.setdefault(a["image_id"], []).append((a["category_id"], a["bbox"]))
    assert sorted(by_image[1]) == sorted([(2, [10, 10, 40, 40]), (1, [100, 10, 40, 40]),
                                          (1, [150, 100, 30, 30]), (1, [60, 110, 20, 20]),
                                          (1, [10, 100, 30, 30])])  # fmt: skip
    assert by_image[2] == [(2, [10, 10, 20, 20])]
    ids = [a["id"] for a in out.annotations]
    assert len(ids) == len(set(ids))
    polygon = next(a for a in out.annotations if a["bbox"] == [100, 10, 40, 40])
    assert polygon["segmentation"] == [[100, 10, 140, 10, 140, 50, 100, 50]]
    assert [im["file_name"] for im in out.images] == ["a.jpg", "b.jpg"]


def test_the_change_log_has_a_relabelled_row_per_label_and_a_command_per_image(
    store: Store, tmp_path: Path
) -> None:
    from labelfix.core.change_log import change_rows, to_csv

    subset = exported(store, tmp_path)
    subset["annotations"] = [a for a in subset["annotations"] if a["id"] != 4]
    subset["annotations"][0]["bbox"] = [12, 10, 40, 40]
    project.merge_relabelled(store, write_json(tmp_path / "back.json", subset))
    rows = [r for r in change_rows(store) if r["action"] == RELABELLED]
    assert sorted((r["label_id"], r["after_bbox"] is None) for r in rows) == [(1, False), (4, True)]
    assert {r["command"] for r in rows} == {rows[0]["command"]}
    assert {r["note"] for r in rows} == {"relabelled in back.json"}
    assert all(r["reason"] == RELABELLED and r["file_name"] == "a.jpg" for r in rows)
    assert "[12.0,10.0,40.0,40.0]" in to_csv(rows)


def test_a_label_changed_after_planning_is_a_conflict_and_nothing_is_written(
    store: Store, tmp_path: Path
) -> None:
    from labelfix.core.edits import ConflictError, SetCategory

    subset = exported(store, tmp_path)
    subset["annotations"] = [a for a in subset["annotations"] if a["id"] != 5]
    plan = plan_merge(store, write_json(tmp_path / "back.json", subset))
    SetCategory(5, 2, reason="manual").apply(store)  # someone changes label 5 meanwhile
    seq = store.last_change()
    with pytest.raises(ConflictError, match="label 5 was changed"):
        plan.edit().apply(store)
    assert store.last_change() == seq and store.annotation(5)["category_id"] == 2


def test_undoing_a_merge_refuses_when_a_relabelled_label_changed_since(
    store: Store, tmp_path: Path
) -> None:
    from labelfix.core.edits import ConflictError, SetGeometry

    subset = exported(store, tmp_path)
    subset["annotations"][0]["category_id"] = 2  # label 1 becomes a dog
    edit = plan_merge(store, write_json(tmp_path / "back.json", subset)).edit()
    edit.apply(store)
    SetGeometry(1, bbox=[11, 10, 40, 40], reason="manual").apply(store)  # then it is nudged
    with pytest.raises(ConflictError):
        edit.revert(store)
    assert store.annotation(1)["category_id"] == 2


def test_cvat_numbering_from_one_does_not_move_ids_between_objects(
    store: Store, tmp_path: Path
) -> None:
    """CVAT numbers a task's labels 1, 2, ... on export. Where the project's ids are small too,
    those numbers hit the image's own ids: after the annotator deleted label 1, the label
    numbered 1 is the project's label 2, unchanged. It stays label 2 (its keys too), and only
    label 1 is deleted; before, labels 1-4 each took the next one's shape (4 changed)."""
    back, _ = editor_round_trip(exported(store, tmp_path))
    image_a = next(i["id"] for i in back["images"] if i["file_name"] == "a.jpg")
    ordered = sorted(back["annotations"], key=lambda a: a["id"])
    kept = [a for a in ordered if not (a["image_id"] == image_a and a is ordered[0])]
    for number, ann in enumerate(kept, start=1):
        ann["id"] = number
    back["annotations"] = kept
    before = {a["id"]: a for a in store.annotations_for_image(1)}
    plan = project.merge_relabelled(store, write_json(tmp_path / "back.json", back))
    assert plan.totals() == {"deleted": 1, "added": 0, "changed": 0}
    after = {a["id"]: a for a in store.annotations_for_image(1)}
    assert set(after) == {2, 3, 4, 5}
    for i in after:
        assert after[i]["revision"] == before[i]["revision"]
        assert after[i]["extra"] == {"note": f"kept {i}"}


def test_a_polygon_fix_is_named_as_an_outline_not_a_box(tmp_path: Path) -> None:
    """Accepting an inaccurate_label on a polygon label gives it a polygon (from a mask
    prediction: the mask's outline); the subset carries that polygon and the work list says
    the label takes an outline, where it said "takes the box" as if the label became a box."""
    store = build(tmp_path)
    try:
        decide(store, [suspect(store, "inaccurate_label")], "flagged", "outline?").apply(store)
        out = tmp_path / "subset.json"
        export_for_relabel(store, flagged(store), out)
        subset = json.loads(out.read_text())
        [record] = subset["images"][0][SUBSET_KEY]["suspects"]
        fix = record["suggested_fix"]
        assert fix["action"] == "set_geometry" and len(fix["segmentation"][0]) == 8
        with out.with_suffix(".csv").open(newline="") as f:
            [row] = list(csv.DictReader(f))
        assert row["suggested_fix"].startswith("label 2 takes an outline of 4 points in [")
    finally:
        store.close()


def test_a_crowd_region_the_subset_lacks_is_named_before_it_is_deleted(
    store: Store, tmp_path: Path
) -> None:
    """Label Studio's converter drops crowd (RLE) labels: a subset sent there comes back
    without them, and the merge deletes them. The plan's warnings (shown in the app's
    confirmation and by the CLI) now name each crowd region about to go, where before the only
    trace was one more label in "2 labels deleted"."""
    from labelfix.core.edits import AddLabel

    image = store.image(1)
    h, w = image["height"], image["width"]
    counts = [150, 20] + [h - 20, 20] * 39 + [h * w - 170 - 39 * h]  # a 40 x 20 block
    crowd = {"id": store.next_annotation_id(), "image_id": 1, "category_id": 1, "iscrowd": 1,
             "bbox": [0, 150, 40, 20], "area": 800.0,
             "segmentation": {"size": [h, w], "counts": counts}}  # fmt: skip
    AddLabel(crowd).apply(store)
    back, _ = editor_round_trip(exported(store, tmp_path), label_studio=True)
    back["annotations"] = [a for a in back["annotations"] if not a["iscrowd"]]
    plan = plan_merge(store, write_json(tmp_path / "back.json", back))
    assert plan.totals()["deleted"] == 1
    [warning] = [w for w in plan.warnings if "crowd" in w]
    assert f"label {crowd['id']}" in warning and "a.jpg" in warning


def test_a_redrawn_label_keeps_its_id_when_the_editor_renumbers(
    store: Store, tmp_path: Path
) -> None:
    """The walk: label 487807 flagged, its outline redrawn in CVAT (which renumbers every
    label) came back as "1 added, 1 deleted": the flagged label was gone, its keys lost. A
    label of the same class and crowd flag overlapping a remaining project label of its image
    with mask IoU >= 0.1 (an inaccurate label's redraw can overlap it that little) is that
    label, changed (best overlaps first)."""
    back, new_id = editor_round_trip(exported(store, tmp_path))
    anns = {a["id"]: a for a in back["annotations"]}
    anns[new_id[2]]["segmentation"] = [[118, 10, 160, 10, 160, 50, 118, 50]]  # IoU 0.36
    anns[new_id[5]]["bbox"] = [62, 112, 18, 18]  # a box reshaped
    before = {a["id"]: a for a in store.annotations_for_image(1)}
    plan = project.merge_relabelled(store, write_json(tmp_path / "back.json", back))
    assert plan.totals() == {"deleted": 0, "added": 0, "changed": 2}
    after = {a["id"]: a for a in store.annotations_for_image(1)}
    assert set(after) == set(before)
    assert after[2]["segmentation"] == [[118, 10, 160, 10, 160, 50, 118, 50]]
    assert after[5]["bbox"] == [62, 112, 18, 18]
    assert after[2]["extra"] == {"note": "kept 2"} and after[5]["extra"] == {"note": "kept 5"}


def _with_rectangle_twins(back: dict) -> dict:
    """What Label Studio gives back for a converted subset: label-studio-converter's import
    makes each polygon label a polygon and a rectangle region, and its COCO export writes each
    region as a label (the rectangle: ``segmentation`` [], its box)."""
    twins = [
        {**a, "id": 1000 + a["id"], "segmentation": [], "area": a["bbox"][2] * a["bbox"][3]}
        for a in back["annotations"]
        if a["segmentation"]
    ]
    back["annotations"] += twins
    return back


def test_label_studio_rectangle_twins_of_polygons_are_not_new_labels(
    store: Store, tmp_path: Path
) -> None:
    """The walk: an unedited Label Studio round trip of a 33-label image merged as "33 added"
    (a rectangle beside each polygon). A box-only label over a polygon label of its class
    (box IoU >= 0.5 with the polygon's box) is that polygon's rectangle, not a label."""
    back, new_id = editor_round_trip(exported(store, tmp_path), label_studio=True)
    plan = plan_merge(store, write_json(tmp_path / "same.json", _with_rectangle_twins(back)))
    assert plan.totals() == {"deleted": 0, "added": 0, "changed": 0}
    back, new_id = editor_round_trip(exported(store, tmp_path), label_studio=True)
    anns = {a["id"]: a for a in back["annotations"]}
    anns[new_id[2]]["segmentation"] = [[102, 12, 140, 10, 140, 50, 100, 50]]  # polygon edited
    plan = project.merge_relabelled(
        store, write_json(tmp_path / "back.json", _with_rectangle_twins(back))
    )
    assert plan.totals() == {"deleted": 0, "added": 0, "changed": 1}
    assert store.annotation(2)["segmentation"] == [[102, 12, 140, 10, 140, 50, 100, 50]]


def test_label_studio_keeping_only_the_first_part_of_a_polygon_changes_nothing(
    store: Store, tmp_path: Path
) -> None:
    """label-studio-converter reads only the first part of a multi-part polygon (52 of the 789
    real81 polygons, on 32 of 81 images), and its rectangle is the whole label's box. An
    unedited round trip cut those labels to their first part and added their rectangles as
    labels; a polygon equal to a project label's first part is that label, unchanged."""
    from labelfix.core.edits import SetGeometry

    two = [[100, 10, 140, 10, 140, 50, 100, 50], [150, 10, 170, 10, 170, 30]]
    SetGeometry(2, segmentation=two, reason="manual").apply(store)
    back, _ = editor_round_trip(exported(store, tmp_path), label_studio=True)
    for ann in back["annotations"]:
        if ann["segmentation"]:
            ann["segmentation"] = ann["segmentation"][:1]  # what Label Studio keeps
    plan = plan_merge(store, write_json(tmp_path / "back.json", _with_rectangle_twins(back)))
    assert plan.totals() == {"deleted": 0, "added": 0, "changed": 0}


def test_the_export_says_which_labels_label_studio_cannot_take(
    store: Store, tmp_path: Path
) -> None:
    """label-studio-converter stops at a crowd label (KeyError: 0) and keeps only a polygon's
    first part; the walk's export said only "wrote 1 image(s) with 34 labels". The export now
    counts both and says where to send such a subset."""
    from labelfix.core.edits import AddLabel, SetGeometry

    SetGeometry(2, segmentation=[[100, 10, 140, 10, 140, 50], [150, 10, 170, 10, 170, 30]],
                reason="manual").apply(store)  # fmt: skip
    h, w = store.image(1)["height"], store.image(1)["width"]
    AddLabel({"id": store.next_annotation_id(), "image_id": 1, "category_id": 1, "iscrowd": 1,
              "bbox": [0, 0, 1, 1], "area": 1.0,
              "segmentation": {"size": [h, w], "counts": [0, 1, h * w - 1]}}).apply(store)  # fmt: skip
    done = export_for_relabel(store, flagged(store), tmp_path / "subset.json")
    assert (done.crowd, done.multipart) == (1, 1)
    assert "1 crowd (RLE) label" in done.note() and "1 multi-part polygon" in done.note()
    assert "CVAT" in done.note()
    (tmp_path / "clean").mkdir()
    store_clean = build(tmp_path / "clean")
    try:
        decide(store_clean, [suspect(store_clean, "wrong_class")], "flagged", "").apply(store_clean)
        assert (
            export_for_relabel(store_clean, flagged(store_clean), tmp_path / "s2.json").note() == ""
        )
    finally:
        store_clean.close()
