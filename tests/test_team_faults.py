"""Faults on a team project (PostgreSQL test server): a client killed with SIGKILL mid-edit,
the server stopped mid-session (``pg_ctl stop -m fast``, then started again), a connection cut
by the server. Nothing acknowledged is lost; the client gets one clear exception type
(:class:`ConnectionLost`, never a psycopg type) and recovers once the server is back."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from labelfix.core import analyze as az
from labelfix.core import edits
from labelfix.core.project import push_project
from labelfix.core.store import ConnectionLost, ProjectError, Store
from tests.desktop.synthetic import write_project

from backends import drop, pg_required, team_url
from helpers import ROOT
from test_team_concurrency import replay, state

CLIENT = ROOT / "tests" / "team_clients.py"
SERVER = ROOT / "tools" / "pg_server.sh"


@pytest.fixture
def project(tmp_path: Path) -> tuple[str, dict[int, dict]]:
    """An analysed team project and its labels before any change."""
    location = team_url()
    push_project(write_project(tmp_path, n_images=10, preds_per_image=6, seed=2), location)
    with Store.open(location) as store:
        az.analyze(store)
        initial = {a["id"]: state(a) for a in store.iter_annotations()}
    yield location, initial
    drop(location)


def start_client(location: str, reviewer: str, seed: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(CLIENT), location, reviewer, str(seed), "0", "--forever"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT / "tests")},
    )


def read_until(proc: subprocess.Popen, acks: int, seen: list[dict], limit: float = 120) -> None:
    """Collect the client's lines until ``acks`` acknowledgements in all."""
    assert proc.stdout is not None
    deadline = time.monotonic() + limit
    while sum(e["event"] == "ack" for e in seen) < acks and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(json.loads(line))


def check_nothing_acknowledged_is_lost(
    location: str, initial: dict[int, dict], events: list[dict]
) -> list[dict]:
    with Store.open(location) as store:
        log = store.change_log()
        final = {a["id"]: state(a) for a in store.iter_annotations()}
    per_edit = Counter(e["edit_id"] for e in log)
    acked = [e for e in events if e["event"] == "ack"]
    assert acked and all(per_edit[a["edit_id"]] == 1 for a in acked)
    assert replay(initial, log) == final
    return log


@pytest.mark.parametrize("kill_after", [7, 40])
def test_sigkill_mid_edit_loses_nothing_acknowledged(
    project: tuple[str, dict], kill_after: int
) -> None:
    location, initial = project
    proc = start_client(location, "killed", seed=kill_after)
    events: list[dict] = []
    read_until(proc, kill_after, events)
    os.kill(proc.pid, signal.SIGKILL)  # most likely inside an edit's transaction
    proc.wait()
    assert sum(e["event"] == "ack" for e in events) >= kill_after
    log = check_nothing_acknowledged_is_lost(location, initial, events)
    # the killed client's lock and transaction are gone: another reviewer edits at once
    with Store.open(location, reviewer="next") as store:
        label = next(iter(initial))
        t0 = time.monotonic()
        edits.SetCategory(label, 3).apply(store)
        assert time.monotonic() - t0 < 5
        assert len(store.change_log()) == len(log) + 1


def _server_dir() -> str:
    folder = os.environ.get("LABELFIX_TEST_PG_DIR")
    if not folder or not Path(folder, "data").is_dir():
        message = "the server stop test needs LABELFIX_TEST_PG_DIR (tools/pg_server.sh)"
        if pg_required():
            pytest.fail(message)
        pytest.skip(message)
    return folder


def server(action: str) -> None:
    subprocess.run(["bash", str(SERVER), action, _server_dir()], check=True, timeout=120)


def test_server_stop_mid_session(project: tuple[str, dict]) -> None:
    location, initial = project
    folder = _server_dir()
    store = Store.open(location, reviewer="alice")
    set_id = store.active_set_id()
    proc = start_client(location, "busy", seed=11)  # another reviewer, writing all along
    events: list[dict] = []
    read_until(proc, 10, events)
    edits.SetDecision(set_id, "missing_label::1", "flagged").apply(store)  # acknowledged
    label = next(iter(initial))
    try:
        server("pause")  # pg_ctl stop -m fast
        unsaved = edits.SetCategory(label, 5)
        with pytest.raises(ConnectionLost) as err:
            unsaved.apply(store)
        assert type(err.value).__module__.startswith("labelfix.")  # no psycopg type leaks
        assert err.value.__cause__ is None and "not saved" in str(err.value)
        with pytest.raises(ConnectionLost):
            store.annotation(label)  # a read retries for a few seconds, then says so
        assert not store.connected
    finally:
        server("resume")
    # back: the next call reconnects; the unsaved edit was not committed, and now it is
    assert not store.edit_logged(unsaved.edit_id)
    unsaved.apply(store)
    assert store.annotation(label)["category_id"] == 5 and store.connected
    before = sum(e["event"] == "ack" for e in events)
    read_until(proc, before + 5, events)  # the other client recovered too (retried reads or
    assert sum(e["event"] == "ack" for e in events) >= before + 5  # ConnectionLost, then on)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    store.close()
    log = check_nothing_acknowledged_is_lost(location, initial, events)
    assert sum(e["edit_id"] == unsaved.edit_id for e in log) == 1
    assert folder  # the same server, started again


def test_a_cut_connection_is_retried_for_reads_and_refused_for_writes(
    project: tuple[str, dict],
) -> None:
    location, initial = project
    label = next(iter(initial))
    with Store.open(location) as store, Store.open(location) as admin:

        def cut() -> None:
            admin._db.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = 'labelfix' AND pid <> pg_backend_pid()"
            )

        cut()
        assert store.annotation(label) is not None  # a read outside a transaction: retried
        edit = edits.SetCategory(label, 4)
        with pytest.raises(ConnectionLost), store.atomic():
            store.annotation(label)
            cut()
            edit.apply(store)  # inside the transaction: never retried, never reported done
        assert not store.edit_logged(edit.edit_id)
        assert store.annotation(label)["category_id"] == initial[label]["category_id"]


def test_an_unreachable_server_is_a_project_error(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match="cannot reach the team project server"):
        Store.open("postgresql://nobody@127.0.0.1:1/none?project=x&connect_timeout=2")
