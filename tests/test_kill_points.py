"""Kill points: the real CLI is SIGKILLed at random (seeded) moments during ``labelfix import``,
``labelfix analyze`` and ``labelfix apply --accept`` on a generated 2,000-image dataset.

After every kill the project is either as it was before the command (for import: it does not
exist) or complete; it opens, ``PRAGMA integrity_check`` is ok, and replaying the change log's
``after`` states gives the current labels. The number of kill points survived is printed.

A kill moment is drawn within the command's real work: from the moment the project file is
opened (its ``-wal`` file, or for import the ``.partial`` file, appears) to the end of a timed
reference run, so interpreter start-up does not use up kill points and machine load matters less.
"""

from __future__ import annotations

import importlib.util
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from labelfix.core.export import coco_dataset
from labelfix.core.store import Store

from helpers import sql

ROOT = Path(__file__).resolve().parents[1]
SEED = 20260
KILLS = {"import": 8, "analyze": 7, "apply": 7}
APPLY_ARGS = ("--accept", "--min-confidence", "0.5", "--top", "400")


def _bench_scale() -> Any:
    spec = importlib.util.spec_from_file_location("bench_scale", ROOT / "bench" / "bench_scale.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def start(*args: str) -> subprocess.Popen:
    """Start the real CLI in a subprocess."""
    return subprocess.Popen(
        [sys.executable, "-m", "labelfix", *args, "-q"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(proc: subprocess.Popen, marker: Path) -> None:
    """Wait until ``marker`` exists (the command opened the project) or the process ended."""
    deadline = time.monotonic() + 120
    while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)


def finish(args: tuple[str, ...], marker: Path | None = None) -> float:
    """Run the CLI to completion; the seconds from ``marker`` appearing (or the start) to the end."""
    proc = start(*args)
    if marker is not None:
        wait_for(proc, marker)
    t0 = time.perf_counter()
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    return time.perf_counter() - t0


def kill_during(args: tuple[str, ...], marker: Path, delay: float) -> tuple[bool, float]:
    """Start the CLI, SIGKILL it ``delay`` s after ``marker`` appears.

    Returns (killed, seconds it ran after the marker); not killed if it finished first.
    """
    proc = start(*args)
    wait_for(proc, marker)
    t0 = time.perf_counter()
    try:
        proc.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        return True, delay
    assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
    return False, time.perf_counter() - t0


def copy_project(src: Path, dst: Path) -> Path:
    """Copy a closed project (the last writer to close removed its WAL)."""
    assert not Path(f"{src}-wal").exists()
    shutil.copyfile(src, dst)
    return dst


def check_opens(path: Path) -> Store:
    """Open a project after a kill: it must open and pass SQLite's integrity check."""
    store = Store.open(path)
    assert sql(store, "PRAGMA integrity_check").fetchone()[0] == "ok"
    return store


def replay_agrees(store: Store) -> None:
    """Each label's last logged state (after) is its current state; deleted ones are gone."""
    last: dict[int, dict | None] = {}
    for entry in store.change_log():
        if entry["annotation_id"] is not None:
            last[entry["annotation_id"]] = entry["after"]
    for annotation_id, state in last.items():
        current = store.annotation(annotation_id)
        if state is None:
            assert current is None, annotation_id
            continue
        assert current is not None, annotation_id
        for key in ("category_id", "bbox", "segmentation", "area"):
            if key in state:
                assert json.dumps(current[key]) == json.dumps(state[key]), (annotation_id, key)


def suspect_count(store: Store) -> int | None:
    """Suspects of the current analysis (None when there is none)."""
    analysis = store.current_analysis()
    if analysis is None:
        return None
    query = "SELECT COUNT(*) FROM suspects WHERE analysis_id = ?"
    return sql(store, query, [analysis["id"]]).fetchone()[0]


def labels_state(store: Store) -> str:
    return json.dumps(coco_dataset(store)["annotations"])


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2,000 images, 8,000 polygon labels, 16,000 box predictions."""
    folder = tmp_path_factory.mktemp("kill")
    gt, predictions = _bench_scale().make_dataset(2000, 8_000, 16_000, seed=7)
    (folder / "gt.json").write_text(json.dumps(gt))
    (folder / "pred.json").write_text(json.dumps(predictions))
    return folder


def kill_series(kind: str, work: float, rng: random.Random, attempt: Any) -> tuple[int, dict]:
    """Call ``attempt(k, delay) -> (killed, ran, outcome)`` until KILLS[kind] kills (2x tries).

    Delays are uniform over the reference run's work time, shrunk when a run finishes first.
    """
    outcomes: dict[str, int] = {}
    kills = 0
    for k in range(2 * KILLS[kind]):
        if kills == KILLS[kind]:
            break
        killed, ran, outcome = attempt(k, rng.uniform(0.02, 0.98) * work)
        if not killed:
            work = min(work, ran)
            outcome = "finished first"
        kills += killed
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return kills, outcomes


def test_kill_points(dataset: Path) -> None:
    rng = random.Random(SEED)
    gt, pred = dataset / "gt.json", dataset / "pred.json"
    t_start = time.perf_counter()

    # ---- reference runs: a complete import, analysis and bulk accept, timed from the open
    imported = dataset / "imported.labelfix"
    import_args = ("import", "--gt", str(gt), "--predictions", str(pred), "--name", "model")
    t_import = finish((*import_args, "-o", str(imported)), Path(f"{imported}.partial"))
    with Store.open(imported) as store:
        counts = store.counts()
    analysed = copy_project(imported, dataset / "analysed.labelfix")
    t_analyze = finish(("analyze", str(analysed)), Path(f"{analysed}-wal"))
    with Store.open(analysed) as store:
        n_suspects = suspect_count(store)
        labels_before = labels_state(store)
    assert n_suspects
    applied = copy_project(analysed, dataset / "applied.labelfix")
    t_apply = finish(("apply", str(applied), *APPLY_ARGS), Path(f"{applied}-wal"))
    with Store.open(applied) as store:
        n_decisions = sql(store, "SELECT COUNT(*) FROM decisions").fetchone()[0]
        labels_applied = labels_state(store)
    assert n_decisions > 0 and labels_applied != labels_before

    def import_once(k: int, delay: float) -> tuple[bool, float, str]:
        """Import: the project is absent, or complete."""
        out = dataset / f"import{k}.labelfix"
        args = (*import_args, "-o", str(out))
        killed, ran = kill_during(args, Path(f"{out}.partial"), delay)
        if not out.exists():
            assert killed
            return killed, ran, "absent"
        with check_opens(out) as store:
            assert store.counts() == counts
            replay_agrees(store)
        return killed, ran, "complete"

    def analyze_once(k: int, delay: float) -> tuple[bool, float, str]:
        """Analyze: no analysis (as before), or the complete one."""
        project = copy_project(imported, dataset / f"analyze{k}.labelfix")
        killed, ran = kill_during(("analyze", str(project)), Path(f"{project}-wal"), delay)
        with check_opens(project) as store:
            found = suspect_count(store)
            assert found in (None, n_suspects)
            assert store.counts()["changes"] == 0
            assert labels_state(store) == labels_before
        return killed, ran, "as before" if found is None else "complete"

    def apply_once(k: int, delay: float) -> tuple[bool, float, str]:
        """Apply --accept: nothing changed, or every decision and fix, logged."""
        project = copy_project(analysed, dataset / f"apply{k}.labelfix")
        args = ("apply", str(project), *APPLY_ARGS)
        killed, ran = kill_during(args, Path(f"{project}-wal"), delay)
        with check_opens(project) as store:
            decisions = sql(store, "SELECT COUNT(*) FROM decisions").fetchone()[0]
            replay_agrees(store)
            state = labels_state(store)
            if decisions == 0:
                assert state == labels_before and store.counts()["changes"] == 0
                return killed, ran, "as before"
            assert decisions == n_decisions and state == labels_applied
            assert suspect_count(store) is not None
        return killed, ran, "complete"

    results = {
        "import": kill_series("import", t_import, rng, import_once),
        "analyze": kill_series("analyze", t_analyze, rng, analyze_once),
        "apply": kill_series("apply", t_apply, rng, apply_once),
    }
    # a partial file left by a killed import does not stand in the way of the next import
    for partial in dataset.glob("import*.labelfix.partial"):
        out = partial.with_name(partial.name.removesuffix(".partial"))
        finish((*import_args, "-o", str(out), "--overwrite"))
        with check_opens(out) as store:
            assert store.counts() == counts
        break

    total = sum(kills for kills, _ in results.values())
    print(
        f"\nkill points survived: {total} of {total} ("
        + "; ".join(f"{kind}: {kills} {outcomes}" for kind, (kills, outcomes) in results.items())
        + f"); work after opening the project in the reference runs: import {t_import:.2f} s, "
        f"analyze {t_analyze:.2f} s, apply {t_apply:.2f} s; "
        f"total {time.perf_counter() - t_start:.0f} s"
    )
    assert total >= 20
