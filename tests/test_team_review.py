"""Working together on one project, on both backends: reviewers in the change log, edits of a
label someone else changed refused (who, when, the fresh state), undo only of one's own change,
claims that never overlap, the change feed, the lead's counts."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from labelfix.core import analyze as az
from labelfix.core import edits
from labelfix.core.coco import read_ground_truth, read_predictions
from labelfix.core.redecide import redecide
from labelfix.core.review import decide
from labelfix.core.store import ConflictError, Store
from labelfix.core.suspects import SuspectFilter, SuspectIndex

from backends import drop, location, where
from helpers import tiny_dataset, tiny_predictions, write_json

# when a conflict message says the other change was made: local time to the second, with the
# date only on another day (never the stored ISO UTC stamp with milliseconds)
AT = r"(\d{4}-\d\d-\d\d )?\d\d:\d\d:\d\d"


def _analysed(at: str, tmp_path: Path) -> None:
    with Store.create(at) as s:
        s.import_ground_truth(
            read_ground_truth(write_json(tmp_path / "g.json", tiny_dataset())), None
        )
        preds = write_json(tmp_path / "p.json", tiny_predictions())
        s.add_predictions(read_predictions(preds, s.image_sizes(), set(s.category_names())), "m")
        az.analyze(s)


@pytest.fixture
def team(tmp_path: Path, backend: str) -> tuple[Store, Store]:
    """One analysed project opened twice: alice's store and bob's (two sessions)."""
    at = location(backend, tmp_path)
    _analysed(at, tmp_path)
    alice = Store.open(at, reviewer="alice")
    bob = Store.open(at, reviewer="bob")
    yield alice, bob
    alice.close()
    bob.close()
    drop(at)


def test_every_change_names_its_reviewer(team: tuple[Store, Store]) -> None:
    alice, bob = team
    set_id = alice.active_set_id()
    edits.SetCategory(10, 3).apply(alice)
    edits.SetDecision(set_id, "wrong_class:11:3", "rejected").apply(bob)
    log = alice.change_log()
    assert [(e["action"], e["reviewer"]) for e in log] == [
        ("set_category", "alice"),
        ("decision", "bob"),
    ]
    assert alice.decisions_by_reviewer(set_id, "bob")[0]["suspect_key"] == "wrong_class:11:3"


def test_an_edit_of_a_label_changed_since_it_was_read_is_refused(
    team: tuple[Store, Store],
) -> None:
    alice, bob = team
    seen = alice.annotation(10)  # alice looks at label 10
    edits.SetCategory(10, 7).apply(bob)  # bob changes it meanwhile
    stale = edits.SetGeometry(10, bbox=[1.0, 1.0, 5.0, 5.0], revision=seen["revision"])
    with pytest.raises(
        ConflictError, match=f"label 10 was changed by bob at {AT} after you"
    ) as err:
        stale.apply(alice)
    assert err.value.reviewer == "bob" and err.value.current["category_id"] == 7
    # a sentence: the window puts 'The table and canvas show it now.' after it
    assert str(err.value).endswith("nothing was changed: look at it again.")
    assert err.value.current["revision"] == seen["revision"] + 1  # the fresh state
    assert alice.annotation(10)["bbox"] == seen["bbox"]  # nothing changed
    # read again, the same edit goes through
    edits.SetGeometry(10, bbox=[1.0, 1.0, 5.0, 5.0], revision=err.value.current["revision"]).apply(
        alice
    )
    assert alice.annotation(10)["bbox"] == [1.0, 1.0, 5.0, 5.0]


def test_a_delete_of_a_label_changed_since_it_was_read_is_refused(
    team: tuple[Store, Store],
) -> None:
    alice, bob = team
    seen = alice.annotation(11)
    edits.SetCategory(11, 1).apply(bob)
    with pytest.raises(ConflictError, match="by bob"):
        edits.DeleteLabel(11, revision=seen["revision"]).apply(alice)
    assert alice.annotation(11) is not None


def test_undo_undoes_only_ones_own_edits(team: tuple[Store, Store]) -> None:
    alice, bob = team
    mine = edits.SetCategory(10, 3)
    mine.apply(alice)
    theirs = edits.SetCategory(10, 7)
    theirs.apply(bob)
    with pytest.raises(ConflictError, match=f"changed by bob at {AT} after your") as err:
        mine.revert(alice)  # would overwrite bob's later change
    assert err.value.current["category_id"] == 7 and alice.annotation(10)["category_id"] == 7
    theirs.revert(bob)  # bob's own: fine
    mine.revert(alice)  # now the last change is alice's again
    assert alice.annotation(10)["category_id"] == 1
    with pytest.raises(ConflictError, match="changed by alice"):
        theirs.apply(bob)  # bob's redo would overwrite alice's undo


def test_undo_of_a_decision_someone_else_changed_is_refused(team: tuple[Store, Store]) -> None:
    alice, bob = team
    set_id = alice.active_set_id()
    mine = edits.SetDecision(set_id, "missing_label::2", "flagged")
    mine.apply(alice)
    edits.SetDecision(set_id, "missing_label::2", "rejected").apply(bob)
    with pytest.raises(ConflictError, match="missing_label::2 was changed by bob") as err:
        mine.revert(alice)
    assert str(err.value).endswith("so nothing was changed.")
    assert alice.decision(set_id, "missing_label::2")["decision"] == "rejected"


def test_undoing_a_decision_over_someone_elses_gives_theirs_back_in_their_name(
    team: tuple[Store, Store],
) -> None:
    """Bob accepts, alice flags the same suspect, alice undoes her flag: the standing decision
    is bob's accept again, and the lead's counts say bob's, not alice's."""
    alice, bob = team
    set_id = alice.active_set_id()
    edits.SetDecision(set_id, "missing_label::2", "accepted").apply(bob)
    flag = edits.SetDecision(set_id, "missing_label::2", "flagged")
    flag.apply(alice)
    flag.revert(alice)
    assert [d["suspect_key"] for d in alice.decisions_by_reviewer(set_id, "bob")] == [
        "missing_label::2"
    ]
    assert alice.reviewer_counts(set_id)["bob"]["accepted"] == 1
    assert alice.reviewer_counts(set_id).get("alice", {}).get("decided", 0) == 0


def test_own_undo_and_redo_chains_keep_working(team: tuple[Store, Store]) -> None:
    alice, _ = team
    steps = [edits.SetCategory(10, 3), edits.SetCategory(10, 7), edits.DeleteLabel(10)]
    for step in steps:
        step.apply(alice)
    for step in reversed(steps):
        step.revert(alice)
    for step in steps:
        step.apply(alice)
    assert alice.annotation(10) is None


def test_accepting_a_missing_label_gives_ids_nobody_else_gets(team: tuple[Store, Store]) -> None:
    alice, bob = team
    idx = SuspectIndex.load(alice)
    row = next(
        idx.row(int(r))
        for r in idx.query(SuspectFilter())
        if idx.row(int(r))["kind"] == "missing_label"
    )
    edit_a = decide(alice, [dict(row, set_id=idx.set_id)], "accepted")
    edit_b = decide(bob, [dict(row, set_id=idx.set_id)], "accepted")  # both before either applies
    new_a, new_b = edit_a.edits[0].annotation["id"], edit_b.edits[0].annotation["id"]
    assert new_a != new_b
    edit_a.apply(alice)
    assert alice.annotation(new_a) is not None


def _open_missing_label(store: Store) -> dict:
    idx = SuspectIndex.load(store)
    row = next(
        idx.row(int(r))
        for r in idx.query(SuspectFilter())
        if idx.row(int(r))["kind"] == "missing_label"
    )
    assert row["status"] == "open"
    return dict(row, set_id=idx.set_id)


@pytest.mark.parametrize("second", ["accepted", "rejected", "flagged"])
def test_deciding_a_suspect_someone_decided_since_it_was_read_is_refused(
    team: tuple[Store, Store], second: str
) -> None:
    """Two reviewers press A on the same open missing_label: the second accept would add the
    label again (two identical labels, a duplicate the data never had); a reject or flag
    would mark the suspect rejected while the first reviewer's label stays. Refused, naming
    who decided it, nothing written."""
    alice, bob = team
    row = _open_missing_label(alice)  # both read it open
    before = len(bob.annotations_for_image(row["image_id"]))
    decide(alice, [row], "accepted").apply(alice)
    late = decide(bob, [row], second)
    with pytest.raises(
        ConflictError, match=f"{row['key']} was accepted by alice at {AT} after"
    ) as err:
        late.apply(bob)
    assert err.value.reviewer == "alice" and err.value.current["decision"] == "accepted"
    assert str(err.value).endswith("nothing was changed.")  # a sentence, as the window adds one
    assert len(bob.annotations_for_image(row["image_id"])) == before + 1  # one new label
    assert bob.decision(row["set_id"], row["key"])["decision"] == "accepted"
    assert [e["reviewer"] for e in bob.change_log()] == ["alice", "alice"]


def test_claims_never_overlap_and_expire(team: tuple[Store, Store]) -> None:
    alice, bob = team
    set_id = alice.active_set_id()
    first = alice.claim_suspects(set_id, 1)
    second = bob.claim_suspects(set_id, 5)
    assert len(first) == 1 and first[0] not in second and len(second) == 1
    assert bob.claim_suspects(set_id, 5) == []  # nothing open is left unclaimed
    claims = alice.claims(set_id)
    assert claims[first[0]]["reviewer"] == "alice" and claims[second[0]]["reviewer"] == "bob"
    assert alice.my_claims(set_id) == first
    assert alice.release_claims(set_id) == 1
    assert bob.claim_suspects(set_id, 5, seconds=0.2) == first  # released: free again
    time.sleep(0.5)
    assert alice.claim_suspects(set_id, 5) == first  # bob's short claim expired; his first holds


def test_decided_suspects_are_not_claimed(team: tuple[Store, Store]) -> None:
    alice, bob = team
    set_id = alice.active_set_id()
    edits.SetDecision(set_id, "missing_label::2", "rejected").apply(bob)
    assert alice.claim_suspects(set_id, 10) == ["wrong_class:11:3"]
    assert alice.claim_suspects(set_id, 10, kinds=["missing_label"]) == []


def test_the_change_feed_shows_others_changes_within_two_seconds(
    team: tuple[Store, Store],
) -> None:
    alice, bob = team
    set_id = alice.active_set_id()
    with alice.change_feed(poll_seconds=0.2) as feed:
        assert feed.poll(timeout=0.1) == []
        decided = threading.Timer(
            0.3, lambda: edits.SetDecision(set_id, "missing_label::2", "accepted").apply(bob)
        )
        t0 = time.monotonic()
        decided.start()
        entries = feed.poll(timeout=5.0)
        waited = time.monotonic() - t0
        decided.join()
        assert [(e["action"], e["reviewer"], e["suspect_key"]) for e in entries] == [
            ("decision", "bob", "missing_label::2")
        ]
        assert waited < 2.0
        assert feed.poll(timeout=0.1) == []  # each entry once
        assert entries[0]["session"] == bob.session != alice.session  # the window skips its own


def test_the_leads_counts_and_filter(team: tuple[Store, Store]) -> None:
    alice, bob = team
    set_id = alice.active_set_id()
    idx = SuspectIndex.load(alice)
    rows = {
        idx.row(int(r))["key"]: dict(idx.row(int(r)), set_id=set_id)
        for r in idx.query(SuspectFilter())
    }
    decide(alice, [rows["wrong_class:11:3"]], "accepted").apply(alice)
    decide(bob, [rows["missing_label::2"]], "rejected").apply(bob)
    counts = alice.reviewer_counts(set_id)
    assert counts["alice"] == {
        "accepted": 1,
        "rejected": 0,
        "flagged": 0,
        "decided": 1,
        "label_edits": 1,
    }
    assert counts["bob"] == {
        "accepted": 0,
        "rejected": 1,
        "flagged": 0,
        "decided": 1,
        "label_edits": 0,
    }
    assert [d["suspect_key"] for d in alice.decisions_by_reviewer(set_id, "bob")] == [
        "missing_label::2"
    ]


def test_a_reader_of_the_same_project_sees_the_reviewer(team: tuple[Store, Store]) -> None:
    alice, _ = team
    with Store.open(where(alice), readonly=True, reviewer="carol") as ro:
        assert ro.reviewer == "carol" and ro.session != alice.session


def test_a_location_never_shows_its_password() -> None:
    from labelfix.core.settings import project_images, set_project_images
    from labelfix.core.store import TeamLocation
    from labelfix.core.store.location import redact

    where = TeamLocation.parse(
        "postgresql://bob:s3cret@db:5433/labels?project=coco&sslmode=require"
    )
    assert where.url.startswith("postgresql://bob:s3cret@")  # libpq gets it
    for shown in (str(where), repr(where), where.display(), where.key()):
        assert "s3cret" not in shown
    assert where.key() == "postgresql://db:5433/labels?project=coco"
    assert "s3cret" not in redact("failed: postgresql://bob:s3cret@db/x?password=s3cret")
    set_project_images(where.key(), "/tmp")
    assert project_images(where.key()) == Path("/tmp").resolve()


def test_reviewer_name_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    from labelfix.core import settings

    monkeypatch.delenv("LABELFIX_REVIEWER", raising=False)
    monkeypatch.setattr(settings.getpass, "getuser", lambda: "os-user")
    assert settings.reviewer_name() == "os-user"
    settings.set_reviewer_name("from-settings")
    assert settings.reviewer_name() == "from-settings"
    monkeypatch.setenv("LABELFIX_REVIEWER", "from-env")
    assert settings.reviewer_name() == "from-env"
    assert settings.reviewer_name("from-flag") == "from-flag"


def test_an_edit_made_while_another_reviewer_exports_still_counts_as_unexported(
    team: tuple[Store, Store], tmp_path: Path
) -> None:
    """Alice exports while bob edits: bob's edit is not in her file, so the project must still
    say one edit since export (the window's close prompt and `info` read it)."""
    from labelfix.core.export import export_coco

    alice, bob = team
    edits.SetCategory(10, 3).apply(alice)
    export_coco(alice, tmp_path / "out.json", fail_after=lambda: edits.DeleteLabel(11).apply(bob))
    exported = read_ground_truth(tmp_path / "out.json")
    assert 11 in {a["id"] for a in exported.annotations}  # bob's delete came after the read
    assert bob.get_meta("edits_since_export") == 1


def test_a_pull_while_someone_accepts_copies_one_moment(tmp_path: Path) -> None:
    """Bob accepts a missing_label while alice pulls: the copy has either all of his edit or
    none of it (not his decision and change log without the label they name)."""
    from labelfix.core.project import pull_project

    at = location("postgresql", tmp_path)
    _analysed(at, tmp_path)
    try:
        with Store.open(at, reviewer="bob") as bob:
            row = _open_missing_label(bob)
            labels = len(list(bob.iter_annotations()))

            def bob_accepts(done: int, total: int) -> None:
                if done == 4:  # annotations copied, decisions and change log not yet
                    decide(bob, [row], "accepted").apply(bob)

            pull_project(at, tmp_path / "copy.labelfix", progress=bob_accepts)
            assert len(list(bob.iter_annotations())) == labels + 1
        with Store.open(tmp_path / "copy.labelfix") as copy:
            added = sum(e["action"] == "add_label" for e in copy.change_log())
            assert len(list(copy.iter_annotations())) == labels + added
            assert copy.decision(row["set_id"], row["key"]) is None or added == 1
    finally:
        drop(at)


# A re-decision is checked against the decision the reviewer saw, not the one stored when the
# key is pressed: another reviewer's re-decision that reached the project a moment earlier
# (before this window heard of it) was overwritten without a word.
def _missing_label(store: Store) -> dict:
    idx = SuspectIndex.load(store)
    rows = (idx.row(int(r)) for r in idx.query(SuspectFilter()))
    return dict(next(r for r in rows if r["kind"] == "missing_label"), set_id=idx.set_id)


@pytest.mark.parametrize(
    ("mine", "note"), [("accepted", None), ("rejected", None), ("flagged", "mine"), (None, None)]
)
def test_a_re_decision_over_one_made_since_it_was_read_is_refused(
    team: tuple[Store, Store],
    mine: str | None,
    note: str | None,
) -> None:
    alice, bob = team
    row = _missing_label(alice)
    decide(alice, [row], "rejected").apply(alice)
    shown = dict(row, status="rejected")  # both windows show it rejected
    redecide(bob, shown, "flagged", "look again").apply(bob)  # alice's has not heard yet
    labels = len(alice.annotations_for_image(row["image_id"]))
    with pytest.raises(ConflictError, match=f"{row['key']} was flagged by bob at {AT} after"):
        edit = redecide(alice, shown, mine, note)
        assert edit is not None
        edit.apply(alice)
    kept = alice.decision(row["set_id"], row["key"])
    assert (kept["decision"], kept["note"], kept["reviewer"]) == ("flagged", "look again", "bob")
    assert len(alice.annotations_for_image(row["image_id"])) == labels  # no fix applied
    assert [e["reviewer"] for e in alice.change_log()] == ["alice", "bob"]


def test_a_re_decision_on_what_was_read_goes_ahead(team: tuple[Store, Store]) -> None:
    alice, bob = team
    row = _missing_label(alice)
    decide(alice, [row], "rejected").apply(alice)
    redecide(bob, dict(row, status="rejected"), "flagged", "look again").apply(bob)
    redecide(alice, dict(row, status="flagged"), "accepted").apply(alice)  # she saw bob's flag
    assert alice.decision(row["set_id"], row["key"])["decision"] == "accepted"
