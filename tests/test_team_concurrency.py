"""Several client processes review one team project at once (PostgreSQL test server): random
claims, decisions and label edits. Proves: no lost update (every change of a label starts from
the state the previous one left), every acknowledged change in the change log exactly once, the
change log replays to the final labels and decisions, claims never overlap."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from labelfix.core import analyze as az
from labelfix.core.project import push_project
from labelfix.core.store import Store
from tests.desktop.synthetic import write_project

from backends import drop, team_url
from helpers import ROOT

CLIENT = ROOT / "tests" / "team_clients.py"
FIELDS = ("category_id", "bbox", "segmentation", "area")


def state(ann: dict) -> dict:
    """The fields the change log records of a label."""
    return {k: ann.get(k) for k in FIELDS}


def replay(initial: dict[int, dict], log: list[dict]) -> dict[int, dict]:
    """Labels rebuilt from their initial state and the change log, in order; asserts that
    every change starts from the state the previous one left (no lost update)."""
    labels = {k: dict(v) for k, v in initial.items()}
    for entry in log:
        ann = entry["annotation_id"]
        if ann is None:
            continue
        action = entry["action"].removeprefix("revert:")
        if entry["before"] is not None and action != "add_label":
            assert ann in labels, f"entry {entry['seq']} changes label {ann}, which is gone"
            assert state(labels[ann]) == state(entry["before"]), f"lost update at {entry['seq']}"
        if entry["after"] is None:
            labels.pop(ann, None)
        else:
            labels[ann] = {**labels.get(ann, {}), **entry["after"]}
    return labels


def run_clients(location: str, n: int, ops: int) -> list[list[dict]]:
    """Start ``n`` clients at once; returns each one's event lines."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT / "tests")}
    procs = [
        subprocess.Popen(
            [sys.executable, str(CLIENT), location, f"reviewer{i}", str(100 + i), str(ops)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for i in range(n)
    ]
    out = []
    for p in procs:
        stdout, stderr = p.communicate(timeout=600)
        assert p.returncode == 0, stderr
        out.append([json.loads(line) for line in stdout.splitlines()])
    return out


def test_concurrent_reviewers_lose_nothing(tmp_path: Path) -> None:
    location = team_url()
    push_project(write_project(tmp_path, n_images=12, preds_per_image=6, seed=5), location)
    try:
        with Store.open(location) as store:
            az.analyze(store)
            initial = {a["id"]: state(a) for a in store.iter_annotations()}
            set_id = store.active_set_id()
        t0 = time.monotonic()
        events = run_clients(location, n=4, ops=60)
        took = time.monotonic() - t0
        with Store.open(location) as store:
            log = store.change_log()
            final = {a["id"]: state(a) for a in store.iter_annotations()}
            decisions = {k: d for k, d in store.decisions(set_id).items()}

        seqs = [e["seq"] for e in log]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
        # every acknowledged change is in the log exactly once (one entry per simple edit)
        acked = [e for client in events for e in client if e["event"] == "ack"]
        per_edit = Counter(e["edit_id"] for e in log)
        assert all(per_edit[a["edit_id"]] == 1 for a in acked)
        assert len(per_edit) == len(acked)  # and nothing unacknowledged slipped in
        # the log replays to the labels, with no lost update on the way
        assert replay(initial, log) == final
        replayed_decisions: dict[str, str] = {}
        for e in log:
            if e["action"] == "decision":
                replayed_decisions[e["suspect_key"]] = (e["after"] or {}).get("decision")
        assert {k: v for k, v in replayed_decisions.items() if v} == decisions
        # claims never overlap: no suspect claimed by two sessions (claims last 15 min here)
        claimed = [
            k for client in events for e in client if e["event"] == "claim" for k in e["keys"]
        ]
        assert len(claimed) == len(set(claimed)) and claimed
        conflicts = sum(e["event"] == "conflict" for client in events for e in client)
        label_edits = sum(a["kind"] == "label" for a in acked)
        print(
            f"\n4 clients x 60 ops in {took:.1f} s: {len(acked)} acknowledged changes "
            f"({label_edits} label edits, {len(acked) - label_edits} decisions), "
            f"{conflicts} stale edits refused, {len(claimed)} suspects claimed, 0 overlaps"
        )
    finally:
        drop(location)


@pytest.mark.parametrize("clients", [2])
def test_two_reviewers_editing_one_label_never_lose_an_update(tmp_path: Path, clients: int) -> None:
    """The hardest case: every client edits the same few labels."""
    location = team_url()
    push_project(write_project(tmp_path, n_images=2, preds_per_image=2, seed=9), location)
    try:
        with Store.open(location) as store:
            initial = {a["id"]: state(a) for a in store.iter_annotations()}
        events = run_clients(location, n=clients, ops=80)
        with Store.open(location) as store:
            log = store.change_log()
            final = {a["id"]: state(a) for a in store.iter_annotations()}
        assert replay(initial, log) == final
        acked = {e["edit_id"] for client in events for e in client if e["event"] == "ack"}
        assert acked == {e["edit_id"] for e in log}
    finally:
        drop(location)
