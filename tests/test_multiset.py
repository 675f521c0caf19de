"""Several prediction sets analysed together (issue 14): on the real data with two real
detectors (CenterNet and NanoDet), every suspect lists the sets that support it, a missing
label both find scores higher (noisy-or), a suspect on a label keeps its best set's score and
a suspect on a label the other set's true positive matches scores half (score version 12),
each set's scores weigh by its recall over the best set's (score version 13), the noisy-or
counts the sets by how dependent they are (score version 14), nothing any set found is lost,
and a
decision made on one set's analysis shows on the same object in the analysis of both (and the
other way round, with one undo for all). With one set nothing changes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from labelfix.core import analyze as az
from labelfix.core import consensus, project, result_rows
from labelfix.core.analysis_report import dependence_sentence, weight_sentence
from labelfix.core.cli_report import report_data
from labelfix.core.errors import SUSPECT_COLUMNS, AnalysisParams
from labelfix.core.review import decide
from labelfix.core.store import Store
from labelfix.core.suspects import SuspectFilter, SuspectIndex

from helpers import ROOT, shared_path, sql

NANODET = ROOT / "bench" / "data" / "nanodet_real81_bbox_results.json"
EVERY = SuspectFilter()


@pytest.fixture(scope="module")
def two_sets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real 81 images with CenterNet's (active) and NanoDet's predictions, each set
    analysed on its own and both together."""
    root = shared_path("coco_real81")
    out = tmp_path_factory.mktemp("two") / "two.labelfix"
    project.import_project(
        out,
        root / "annotations" / "instances_real81.json",
        root / "images",
        root / "predictions" / "centernet_bbox_results.json",
        "centernet",
    )
    with project.open_project(out) as store:
        project.add_predictions(store, NANODET, "nanodet", activate=False)
        project.analyze_project(store, set_name="centernet")
        project.analyze_project(store, set_name="nanodet")
        project.analyze_project(store, set_name="centernet,nanodet")
    return out


@pytest.fixture
def store(two_sets: Path, tmp_path: Path) -> Store:
    copy = tmp_path / "copy.labelfix"
    copy.write_bytes(two_sets.read_bytes())
    s = Store.open(copy)
    yield s
    s.close()


def test_the_analysis_of_both_is_reviewed_by_default(store: Store) -> None:
    ids = [s["id"] for s in store.prediction_sets()]
    assert store.active_sets() == ids == store.resolve_sets("all") == store.resolve_sets(None)
    assert store.current_analysis()["set_ids"] == ids
    assert store.current_analysis(ids[0])["set_ids"] == [ids[0]]  # each set's own stays
    index = SuspectIndex.load(store)
    assert index.multi and index.set_ids == ids
    assert sorted(set(index.prediction_set_id.tolist())) == ids


def test_every_suspect_lists_its_sets_and_more_support_scores_higher(store: Store) -> None:
    ids = store.resolve_sets("all")
    both = SuspectIndex.load(store)
    own = {i: SuspectIndex.load(store, i) for i in ids}
    own_rows = {
        i: {(own[i].key(p)): float(own[i].score[p]) for p in range(len(own[i]))} for i in ids
    }
    # what each set's true positives explain: its matched labels (score version 12)
    explained = {}
    for i in ids:
        m = az.matches(store, i)
        explained[i] = set(m["annotation_id"][m["outcome"] == 1].tolist())
    version = AnalysisParams().score_version
    # each set's reliability (score version 13): its recall over the best set's, from its fit
    analysis = store.current_analysis()["id"]
    recall = {}
    for i in ids:
        fit = store.detector_fit(analysis, i)
        recall[i] = sum(n for _, n in fit["tp_iou_counts"]) / sum(fit["label_counts"].values())
    weight = {i: r / max(recall.values()) for i, r in recall.items()}
    assert weight[ids[0]] == 1.0 and 0.5 < weight[ids[1]] < 0.9  # CenterNet finds more
    # how dependent the two detectors are (score version 14), as the analysis stored it
    rho = store.analysis_report(analysis)["dependence"]
    assert 0.05 < rho < 0.4  # two different detectors: mostly independent evidence
    effect = consensus.design_effect(len(ids), rho)
    supported = {i: 0 for i in ids}
    two = halved = 0
    for pos in range(len(both)):
        sets = both.supported_by(pos)
        assert 1 <= len(sets) <= 2 and len({s["set_id"] for s in sets}) == len(sets)
        for s in sets:  # each set's own analysis found it with that score
            assert own_rows[s["set_id"]][s["key"]] == pytest.approx(s["score"])
            supported[s["set_id"]] += 1
        scores = [s["score"] * weight[s["set_id"]] for s in sets]
        kind = int(both.kind[pos])
        combined = consensus.combined_score(
            kind,
            np.array(scores),
            np.array([s["prediction_id"] is not None for s in sets]),
            version,
            0,
            effect,
        )
        ann = both.row(pos)["annotation_id"]
        (other,) = set(ids) - {s["set_id"] for s in sets} or {None}
        if other is not None and kind in (1, 2, 4) and ann in explained[other]:
            # one set's suspect on a label the other set's true positive matches: disagreed
            assert both.score[pos] == pytest.approx(combined / 2)
            halved += 1
        elif kind != 0:
            assert both.score[pos] == pytest.approx(combined)
        else:  # a missing label: halved when the other set's true positive is at its box
            assert both.score[pos] in (pytest.approx(combined), pytest.approx(combined / 2))
        if len(sets) == 2:
            two += 1
            if kind == 0:  # two detectors finding one unlabelled object score higher than
                # the better one alone would (both counted as the effective number of sets)
                assert both.score[pos] > 1 - (1 - max(scores)) ** (1 / effect)
            else:  # the sets' scores of a label share its evidence: the best one counts
                assert both.score[pos] == pytest.approx(max(scores))
        # the row is its best set's (by weighed score): its prediction and set
        best = max(sets, key=lambda s: s["score"] * weight[s["set_id"]])
        assert both.row(pos)["prediction_id"] == best["prediction_id"]
    assert two > 100  # the detectors agree on many suspects
    assert halved > 100  # and disagree on many a label
    # nothing either set found is lost: every one of its suspects supports one merged suspect
    assert supported == {i: len(own[i]) for i in ids}


def test_missing_labels_of_the_same_object_merge_across_sets(store: Store) -> None:
    both = SuspectIndex.load(store)
    missing = np.flatnonzero((both.kind == 0) & (both.support_counts() == 2))
    assert len(missing) > 20
    for pos in missing[:50].tolist():
        a, b = both.supported_by(pos)
        boxes = [store.prediction(s["set_id"], s["prediction_id"])["bbox"] for s in (a, b)]
        x0, y0 = max(boxes[0][0], boxes[1][0]), max(boxes[0][1], boxes[1][1])
        x1 = min(boxes[0][0] + boxes[0][2], boxes[1][0] + boxes[1][2])
        y1 = min(boxes[0][1] + boxes[0][3], boxes[1][1] + boxes[1][3])
        inter = max(0, x1 - x0) * max(0, y1 - y0)
        union = boxes[0][2] * boxes[0][3] + boxes[1][2] * boxes[1][3] - inter
        assert inter / union >= consensus.SAME_BOX_IOU


def test_a_decision_on_one_set_shows_in_the_analysis_of_both(store: Store) -> None:
    centernet, nanodet = store.resolve_sets("all")
    own = SuspectIndex.load(store, centernet)
    both = SuspectIndex.load(store)
    shared = [p for p in range(len(both)) if both.support_counts()[p] == 2]
    target = both.supported_by(shared[0])
    key = next(s["key"] for s in target if s["set_id"] == centernet)
    (pos,) = own.positions_of([key])
    decide(store, [own.row(int(pos))], "rejected").apply(store)
    again = SuspectIndex.load(store)
    assert again.row(shared[0])["status"] == "rejected"
    assert again.counts_by_status()["rejected"] == 1


def test_a_decision_on_both_is_kept_for_each_set_and_undone_at_once(store: Store) -> None:
    centernet, nanodet = store.resolve_sets("all")
    both = SuspectIndex.load(store)
    pos = int(np.flatnonzero(both.support_counts() == 2)[0])
    row = both.row(pos)
    edit = decide(store, [row], "flagged", "check the pixels")
    edit.apply(store)
    for s in row["supported_by"]:
        assert store.decision(s["set_id"], s["key"])["decision"] == "flagged"
    nano = SuspectIndex.load(store, nanodet)
    key = next(s["key"] for s in row["supported_by"] if s["set_id"] == nanodet)
    assert nano.row(int(nano.positions_of([key])[0]))["status"] == "flagged"
    both.set_status([row["key"]], "flagged", row["set_id"])
    assert both.status[pos] == 3
    edit.revert(store)
    assert all(store.decision(s["set_id"], s["key"]) is None for s in row["supported_by"])
    assert SuspectIndex.load(store).counts_by_status()["flagged"] == 0


def test_a_decided_suspect_stays_when_the_analysis_no_longer_finds_it(store: Store) -> None:
    """Accepting a missing label both sets support: the re-analysis of its image no longer
    finds it (the prediction is a label now), the accepted row stays, with its support."""
    both = SuspectIndex.load(store)
    pos = int(np.flatnonzero((both.kind == 0) & (both.support_counts() == 2))[0])
    row = both.row(pos)
    edit = decide(store, [row], "accepted")
    edit.apply(store)
    az.reanalyze_images(store, edit.image_ids)
    both.reload_images(store, edit.image_ids)
    fresh = SuspectIndex.load(store)
    (at,) = fresh.positions_of_decisions([(row["set_id"], row["key"])])
    assert fresh.row(int(at))["status"] == "accepted"
    assert len(fresh.supported_by(int(at))) == 2
    # the incremental reload equals a full load, support and statuses included
    for name in ("ids", "score", "group", "group_rank", "prediction_set_id", "status"):
        np.testing.assert_array_equal(getattr(both, name), getattr(fresh, name), err_msg=name)
    for name, col in fresh.support.items():
        np.testing.assert_array_equal(both.support[name], col, err_msg=name)
    # a full analysis again keeps it too
    project.analyze_project(store, set_name="all")
    again = SuspectIndex.load(store)
    (at,) = again.positions_of_decisions([(row["set_id"], row["key"])])
    assert again.row(int(at))["status"] == "accepted"


def test_one_set_through_the_merge_is_unchanged(store: Store) -> None:
    """The several-sets path given one set keeps every row and score as they were."""
    centernet = store.resolve_sets("centernet")[0]
    inputs = az.read_inputs(store, centernet, AnalysisParams())
    result = az.compute(inputs)
    boxes = result_rows.prediction_boxes(
        inputs.predictions["id"],
        inputs.predictions["box"],
        result.suspects[:, SUSPECT_COLUMNS.index("prediction_id")],
    )
    one = result_rows.one_set(result.suspects, centernet)
    merged = result_rows.several_sets([(centernet, result.suspects, boxes)])
    np.testing.assert_array_equal(merged.rows, one.rows)
    assert merged.support is not None and len(merged.support) == len(one.rows)


def test_matches_of_each_set_are_kept(store: Store) -> None:
    analysis = store.current_analysis()
    for set_id in analysis["set_ids"]:
        own = store.match_arrays(store.current_analysis(set_id)["id"])
        shared = store.match_arrays(analysis["id"], set_id)
        for name, col in own.items():
            np.testing.assert_array_equal(shared[name], col, err_msg=name)
    assert sql(store, "SELECT COUNT(*) FROM suspect_support").fetchone()[0] > 0


def test_re_reading_images_keeps_one_support_row_per_set(store: Store) -> None:
    """reload_images (after an edit, its undo or redo) kept the re-read images' old support
    rows beside the new ones: the inspector then listed one set two, five, eight times."""
    index = SuspectIndex.load(store)
    image_ids = sorted(set(index.image_id[index.support_counts() == 2].tolist()))[:3]
    before = {index.key(p): index.supported_by(p) for p in range(len(index))}
    for _ in range(3):
        index.reload_images(store, image_ids)
    after = {index.key(p): index.supported_by(p) for p in range(len(index))}
    assert after == before
    assert (index.support_counts() <= len(index.set_ids)).all()


def test_re_analysing_some_images_weighs_the_sets_as_the_full_analysis(store: Store) -> None:
    """Score version 13 weighs each set by its recall, 14 counts the sets by their dependence:
    a re-analysis of a few images (after an edit) takes them from the sets' stored fits and the
    analysis's stored report, not from those images' matches and suspects alone."""
    index = SuspectIndex.load(store)
    alone = index.support_counts() == 1
    image_ids = sorted(set(index.image_id[alone].tolist()))[:4]
    on = np.isin(index.image_id, image_ids)
    before = {index.key(p): float(index.score[p]) for p in np.flatnonzero(on).tolist()}
    az.reanalyze_images(store, image_ids)
    index = SuspectIndex.load(store)
    on = np.isin(index.image_id, image_ids)
    after = {index.key(p): float(index.score[p]) for p in np.flatnonzero(on).tolist()}
    assert after == pytest.approx(before) and len(after) > 10


def test_the_report_says_each_sets_recall_and_its_weight_among_the_sets(store: Store) -> None:
    """``labelfix report`` of both sets gives each set's recall and the weight its suspects
    carry in the merged ranking (score version 13): the better set 1, the other the ratio."""
    both = report_data(store, "centernet,nanodet")["sets"]
    recall = {s["set"]: s["recall"] for s in both}
    weight = {s["set"]: s["weight"] for s in both}
    assert 0.3 < recall["nanodet"] < recall["centernet"] < 0.9
    assert weight["centernet"] == 1.0
    assert weight["nanodet"] == pytest.approx(recall["nanodet"] / recall["centernet"], abs=1e-5)
    assert "weigh 0." in weight_sentence(recall["nanodet"], weight["nanodet"])
    (alone,) = report_data(store, "nanodet")["sets"]
    assert alone["recall"] == recall["nanodet"] and alone["weight"] is None
    # how dependent the two sets are and what they count as (score version 14); one set: none
    rho = report_data(store, "centernet,nanodet")["dependence"]
    assert 0.05 < rho < 0.4 and report_data(store, "nanodet")["dependence"] is None
    text = dependence_sentence(2, rho)
    assert f"coincide {rho:.2f} as often" in text and f"as {2 / (1 + rho):.2f} indep" in text
    assert "weigh" not in weight_sentence(alone["recall"], alone["weight"])
