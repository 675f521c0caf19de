"""Crash safety: a process applying edits is killed with SIGKILL; nothing acknowledged is lost."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from labelfix.core.coco import read_ground_truth
from labelfix.core.store import Store

from helpers import sql, tiny_dataset, write_json

CHILD = textwrap.dedent(
    """
    import sys
    from labelfix.core import edits
    from labelfix.core.store import Store

    store = Store.open(sys.argv[1])
    cats = [1, 3, 7]
    for i in range(100000):
        if i % 3 == 2:
            edit = edits.SetGeometry(11, bbox=[float(i % 40), 20.0, 20.0, 20.0])
        else:
            edit = edits.SetCategory(10, cats[i % 3])
        edit.apply(store)
        print(f"ack {i}", flush=True)  # acknowledged only after the commit returned
    """
)


def _replay(store: Store) -> dict[int, dict]:
    """Label state rebuilt from the change log's 'after' values."""
    state: dict[int, dict] = {}
    for entry in store.change_log():
        if entry["annotation_id"] is not None and entry["after"] is not None:
            state.setdefault(entry["annotation_id"], {}).update(entry["after"])
    return state


@pytest.mark.parametrize("kill_after", [5, 37, 120])
def test_sigkill_keeps_every_acknowledged_edit(tmp_path: Path, kill_after: int) -> None:
    gt = read_ground_truth(write_json(tmp_path / "gt.json", tiny_dataset()))
    path = tmp_path / "p.labelfix"
    with Store.create(path) as store:
        store.import_ground_truth(gt, None)
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    acked = -1
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    while acked < kill_after and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        acked = int(line.split()[1])
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert acked >= kill_after, "the child did not get far enough"

    with Store.open(path) as store:
        assert sql(store, "PRAGMA integrity_check").fetchone()[0] == "ok"
        log = store.change_log()
        assert len(log) >= acked + 1  # every acknowledged edit is there (maybe one more, unacked)
        replayed = _replay(store)
        for ann_id in (10, 11):
            ann = store.annotation(ann_id)
            if ann_id in replayed:
                for key, value in replayed[ann_id].items():
                    assert json.dumps(ann[key]) == json.dumps(value), (ann_id, key)
        # the last acknowledged edit's effect is visible
        last = log[acked]
        assert last["after"] is not None
