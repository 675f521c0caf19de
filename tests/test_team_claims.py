"""Claims hand out objects, not single suspects: the suspects that concern one object (one
group: a wrong class and an inaccurate box of the same label) go to one reviewer together, so
the window's one-row-per-object list shows every claim its reviewer holds, and two reviewers
never decide alternatives of the same label at once. Both backends."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from labelfix.core import analyze as az
from labelfix.core.coco import read_ground_truth, read_predictions
from labelfix.core.store import Store
from labelfix.core.suspects import SuspectIndex

from backends import drop, location
from helpers import tiny_dataset, tiny_predictions, write_json

# a car box beside label 11 (car): an inaccurate_label on the label that the person box on it
# already calls a wrong_class, so label 11 has two suspects in one group
BESIDE_11 = {"image_id": 1, "category_id": 3, "bbox": [56.0, 20.0, 20.0, 20.0], "score": 0.8}
OBJECT_11 = ["inaccurate_label:11:5", "wrong_class:11:3"]


@pytest.fixture
def team(tmp_path: Path, backend: str) -> tuple[Store, Store]:
    """A project whose label 11 has two suspects (one object), opened by alice and bob."""
    at = location(backend, tmp_path)
    with Store.create(at) as s:
        gt = write_json(tmp_path / "g.json", tiny_dataset())
        s.import_ground_truth(read_ground_truth(gt), None)
        preds = write_json(tmp_path / "p.json", [*tiny_predictions(), BESIDE_11])
        s.add_predictions(read_predictions(preds, s.image_sizes(), set(s.category_names())), "m")
        az.analyze(s)
        index = SuspectIndex.load(s)
        group = {index.key(p): int(index.group[p]) for p in range(len(index))}
        assert group[OBJECT_11[0]] == group[OBJECT_11[1]] != group["missing_label::2"]
    alice = Store.open(at, reviewer="alice")
    bob = Store.open(at, reviewer="bob")
    yield alice, bob
    alice.close()
    bob.close()
    drop(at)


def test_a_claim_takes_every_open_suspect_of_an_object(team: tuple[Store, Store]) -> None:
    alice, bob = team
    set_id = alice.active_set_id()
    assert alice.claim_suspects(set_id, 1) == ["missing_label::2"]  # the best object
    assert sorted(bob.claim_suspects(set_id, 1)) == OBJECT_11  # the next object, whole
    assert bob.my_claims(set_id) == OBJECT_11
    assert alice.claim_suspects(set_id, 5) == []  # nothing of label 11 is left to alice


def test_an_object_partly_claimed_or_decided_is_not_split(team: tuple[Store, Store]) -> None:
    from labelfix.core import edits

    alice, bob = team
    set_id = alice.active_set_id()
    edits.SetDecision(set_id, OBJECT_11[1], "rejected").apply(alice)
    assert sorted(bob.claim_suspects(set_id, 5)) == ["inaccurate_label:11:5", "missing_label::2"]
    assert alice.claim_suspects(set_id, 5) == []


def test_a_claim_by_kind_takes_the_object_of_a_suspect_of_that_kind(
    team: tuple[Store, Store],
) -> None:
    alice, bob = team
    set_id = alice.active_set_id()
    assert sorted(alice.claim_suspects(set_id, 5, kinds=["inaccurate_label"])) == OBJECT_11
    assert bob.claim_suspects(set_id, 5) == ["missing_label::2"]


def test_the_command_line_leaves_others_claims_alone(team: tuple[Store, Store]) -> None:
    """The window refuses to decide a suspect another reviewer holds; ``labelfix apply`` from
    a terminal (carol, a third reviewer) did decide it."""
    import subprocess
    import sys

    alice, _bob = team
    set_id = alice.active_set_id()
    assert alice.claim_suspects(set_id, 1) == ["missing_label::2"]
    where = alice.team.display() if alice.team is not None else str(alice.path)
    r = subprocess.run(
        [sys.executable, "-m", "labelfix", "apply", where, "--reject", "--min-confidence", "0"]
        + ["--reviewer", "carol"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ},
    )
    assert r.returncode == 0, r.stderr
    assert "left 1 suspect(s) claimed by other reviewers alone (alice 1)" in r.stderr
    assert alice.decision(set_id, "missing_label::2") is None
    assert alice.decision(set_id, "wrong_class:11:3")["decision"] == "rejected"  # not held


def _many_objects(tmp_path: Path, at: str) -> None:
    """60 images, 3 labels each; on each label a box of another class (a wrong_class) and a
    shifted box of its class (an inaccurate_label): 180 objects of two suspects."""
    images, labels, preds = [], [], []
    for i in range(1, 61):
        images.append({"id": i, "file_name": f"{i}.jpg", "width": 400, "height": 300})
        for j in range(3):
            x, y = 20.0 + 120 * j, 40.0 + i
            labels.append(
                {
                    "id": 10 * i + j,
                    "image_id": i,
                    "category_id": 1,
                    "iscrowd": 0,
                    "bbox": [x, y, 80.0, 80.0],
                    "area": 6400.0,
                }
            )
            score = 0.5 + 0.004 * i + 0.001 * j
            preds.append(
                {"image_id": i, "category_id": 2, "bbox": [x, y, 80.0, 80.0], "score": score}
            )
            preds.append(
                {
                    "image_id": i,
                    "category_id": 1,
                    "bbox": [x + 30, y, 80.0, 80.0],
                    "score": score - 0.1,
                }
            )
    gt = {
        "images": images,
        "annotations": labels,
        "categories": [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"}],
    }
    with Store.create(at) as s:
        s.import_ground_truth(read_ground_truth(write_json(tmp_path / "g.json", gt)), None)
        found = read_predictions(
            write_json(tmp_path / "p.json", preds), s.image_sizes(), set(s.category_names())
        )
        s.add_predictions(found, "m")
        az.analyze(s)


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_sessions_claiming_at_once_each_get_whole_objects(tmp_path: Path, backend: str) -> None:
    """Three reviewers press Claim at the same moment, eight times: each gets its ten objects
    (none comes back empty-handed because the others' claims landed while it read), and no
    object is split between them."""
    import threading

    at = location(backend, tmp_path)
    try:
        _many_objects(tmp_path, at)
        stores = [Store.open(at, reviewer=name) for name in ("alice", "bob", "carol")]
        index = SuspectIndex.load(stores[0])
        group = {index.key(p): int(index.group[p]) for p in range(len(index))}
        assert len(set(group.values())) < len(group)  # objects of several suspects
        set_id = stores[0].active_set_id()
        for _round in range(8):
            got: list[list[str]] = [[] for _ in stores]
            start = threading.Barrier(len(stores))

            def claim(i: int, got: list[list[str]] = got, start: threading.Barrier = start) -> None:
                start.wait()
                got[i] = stores[i].claim_suspects(set_id, 10)

            threads = [threading.Thread(target=claim, args=(i,)) for i in range(len(stores))]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            owner: dict[int, int] = {}
            for i, keys in enumerate(got):
                assert len({group[k] for k in keys}) == 10, (i, keys)
                for k in keys:
                    assert owner.setdefault(group[k], i) == i  # one object, one reviewer
            for s in stores:
                s.release_claims(set_id)
        for s in stores:
            s.close()
    finally:
        drop(at)
