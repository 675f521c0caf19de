"""Responsiveness: the UI never stalls during a background analysis; the table stays instant
at 500,000 suspects."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QElapsedTimer, QTimer

from labelfix.core.suspects import SuspectFilter
from labelfix.desktop.main_window import MainWindow
from tests.desktop.synthetic import big_index, write_project


def test_background_analysis_never_stalls_the_ui(qtbot: object, tmp_path: Path) -> None:
    project = write_project(tmp_path, n_images=2000, preds_per_image=20)
    window = MainWindow()
    qtbot.addWidget(window)
    window.resize(1200, 800)
    assert window.open_path(project)
    window.show()
    qtbot.waitExposed(window)
    assert not window.session.analysed()
    qtbot.wait(300)  # the window's first paint is startup, not analysis
    clock = QElapsedTimer()
    gaps: list[int] = []
    stamps: list[float] = []

    def beat() -> None:
        gaps.append(clock.restart())
        stamps.append(time.perf_counter())

    heartbeat = QTimer(interval=10)
    heartbeat.timeout.connect(beat)
    progress: list[int] = []
    t0 = time.perf_counter()
    with qtbot.waitSignal(window.analysisFinished, timeout=180_000) as blocker:
        clock.start()
        heartbeat.start()
        worker = window.run_analysis()
        worker.signals.progress.connect(lambda done, total: progress.append(done))
    qtbot.wait(100)  # include the repaint after the new suspects arrive
    heartbeat.stop()
    elapsed = time.perf_counter() - t0
    longest = max(gaps[1:]) if len(gaps) > 1 else 0
    worst = sorted(range(1, len(gaps)), key=lambda i: -gaps[i])[:3]
    print(
        f"\nanalysis of 2,000 images / 40,000 predictions: {elapsed:.2f} s in the background; "
        f"{len(gaps)} heartbeats, longest event-loop stall {longest} ms "
        f"(worst: {[(gaps[i], round(stamps[i] - t0, 2)) for i in worst]} as (ms, s after start))"
    )
    assert blocker.args[0].images == 2000
    assert window.session.analysed() and len(window.session.index) > 0
    assert progress, "the worker reported progress"
    # the event loop kept turning: an analysis on the UI thread would stop the heartbeat for
    # its whole run. The < 100 ms target is measured by bench/bench_analysis_stall.py (a timed
    # bound here fails on a busy machine, not on a regression).
    assert len(gaps) >= 0.2 * elapsed * 100, "the heartbeat stopped while the analysis ran"
    assert longest < 0.5 * elapsed * 1000


def test_table_at_500k_suspects(qtbot: object, demo_project: Path) -> None:
    window = MainWindow()
    qtbot.addWidget(window)
    window.resize(1200, 800)
    assert window.open_path(demo_project)
    window.show()
    qtbot.waitExposed(window)
    session = window.session
    index = big_index(500_000)
    t = time.perf_counter()
    session.set_index(index)
    qtbot.wait(1)
    load_ms = (time.perf_counter() - t) * 1000
    timings = {}
    for name, change in (
        ("no filter", lambda: session.set_filter(SuspectFilter())),
        (
            "filter conf>=0.3 open",
            lambda: session.set_filter(
                SuspectFilter(min_confidence=0.3, statuses=frozenset({"open"}))
            ),
        ),
        ("sort by score ascending", lambda: session.set_sort("score", False)),
        ("sort by confidence", lambda: session.set_sort("confidence", True)),
        ("sort by file name", lambda: session.set_sort("file_name", False)),
        ("sort by label class", lambda: session.set_sort("label_class", False)),
        (
            "filter by kinds",
            lambda: session.set_filter(session.filter.with_(kinds=frozenset({"wrong_class"}))),
        ),
        (
            "file-name search",
            lambda: session.set_filter(session.filter.with_(kinds=None, file_name="0000001")),
        ),
        ("back to no filter", lambda: session.set_filter(SuspectFilter())),
    ):
        t = time.perf_counter()
        change()
        qtbot.wait(1)  # let the view repaint
        timings[name] = (time.perf_counter() - t) * 1000
    t = time.perf_counter()
    positions = index.query(SuspectFilter(), "score", True)
    session.set_sort("score", True)
    query_ms = (time.perf_counter() - t) * 1000
    t = time.perf_counter()
    window.table.suspect_model.reload()
    reset_ms = (time.perf_counter() - t) * 1000
    assert window.table.suspect_model.rowCount() == len(positions) == 500_000
    print(
        f"\n500k suspects: set_index {load_ms:.0f} ms; query(score) {query_ms:.0f} ms; model reset {reset_ms:.1f} ms"
    )
    for name, ms in timings.items():
        print(f"  {name:<24} {ms:7.0f} ms (query + model reset + repaint)")
    # a reset that does not walk the rows (a per-row one takes seconds at 500k); the speed
    # targets themselves are measured by bench/bench_scale_window.py
    assert reset_ms < 500
    assert max(timings.values()) < 1500
