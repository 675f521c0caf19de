"""Crash safety of the real app: the review window, driven by its own key handlers
(tools/drive_review.py: accept, reject, flag, next, quick class, arrow-key nudges, undo), is
SIGKILLed at 20 random (seeded) moments on a copy of the demo project.

The driver prints ``ack <n> ...`` after each action has returned, i.e. after the store committed.
A reference run of the same script (same seed, same project) gives the state after every action.
After a kill that left ``n`` acknowledgements, the reopened project must:

- pass ``PRAGMA integrity_check``;
- hold every acknowledged change-log entry (the edit ids the acks name);
- hold exactly the reference state after action ``n`` or after action ``n + 1`` (the action in
  flight may have committed before its ack was printed), never a mix of the two: the decisions
  and labels of every suspect and label the script touches are compared;
- agree with its change log: replaying the log's ``after`` states over the original labels
  gives the current labels, and over no decisions gives the decisions table.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from labelfix.core.analyze import reanalyze_images
from labelfix.core.store import Store
from labelfix.desktop.demo import demo_source
from labelfix.desktop.session import Session

from helpers import sql

ROOT = Path(__file__).resolve().parents[2]
DRIVER = ROOT / "tools" / "drive_review.py"
SEED = 4242  # the script's actions and the kill moments
ACTIONS = 40
KILLS = 20
PARALLEL = 2  # kills run two at a time (each on its own project copy)
LABEL_KEYS = ("category_id", "bbox", "segmentation", "area")


@dataclass
class Run:
    """One run of the driver: its acknowledgement lines as they arrived."""

    acks: list[dict] = field(default_factory=list)
    ready_at: float | None = None
    done: bool = False
    returncode: int | None = None
    stderr: str = ""


def drive(project: Path, kill_after: float | None = None) -> Run:
    """Run the driver on ``project``; SIGKILL it ``kill_after`` s after it is ready (None: let it
    finish). Only complete lines count: a line cut by the kill was never acknowledged."""
    err_path = project.with_suffix(".stderr")
    with err_path.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, str(DRIVER), str(project), "--seed", str(SEED)]
            + ["--actions", str(ACTIONS)],
            stdout=subprocess.PIPE,
            stderr=err,
            env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        )
    run = Run()
    ready = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for raw in proc.stdout:
            if not raw.endswith(b"\n"):
                break  # cut by the kill
            line = raw.decode()
            if line.startswith("ready"):
                run.ready_at = time.perf_counter()
                ready.set()
            elif line.startswith("ack "):
                _, n, what, payload = line.split(" ", 3)
                run.acks.append({"n": int(n), "what": what, **json.loads(payload)})
            elif line.startswith("done"):
                run.done = True
        ready.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    ready.wait(timeout=120)
    if kill_after is not None and proc.poll() is None:
        try:
            proc.wait(timeout=kill_after)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=300)
    reader.join(timeout=30)
    run.returncode = proc.returncode
    run.stderr = err_path.read_text(errors="replace")[-3000:]
    return run


def label_state(ann: dict | None) -> dict | None:
    """The compared part of a label (a stored label or a change-log record)."""
    if ann is None:
        return None
    return {k: ann.get(k) for k in LABEL_KEYS}


def fold(acks: list[dict]) -> dict[str, Any]:
    """The state of every touched suspect and label after these acknowledged actions."""
    decisions: dict[str, Any] = {}
    labels: dict[str, Any] = {}
    for ack in acks:
        decisions.update(ack["decisions"])
        labels.update(ack["labels"])
    return {"decisions": decisions, "labels": labels}


def disk_state(store: Store, set_id: int, keys: set[str], labels: set[str]) -> dict[str, Any]:
    """What the project holds for these suspects and labels."""
    decisions = {}
    for key in keys:
        row = store.decision(set_id, key)
        decisions[key] = None if row is None else {"decision": row["decision"], "note": row["note"]}
    return {
        "decisions": decisions,
        "labels": {a: label_state(store.annotation(int(a))) for a in labels},
    }


def restrict(state: dict[str, Any], keys: set[str], labels: set[str], base: dict) -> dict:
    """``state`` over exactly these keys and labels (untouched ones keep their original state)."""
    return {
        "decisions": {k: state["decisions"].get(k) for k in keys},
        "labels": {a: state["labels"].get(a, base.get(a)) for a in labels},
    }


def replay_agrees(store: Store, base_labels: dict[str, dict | None], set_id: int) -> None:
    """Replaying the change log over the original labels (and no decisions) gives the project."""
    labels = dict(base_labels)
    decisions: dict[str, Any] = {}
    for entry in store.change_log():
        if entry["annotation_id"] is not None:
            labels[str(entry["annotation_id"])] = label_state(entry["after"])
        elif entry["action"] in ("decision", "revert:decision"):
            after = entry["after"]  # also holds the suspect's numbers when it was decided
            decisions[entry["suspect_key"]] = after and {k: after[k] for k in ("decision", "note")}
    current = {str(a["id"]): label_state(a) for a in store.iter_annotations()}
    replayed = {a: s for a, s in labels.items() if s is not None}
    assert json.dumps(replayed, sort_keys=True) == json.dumps(current, sort_keys=True)
    rows = sql(
        store,
        "SELECT suspect_key, decision, note FROM decisions WHERE prediction_set_id = ?",
        [set_id],
    ).fetchall()
    table = {k: {"decision": d, "note": n} for k, d, n in rows}
    assert {k: v for k, v in decisions.items() if v is not None} == table


def suspects_follow_labels(store: Store, set_id: int) -> bool:
    """Whether the stored suspects are what re-analysing every image gives (changes the project)."""
    analysis = store.current_analysis(set_id)
    assert analysis is not None
    query = (
        "SELECT key, kind, round(score, 9), image_id, annotation_id, other_annotation_id, "
        "prediction_id, category_id, predicted_category_id FROM suspects WHERE analysis_id = ? "
        "ORDER BY key"
    )
    stored = sql(store, query, [analysis["id"]]).fetchall()
    images = [i for (i,) in sql(store, "SELECT id FROM images").fetchall()]
    reanalyze_images(store, images, set_id)
    return stored == sql(store, query, [analysis["id"]]).fetchall()


@pytest.fixture(scope="module")
def base_project(built_demo: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A closed copy of the demo project with its image folder stored absolute."""
    out = tmp_path_factory.mktemp("appkill") / "base.labelfix"
    shutil.copy(built_demo, out)
    with Store.open(out) as store, store.atomic():
        store.set_meta("images_root", str(demo_source() / "images"))
    assert not Path(f"{out}-wal").exists()
    return out


def test_app_survives_sigkill(base_project: Path, tmp_path: Path) -> None:
    t_start = time.perf_counter()
    with Store.open(base_project, readonly=True) as store:
        set_id = store.active_set_id()
        base_labels = {str(a["id"]): label_state(a) for a in store.iter_annotations()}
        assert sql(store, "SELECT COUNT(*) FROM decisions").fetchone()[0] == 0

    reference_project = tmp_path / "reference.labelfix"
    shutil.copy(base_project, reference_project)
    t0 = time.perf_counter()
    reference = drive(reference_project)
    assert reference.done and reference.returncode == 0, reference.stderr
    work = time.perf_counter() - (reference.ready_at or t0)
    acks = reference.acks
    assert len(acks) == ACTIONS
    whats = {a["what"] for a in acks if a["edit_ids"]}
    assert {"accept", "reject", "flag", "nudge", "class", "undo"} <= whats, whats
    for ack in acks:  # each decision key press recorded the decision asked for
        if ack["intent"] is not None:
            intent = ack["intent"]
            assert ack["decisions"][intent["key"]]["decision"] == intent["decision"], ack
    states = [fold(acks[:n]) for n in range(len(acks) + 1)]
    all_keys = set(states[-1]["decisions"])
    all_labels = set(states[-1]["labels"])

    rng = random.Random(SEED)
    delays = [rng.uniform(0, work) for _ in range(KILLS)]
    projects = []
    for k in range(KILLS):
        projects.append(tmp_path / f"kill{k}.labelfix")
        shutil.copy(base_project, projects[-1])

    with ThreadPoolExecutor(PARALLEL) as pool:
        runs = list(pool.map(lambda pair: drive(*pair), zip(projects, delays, strict=True)))
    for k, run in enumerate(runs):  # a run that finished before its kill: again, killed earlier
        for _ in range(3):
            if run.returncode == -signal.SIGKILL:
                break
            shutil.copy(base_project, projects[k])
            run = runs[k] = drive(projects[k], rng.uniform(0, work / 2))

    with Store.open(reference_project) as store:
        assert suspects_follow_labels(store, set_id)
    survived, outcomes = 0, []
    for k, (project, run) in enumerate(zip(projects, runs, strict=True)):
        assert run.ready_at is not None, run.stderr
        n = len(run.acks)
        assert [a["n"] for a in run.acks] == list(range(1, n + 1))
        for mine, ref in zip(run.acks, acks, strict=False):  # the script is deterministic
            assert (mine["what"], mine["decisions"], mine["labels"]) == (
                ref["what"],
                ref["decisions"],
                ref["labels"],
            ), (k, mine["n"])
        with Store.open(project) as store:
            assert sql(store, "PRAGMA integrity_check").fetchone()[0] == "ok", k
            logged = {e["edit_id"] for e in store.change_log()}
            for ack in run.acks:
                assert set(ack["edit_ids"]) <= logged, (k, ack["n"], "acknowledged edit lost")
            on_disk = disk_state(store, set_id, all_keys, all_labels)
            before = restrict(states[n], all_keys, all_labels, base_labels)
            after = restrict(states[min(n + 1, len(acks))], all_keys, all_labels, base_labels)
            assert on_disk in (before, after), (k, n, "not the state after ack n or n + 1")
            replay_agrees(store, base_labels, set_id)
            assert suspects_follow_labels(store, set_id), (k, n, "suspects lag the labels")
        survived += 1
        committed = "+1" if on_disk == after and on_disk != before else ""
        outcomes.append(f"{n}{committed}")

    killed = sum(run.returncode == -signal.SIGKILL for run in runs)
    print(
        f"\napp kill points survived: {survived} of {KILLS} ({killed} SIGKILLed mid-review; "
        f"acks before each kill, +1: the action in flight had committed: {', '.join(outcomes)}); "
        f"reference review {work:.1f} s for {ACTIONS} actions; "
        f"total {time.perf_counter() - t_start:.0f} s"
    )
    assert survived == killed == KILLS


def test_a_nudge_burst_is_written_once_in_one_transaction(demo_project: Path) -> None:
    """A burst of arrow-key nudges is on screen only until it ends, then written as one edit:
    a crash before that leaves the label where it was (nothing was written or acknowledged),
    after it where the burst ended. A second connection reads what a crash would leave."""
    session = Session.open(demo_project)
    store = session.store
    ann = next(a for a in store.iter_annotations() if isinstance(a["segmentation"], list))
    x, y, w, h = ann["bbox"]
    seq = store.last_change()

    def on_disk() -> dict | None:
        with Store.open(demo_project, readonly=True) as reader:
            return label_state(reader.annotation(ann["id"]))

    for dx in (1, 2, 3):
        assert session.labels.nudge(ann["id"], {"bbox": [x + dx, y, w, h]})
    assert on_disk() == label_state(ann) and store.last_change() == seq
    assert session.write_pending()
    moved = label_state(store.annotation(ann["id"]))
    assert moved["bbox"][0] == pytest.approx(x + 3)
    assert on_disk() == moved
    assert [e["action"] for e in store.change_log(after_seq=seq)] == ["set_geometry"]
    assert session.undo_stack.count() == 1
    session.undo()
    assert label_state(store.annotation(ann["id"])) == label_state(ann)
    session.close()
