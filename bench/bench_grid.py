"""The triage grid at scale, and a scripted reviewer in the grid vs the canvas.

    python bench/bench_grid.py [--out bench/out/grid] [--pages 25] [--suspects 100] [--think 0.3]

A project of 100,000 images, 1,000,000 labels and 2,000,000 box predictions (bench_scale.py's
generator, as bench_scale_window.py uses; ~500,000 suspects once analysed with calibrated
scores) is built once and cached in ``<out>``. Real JPEGs are
written for the images of the suspects the bench looks at (the first pages of all suspects by
score, the pages around row 250,000, the first suspects of the review list); every other image
would show the "image missing" crop. The real MainWindow runs offscreen at 1400x900, in one
process, and the grid lists every suspect by score. It times:

- first page: G shows the grid until every crop on screen is made (nothing cached);
- page scroll, cold: Page Down (the key + the repaint the user sees, placeholders where crops
  are not made yet), then the time until that page's crops are all made;
- page scroll, cached: Page Up back over the same pages, every crop in memory (target < 100 ms);
- page scroll, from disk: a fresh crop cache (memory empty, the disk cache as left), Page Down
  over the same pages until each page's crops are in;
- jump: the session selects row 250,000; the grid scrolls there and paints;
- the longest UI-thread stall while crops are made (a 10 ms heartbeat timer);
- a scripted reviewer on the same first suspects of the review list (each run on its own copy
  of the project), with a fixed think time before every key press or click and the same verdict
  per suspect (accept one in four, by a hash of its key, else reject):
  canvas: for each suspect, wait until its image is shown, think, press A or R;
  grid: for each page, wait until its crops are made, Ctrl+click each crop to accept (thinking
  before each; the first crop is selected already: Ctrl+click takes it out when it is a reject),
  press A (the grid goes on at the first open crop of the page), then Shift+click the last
  crop of the rest of the page and press R.
  Suspects per minute = suspects decided / wall time (think time included).

This is a benchmark, not a test. Times are wall clock on a shared machine: run it twice.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import bench_scale  # noqa: E402 - bench/ is on sys.path when this file runs

SIZES = (100_000, 1_000_000, 2_000_000)  # images, labels, predictions
JUMP_ROW = 250_000
FIRST_ROWS = 1_200  # JPEGs for the images of this many suspects at the top (all, by score)
REVIEW_ROWS = 400  # ... and of the review list's first suspects
PAGE_TARGET_MS = 100.0
REVIEW_CONFIDENCE = 0.75  # the review list: open suspects at this confidence (the default cut)


def ensure_project(out: Path) -> Path:
    """bench_scale's generator at SIZES, imported and analysed once (cached in ``out``)."""
    project = out / "scale.labelfix"
    if project.exists():
        return project
    out.mkdir(parents=True, exist_ok=True)
    print(f"building the project ({SIZES[0]:,} images; several minutes)", flush=True)
    if not (out / "gt.json").exists():
        bench_scale.run_step("generate", out, SIZES)
    for step in ("import", "analyze"):
        result = bench_scale.run_step(step, out)
        print(f"  {step}: {result['seconds']:.1f} s", flush=True)
    return project


def child_images(out: Path) -> None:
    """(In a child process) write the JPEGs the bench shows; point the image folder there."""
    import numpy as np

    from labelfix.core.store import Store
    from labelfix.core.suspects import DEFAULT_REVIEW_FILTER, SuspectFilter, SuspectIndex

    folder = out / "images"
    folder.mkdir(exist_ok=True)
    with Store.open(out / "scale.labelfix") as store:
        index = SuspectIndex.load(store)
        everything = index.query(SuspectFilter(), "score", True)
        review = index.query(
            DEFAULT_REVIEW_FILTER.with_(min_confidence=REVIEW_CONFIDENCE), "score", True
        )
        rows = np.concatenate(
            [
                everything[:FIRST_ROWS],
                everything[JUMP_ROW - 100 : JUMP_ROW + 200],
                review[:REVIEW_ROWS],
            ]
        )
        wanted = sorted({int(index.image_id[p]) for p in rows})
        bench_scale.write_jpegs(store, folder, wanted)
    print(len(wanted))


def ms_since(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000


class Window:
    """The real window on a project, and waits for what the user sees."""

    idle = False  # waiting for crops, pressing nothing (the heartbeat measures then)

    def __init__(self, project: Path, cache_dir: Path) -> None:
        from PySide6.QtCore import QSettings, QStandardPaths
        from PySide6.QtWidgets import QApplication

        from labelfix.desktop.main_window import MainWindow

        os.environ["LABELFIX_CACHE_DIR"] = str(cache_dir)
        self.app = QApplication.instance() or QApplication([sys.argv[0]])
        QStandardPaths.setTestModeEnabled(True)
        settings = QSettings(str(project.parent / "window.ini"), QSettings.Format.IniFormat)
        settings.clear()
        self.win = MainWindow(settings=settings)
        self.win.ask_on_close = False
        self.win.resize(1400, 900)
        self.win.show()
        t0 = time.perf_counter()
        assert self.win.open_path(project)
        self.open_ms = ms_since(t0)
        self.process()

    def process(self, rounds: int = 2) -> None:
        for _ in range(rounds):
            self.app.processEvents()

    def wait(self, done: Callable[[], bool], timeout: float = 120.0) -> bool:
        deadline = time.perf_counter() + timeout
        self.app.processEvents()  # what the last key queued, before the heartbeat counts
        Window.idle = True
        try:
            while not done():
                if time.perf_counter() > deadline:
                    return False
                self.app.processEvents()
                time.sleep(0.001)
            return True
        finally:
            Window.idle = False

    def think(self, seconds: float) -> None:
        """The reviewer looks: the app keeps running (prefetch, crops) meanwhile."""
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            self.app.processEvents()
            time.sleep(0.002)

    @property
    def grid(self) -> Any:
        return self.win.grid

    def visible_keys(self) -> list[str]:
        s, grid = self.win.session, self.grid
        return [s.index.key(int(s.positions[r])) for r in grid.visible_rows()]

    def crops_ready(self) -> bool:
        return all(self.grid.cache.get(k) is not None for k in self.visible_keys())

    def key(self, key: Any, mods: Any = None) -> float:
        """Press a key on the grid and repaint it; the milliseconds it took."""
        from PySide6.QtCore import Qt
        from PySide6.QtTest import QTest

        t0 = time.perf_counter()
        QTest.keyClick(self.grid, key, mods or Qt.KeyboardModifier.NoModifier)
        self.grid.viewport().repaint()
        return ms_since(t0)

    def image_on_screen(self) -> bool:
        canvas, s = self.win.canvas, self.win.session
        want = s.shown_image_id()
        return canvas.image_id == want and canvas.shown_image_id == want

    def close(self) -> None:
        self.win.close()
        self.process()


def heartbeat(app: Any) -> tuple[Any, list[float]]:
    """A 10 ms timer; the gaps between its ticks while ``Window.idle`` (the bench waits for
    crops and presses nothing): the UI thread's stalls caused by the crops being made."""
    from PySide6.QtCore import QTimer

    gaps: list[float] = []
    last = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        if Window.idle:
            gaps.append((now - last[0]) * 1000)
        last[0] = now

    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(tick)
    timer.start()
    return timer, gaps


def scroll_bench(project: Path, cache: Path, pages: int) -> dict[str, Any]:
    """Page scrolling over all suspects by score, cold, cached and from disk; the jump."""
    from PySide6.QtCore import Qt

    from labelfix.core.suspects import SuspectFilter

    w = Window(project, cache)
    s = w.win.session
    s.set_filter(SuspectFilter())
    s.set_sort("score", True)
    s.select_row(0)
    w.process()
    timer, gaps = heartbeat(w.app)
    t0 = time.perf_counter()
    w.win.show_grid(True)
    w.grid.viewport().repaint()
    first_paint = ms_since(t0)
    w.wait(w.crops_ready)
    first_page = ms_since(t0)
    cold, cold_ready = [], []
    for _ in range(pages):
        cold.append(w.key(Qt.Key.Key_PageDown))
        t1 = time.perf_counter()
        w.wait(w.crops_ready)
        cold_ready.append(ms_since(t1) + cold[-1])
    making_gaps = list(gaps)
    gaps.clear()  # the same heartbeat with nothing to make: the machine's own stalls
    w.wait(lambda: w.grid.cache.pending() == 0)
    deadline = time.perf_counter() + 5.0
    w.wait(lambda: time.perf_counter() > deadline)
    idle_gaps = list(gaps)
    cached = [w.key(Qt.Key.Key_PageUp) for _ in range(pages)]
    assert w.crops_ready()
    w.grid.attach(s)  # a fresh crop cache: memory empty, disk kept
    w.process()
    w.wait(w.crops_ready)
    disk = []
    for _ in range(pages):
        t1 = time.perf_counter()
        w.key(Qt.Key.Key_PageDown)
        w.wait(w.crops_ready)
        disk.append(ms_since(t1))
    jump_row = min(JUMP_ROW, s.row_count() - 1)
    t0 = time.perf_counter()
    s.select_row(jump_row)
    w.grid.viewport().repaint()
    jump_paint = ms_since(t0)
    w.wait(w.crops_ready)
    jump_ready = ms_since(t0)
    timer.stop()
    result = {
        "suspects": len(s.index),
        "listed": s.row_count(),
        "per page": len(w.grid.visible_rows()),
        "columns": w.grid.columns(),
        "open": w.open_ms,
        "first paint": first_paint,
        "first page ready": first_page,
        "cold": cold,
        "cold ready": cold_ready,
        "cached": cached,
        "disk": disk,
        "jump paint": jump_paint,
        "jump ready": jump_ready,
        "stall while making crops": max(making_gaps) if making_gaps else 0.0,
        "stalls over 50 ms while making crops": sum(g > 50 for g in making_gaps),
        "heartbeats while making crops": len(making_gaps),
        "stall while idle": max(idle_gaps) if idle_gaps else 0.0,
        "stalls over 50 ms while idle": sum(g > 50 for g in idle_gaps),
        "heartbeats while idle": len(idle_gaps),
    }
    w.close()
    return result


def verdict(key: str) -> str:
    """The scripted reviewer's verdict: accept one suspect in four (by its key), else reject."""
    return "accepted" if hashlib.sha1(key.encode()).digest()[0] < 64 else "rejected"


def canvas_reviewer(project: Path, cache: Path, n: int, think: float) -> dict[str, Any]:
    """Decide the first n suspects of the review list in the canvas."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    from labelfix.core.suspects import DEFAULT_REVIEW_FILTER

    w = Window(project, cache)
    s = w.win.session
    s.set_filter(DEFAULT_REVIEW_FILTER.with_(min_confidence=REVIEW_CONFIDENCE))
    s.select_row(0)
    w.win.canvas.setFocus()
    decided: dict[str, str] = {}
    presses = 0
    waited = 0.0
    t0 = time.perf_counter()
    while len(decided) < n and s.current() is not None:
        t1 = time.perf_counter()
        w.wait(w.image_on_screen)
        waited += time.perf_counter() - t1
        key = s.current_key()
        w.think(think)
        verdict_ = verdict(key)
        t1 = time.perf_counter()
        QTest.keyClick(w.win, Qt.Key.Key_A if verdict_ == "accepted" else Qt.Key.Key_R)
        presses += 1
        w.process()
        waited += time.perf_counter() - t1
        decided[key] = verdict_
    total = time.perf_counter() - t0
    result = _reviewed(w, decided, total, presses, waited)
    w.close()
    return result


def grid_reviewer(project: Path, cache: Path, n: int, think: float) -> dict[str, Any]:
    """Decide the first n suspects of the review list in the grid, a page at a time: accept
    the page's accept-verdict crops (Ctrl+clicks, A), then look at the page again (accepting
    re-analyses images: suspects may go or come), and reject it when nothing is left to
    accept (Shift+click the page's last crop, R)."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    from labelfix.core.suspects import DEFAULT_REVIEW_FILTER

    w = Window(project, cache)
    s = w.win.session
    s.set_filter(DEFAULT_REVIEW_FILTER.with_(min_confidence=REVIEW_CONFIDENCE))
    s.select_row(0)
    w.win.show_grid(True)
    grid = w.grid
    ctrl, shift = Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.ShiftModifier
    decided: dict[str, str] = {}
    presses = 0
    waited = 0.0
    t0 = time.perf_counter()

    def act(fn: Callable[[], None]) -> None:
        nonlocal presses, waited
        w.think(think)
        t1 = time.perf_counter()
        fn()
        w.process()
        waited += time.perf_counter() - t1
        presses += 1

    def click(row: int, mods: Any) -> None:
        center = grid.cell_rect(row).center()
        act(lambda: QTest.mouseClick(grid.viewport(), Qt.MouseButton.LeftButton, mods, center))

    try:
        while len(decided) < n and s.current_row() is not None:
            if presses > 4 * n:
                raise SystemExit(f"the grid reviewer is stuck: {window_message(w)}")
            grid.ensure_visible(s.current_row())
            t1 = time.perf_counter()
            w.wait(w.crops_ready)  # the reviewer sees the page
            waited += time.perf_counter() - t1
            start = s.current_row()
            height = grid.viewport().height()
            rows = [
                r
                for r in grid.visible_rows()
                if r >= start and grid.cell_rect(r).bottom() <= height
            ]
            page = [(r, s.suspect_at(r)["key"]) for r in rows[: n - len(decided)]]
            accept = [(r, k) for r, k in page if verdict(k) == "accepted"]
            if accept:
                first_row, first_key = page[0]
                if verdict(first_key) != "accepted":
                    click(first_row, ctrl)  # take the pre-selected first crop out
                for r, _k in accept:
                    if r != first_row:
                        click(r, ctrl)
                act(lambda: QTest.keyClick(grid, Qt.Key.Key_A))
                decided.update({k: "accepted" for _r, k in accept})
                continue  # look at the page again
            if len(page) > 1:
                click(page[-1][0], shift)
            act(lambda: QTest.keyClick(grid, Qt.Key.Key_R))
            decided.update({k: "rejected" for _r, k in page})
        total = time.perf_counter() - t0
        return _reviewed(w, decided, total, presses, waited)
    finally:
        w.close()


def window_message(w: Window) -> str:
    """What the status bar says (an error a scripted press ran into)."""
    return w.win.statusBar().currentMessage()


def _reviewed(
    w: Window, decided: dict[str, str], total: float, presses: int, waited: float
) -> dict[str, Any]:
    s = w.win.session
    wrong = [
        k for k, v in decided.items() if (s.store.decision(s.set_id, k) or {}).get("decision") != v
    ]
    return {
        "suspects": len(decided),
        "accepted": sum(v == "accepted" for v in decided.values()),
        "seconds": total,
        "per minute": 60 * len(decided) / total,
        "presses": presses,
        "waiting for the app (s)": waited,  # images or crops to show, decisions to land
        "wrongly recorded": len(wrong),
    }


def run_part(part: str, out: Path, args: argparse.Namespace) -> dict[str, Any]:
    """One part in a fresh process (its own window and memory)."""
    proc = subprocess.run(
        [
            sys.executable,
            __file__,
            "--out",
            str(out),
            "--part",
            part,
            "--pages",
            str(args.pages),
            "--suspects",
            str(args.suspects),
            "--think",
            str(args.think),
        ],
        capture_output=True,
        text=True,
    )
    line = next((x for x in proc.stdout.splitlines() if x.startswith("RESULT ")), None)
    if proc.returncode != 0 or line is None:
        raise SystemExit(f"part {part} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    return json.loads(line[len("RESULT ") :])


def part(name: str, out: Path, args: argparse.Namespace) -> None:
    """(In a child process) run one part and print its result."""
    project = out / "scale.labelfix"
    if name == "scroll":
        cache = out / "crop-cache"
        shutil.rmtree(cache, ignore_errors=True)
        result = scroll_bench(project, cache, args.pages)
    else:
        copy = out / f"{name}.labelfix"
        for suffix in ("", "-wal", "-shm"):
            Path(str(copy) + suffix).unlink(missing_ok=True)
        shutil.copy(project, copy)
        cache = out / f"crop-cache-{name}"
        shutil.rmtree(cache, ignore_errors=True)
        run = canvas_reviewer if name == "canvas" else grid_reviewer
        result = run(copy, cache, args.suspects, args.think)
    print("RESULT " + json.dumps(result))


def stats(values: list[float]) -> str:
    values = sorted(values)
    p95 = values[int(0.95 * (len(values) - 1))]
    return f"median {statistics.median(values):.1f} ms, p95 {p95:.1f} ms, max {values[-1]:.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=bench_scale.HERE / "out" / "grid")
    parser.add_argument("--pages", type=int, default=25)
    parser.add_argument("--suspects", type=int, default=100)
    parser.add_argument("--think", type=float, default=0.3, help="seconds before each press")
    parser.add_argument("--part", choices=("scroll", "canvas", "grid"), help=argparse.SUPPRESS)
    parser.add_argument("--child-images", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_images:
        child_images(args.out)
        return
    if args.part:
        part(args.part, args.out, args)
        return
    print(f"load average before: {bench_scale.load_average()}", flush=True)
    ensure_project(args.out)
    proc = subprocess.run(
        [sys.executable, __file__, "--out", str(args.out), "--child-images"],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise SystemExit(f"writing the images failed:\n{proc.stderr[-3000:]}")
    print(f"{proc.stdout.split()[-1]} JPEGs in {args.out / 'images'}", flush=True)
    scroll = run_part("scroll", args.out, args)
    print(f"scroll: {json.dumps(scroll)}", flush=True)
    canvas = run_part("canvas", args.out, args)
    print(f"canvas reviewer: {json.dumps(canvas)}", flush=True)
    grid = run_part("grid", args.out, args)
    print(f"grid reviewer: {json.dumps(grid)}", flush=True)
    print(f"load average after: {bench_scale.load_average()}\n")
    ok = "✓" if max(scroll["cached"]) < PAGE_TARGET_MS else "✗"
    print(
        f"{scroll['suspects']:,} suspects, all listed by score; {scroll['columns']} columns, "
        f"{scroll['per page']} crops on a page; window 1400x900 offscreen\n"
    )
    print("| grid | time |")
    print("|---|---|")
    print(f"| open the window on the project | {scroll['open']:.0f} ms |")
    print(
        f"| G: first paint / every crop on screen made | {scroll['first paint']:.0f} ms / {scroll['first page ready']:.0f} ms |"
    )
    print(f"| Page Down, cold (key + repaint) | {stats(scroll['cold'])} |")
    print(f"| Page Down, cold, until the page's crops are made | {stats(scroll['cold ready'])} |")
    print(
        f"| Page Up, cached (key + repaint; target < {PAGE_TARGET_MS:.0f} ms) {ok} | {stats(scroll['cached'])} |"
    )
    print(f"| Page Down from the disk cache, until made | {stats(scroll['disk'])} |")
    print(
        f"| jump to row {JUMP_ROW:,}: paint / crops made | {scroll['jump paint']:.0f} ms / {scroll['jump ready']:.0f} ms |"
    )
    print(
        f"| longest UI-thread stall while crops are made (10 ms heartbeat) | "
        f"{scroll['stall while making crops']:.0f} ms "
        f"({scroll['stalls over 50 ms while making crops']} of "
        f"{scroll['heartbeats while making crops']} beats over 50 ms) |"
    )
    print(
        f"| ... while idle, nothing to make (the machine's own) | "
        f"{scroll['stall while idle']:.0f} ms ({scroll['stalls over 50 ms while idle']} of "
        f"{scroll['heartbeats while idle']} over 50 ms) |"
    )
    print(f"\nscripted reviewer, {args.think:.2f} s think time before each press or click:\n")
    print(
        "| view | suspects | accepted | presses | wall time | waiting for the app | suspects / minute |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, r in (("canvas", canvas), ("grid", grid)):
        print(
            f"| {name} | {r['suspects']} | {r['accepted']} | {r['presses']} | {r['seconds']:.1f} s "
            f"| {r['waiting for the app (s)']:.1f} s | {r['per minute']:.0f} |"
        )
    print(f"\ngrid / canvas: {grid['per minute'] / canvas['per minute']:.2f}x")


if __name__ == "__main__":
    main()
