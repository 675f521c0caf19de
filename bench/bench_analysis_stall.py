"""The window stays responsive while a project is analysed in the background: the longest
event-loop stall (a 10 ms heartbeat timer) while the real MainWindow (offscreen) analyses a
2,000-image project of random boxes (20 predictions an image) in its child process.

    python bench/bench_analysis_stall.py [--images 2000] [--runs 3]

Target: the longest stall < 100 ms. This is a benchmark, not a test (timings on a shared
machine vary); tests/desktop/test_speed.py checks only that the event loop keeps turning.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
sys.path.insert(0, str(HERE.parent))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QElapsedTimer, QEventLoop, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from labelfix.desktop.main_window import MainWindow  # noqa: E402
from tests.desktop.synthetic import write_project  # noqa: E402


def load_average() -> str:
    """The machine's load average and core count (the runs share it)."""
    return f"{' '.join(f'{v:.2f}' for v in os.getloadavg())} on {os.cpu_count()} CPUs"


def one_run(folder: Path, images: int, run: int) -> tuple[float, int, list[int]]:
    """Seconds of the analysis, heartbeats, and the heartbeat gaps (ms)."""
    where = folder / f"run{run}"
    where.mkdir()
    project = write_project(where, n_images=images, preds_per_image=20, seed=run)
    window = MainWindow()
    window.resize(1200, 800)
    window.open_path(project)
    window.show()
    wait = QEventLoop()
    QTimer.singleShot(300, wait.quit)  # the first paint is startup, not analysis
    wait.exec()
    clock = QElapsedTimer()
    gaps: list[int] = []
    heartbeat = QTimer(interval=10)
    heartbeat.timeout.connect(lambda: gaps.append(clock.restart()))
    done = QEventLoop()
    window.analysisFinished.connect(lambda *_: QTimer.singleShot(100, done.quit))
    t0 = time.perf_counter()
    clock.start()
    heartbeat.start()
    window.run_analysis()
    done.exec()
    heartbeat.stop()
    seconds = time.perf_counter() - t0
    window.close()
    window.deleteLater()
    return seconds, len(gaps), gaps[1:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    print(f"load average before: {load_average()}")
    print("| run | analysis s | heartbeats | longest stall ms | stalls > 50 ms |")
    print("|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(args.runs):
            seconds, beats, gaps = one_run(Path(tmp), args.images, run)
            longest = max(gaps) if gaps else 0
            print(f"| {run} | {seconds:.2f} | {beats} | {longest} | {sum(g > 50 for g in gaps)} |")
    print(f"load average after: {load_average()}  (target: longest stall < 100 ms)")
    del app


if __name__ == "__main__":
    main()
