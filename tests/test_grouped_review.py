"""One suspect per object (issue 14): the index lists one row per group (its most likely fix
among the rows the filter keeps), the alternatives are a call away, accepting one closes the
others in the same edit (one undo restores them all), and the default view is ranked by
calibrated score down to the analysis's default cut, with the seed's confidence cut a filter
away."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from labelfix.core import project, review_cut
from labelfix.core.errors import KINDS
from labelfix.core.filter_advice import advise
from labelfix.core.review import CLOSED_NOTE, decide
from labelfix.core.store import Store
from labelfix.core.suspects import (
    DEFAULT_REVIEW_FILTER,
    SEED_REVIEW_FILTER,
    STATUS_CODE,
    SuspectFilter,
    SuspectIndex,
)

from helpers import a_group, shared_path


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = shared_path("coco_real81")
    out = tmp_path_factory.mktemp("grouped") / "real.labelfix"
    project.import_project(
        out,
        root / "annotations" / "instances_real81.json",
        root / "images",
        root / "predictions" / "centernet_bbox_results.json",
        "centernet",
    )
    project.analyze_project(out)
    return out


@pytest.fixture
def store(real: Path, tmp_path: Path) -> Store:
    copy = tmp_path / "copy.labelfix"
    copy.write_bytes(real.read_bytes())
    s = Store.open(copy)
    yield s
    s.close()


def test_one_row_per_object_and_its_alternatives(store: Store) -> None:
    index = SuspectIndex.load(store)
    every = index.query(SuspectFilter())
    heads = index.query(SuspectFilter(per_object=True))
    assert len(heads) == len(np.unique(index.group)) < len(every)
    assert (index.group_rank[heads] == 0).all()
    head = a_group(index)
    alternatives = index.alternatives(head)
    assert len(alternatives) >= 1 and head not in alternatives
    assert (index.group[alternatives] == index.group[head]).all()
    assert list(index.group_rank[alternatives]) == sorted(index.group_rank[alternatives])
    # alternatives share a label or a prediction with another row of the group
    members = [head, *alternatives.tolist()]
    labels = {int(index.annotation_id[p]) for p in members} - {-1}
    preds = {int(index.prediction_id[p]) for p in members} - {-1}
    for p in alternatives.tolist():
        assert int(index.annotation_id[p]) in labels or int(index.prediction_id[p]) in preds
    # a filter that drops the head shows the next alternative in its place
    others = frozenset(KINDS) - {KINDS[int(index.kind[head])]}
    group = int(index.group[head])
    shown = index.query(SuspectFilter(per_object=True, kinds=others, group=group))
    assert head not in shown and len(shown) == 1
    assert shown[0] == min(
        alternatives, key=lambda p: index.group_rank[p] if index.kind[p] != index.kind[head] else 99
    )
    # ranks within a group follow the score
    for g in np.unique(index.group)[:200]:
        rows = np.flatnonzero(index.group == g)
        ordered = rows[np.argsort(index.group_rank[rows])]
        assert (np.diff(index.score[ordered]) <= 1e-12).all()


def test_accepting_one_alternative_closes_the_others_and_undo_restores_them(
    store: Store,
) -> None:
    index = SuspectIndex.load(store)
    head = a_group(index)
    others = index.alternatives(head)
    row = dict(index.row(head), alternatives=[index.row(int(p)) for p in others])
    edit = decide(store, [row], "accepted")
    edit.apply(store)
    assert store.decision(row["set_id"], row["key"])["decision"] == "accepted"
    for p in others.tolist():
        decided = store.decision(row["set_id"], index.key(p))
        assert decided["decision"] == "rejected"
        assert decided["note"] == CLOSED_NOTE.format(key=row["key"])
    after = SuspectIndex.load(store)
    assert after.counts_by_status() == {
        "open": len(index) - 1 - len(others),
        "accepted": 1,
        "rejected": len(others),
        "flagged": 0,
    }
    edit.revert(store)  # one undo: the fix, the accept and every closed alternative
    assert store.decision(row["set_id"], row["key"]) is None
    assert all(store.decision(row["set_id"], index.key(p)) is None for p in others.tolist())
    assert SuspectIndex.load(store).counts_by_status()["open"] == len(index)


def test_rejecting_the_most_likely_fix_leaves_its_alternatives_open(store: Store) -> None:
    index = SuspectIndex.load(store)
    head = a_group(index)
    group = int(index.group[head])
    decide(store, [dict(index.row(head), alternatives=[])], "rejected").apply(store)
    index.set_status([index.key(head)], "rejected")
    shown = index.query(DEFAULT_REVIEW_FILTER.with_(min_score=0.0, group=group))
    assert len(shown) == 1 and shown[0] == index.alternatives(head)[0]
    assert index.status[shown[0]] == STATUS_CODE["open"]


def test_the_default_view_is_the_score_ranking_down_to_the_default_cut(store: Store) -> None:
    index = SuspectIndex.load(store)
    heads = index.group_rank == 0
    assert index.review_cut == pytest.approx(review_cut.default_cut(index.score[heads]))
    assert 0 < index.review_cut <= review_cut.LIKELY
    shown = index.query(DEFAULT_REVIEW_FILTER)
    assert len(shown) and (index.score[shown] >= index.review_cut).all()
    assert list(index.score[shown]) == sorted(index.score[shown], reverse=True)
    kinds = {int(k) for k in index.kind[shown]}
    assert len(kinds) >= 3  # every kind in one ranking, not the spurious labels alone
    # the confidence cut of the first version is one filter away, and the hint offers a lower
    # confidence cut when it hides almost everything (as before), never for the default view
    seed = index.query(SEED_REVIEW_FILTER)
    conf = index.confidence[seed]
    assert ((conf >= 0.75) | np.isnan(conf)).all()
    assert advise(index, DEFAULT_REVIEW_FILTER) is None
    advice = advise(index, SEED_REVIEW_FILTER)
    assert advice is not None and advice.suggested < 0.75
