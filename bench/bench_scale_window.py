"""The review window at scale: bench_scale.py's project (100,000 images, 1,000,000 labels,
2,000,000 predictions, analysed) opened in the real MainWindow, offscreen, in one process.

    python bench/bench_scale_window.py [--out bench/out/scale] [--steps 100] [--profile PART]

Reuses bench_scale.py's generator and its cached project (``<out>/scale.labelfix``; built with
bench_scale's own steps when missing). Small real JPEGs are written for the images the first 200
suspects of the review order touch (``<out>/images``, named as in the dataset; the project's image
folder is pointed there); every other image shows the "missing image" placeholder. Then it times:

- open: ``Session.open`` + ``MainWindow.set_session`` + the suspects table's first paint (the
  project's cache files, ``<out>/scale.labelfix-cache``, are mapped: the suspect columns, the
  file names and the prediction part of the image shown; the first open of a part writes it);
- sort / filter: ``session.set_sort`` / ``set_filter`` + the events that repaint the table;
- jump: select row 500,000 of all suspects sorted by score (table scrolls, canvas follows);
- switch: the "next" action (Space) 100 times from the top of the review list, each until the
  canvas shows the next suspect's image; between steps the loop waits (up to 1 s, like a reviewer
  looking) for the image prefetch to finish;
- decide: one reject (R) and its undo (Ctrl+Z) (the commit and the status of one suspect), then
  one accept (A) and its undo: the fix applied, its image re-analysed, the suspect index
  reloaded;
- peak RSS (``ru_maxrss``).

The project's review state (``ui_state``) is reset first, and the decisions are undone, so runs
are comparable (the change log keeps growing by a few entries per run). This is a benchmark, not a test. ``--profile open|switch|decide`` prints where
that part's time goes (cProfile).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import bench_scale  # noqa: E402 - bench/ is on sys.path when this file runs

N_IMAGES, N_LABELS, N_PREDICTIONS = 100_000, 1_000_000, 2_000_000
JUMP_ROW = 500_000
IMAGE_SUSPECTS = 200  # JPEGs for the images of this many suspects at the top of the review list
TARGETS = {
    "open": 2000.0,
    "sort/filter": 200.0,
    "switch median": 50.0,
    "peak RSS": 2048.0,
}


# ----------------------------------------------------------------------------- the project


def ensure_project(out: Path) -> Path:
    """bench_scale's analysed project, generated, imported and analysed when missing."""
    project = out / "scale.labelfix"
    if project.exists():
        return project
    print("no cached project: building it with bench_scale.py (several minutes)", flush=True)
    if not (out / "gt.json").exists():
        bench_scale.run_step("generate", out, (N_IMAGES, N_LABELS, N_PREDICTIONS))
    for step in ("import", "analyze"):
        result = bench_scale.run_step(step, out)
        print(f"  {step}: {result['seconds']:.1f} s", flush=True)
    return project


def write_images(out: Path) -> int:
    """In a child process (so its memory is not this one's): real JPEGs for the images of the
    first IMAGE_SUSPECTS suspects of the default review list; the image folder points there."""
    proc = subprocess.run(
        [sys.executable, __file__, "--out", str(out), "--child-images"],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise SystemExit(f"writing the images failed:\n{proc.stderr[-3000:]}")
    return int(proc.stdout.split()[-1])


def child_images(out: Path) -> None:
    """The --child-images step: write the JPEGs, set images_root, reset the review state."""

    from labelfix.core.store import Store
    from labelfix.core.suspects import DEFAULT_REVIEW_FILTER, SuspectIndex

    folder = out / "images"
    folder.mkdir(exist_ok=True)
    with Store.open(out / "scale.labelfix") as store:
        index = SuspectIndex.load(store)
        rows = index.query(DEFAULT_REVIEW_FILTER, "score", True)[:IMAGE_SUSPECTS]
        wanted = sorted({int(index.image_id[p]) for p in rows})
        bench_scale.write_jpegs(store, folder, wanted)
    print(len(wanted))


# ----------------------------------------------------------------------------- timing


def peak_mb() -> float:
    """This process's peak RSS (ru_maxrss, KiB on Linux) in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def ms_since(t0: float) -> float:
    """Milliseconds since ``t0`` (perf_counter)."""
    return (time.perf_counter() - t0) * 1000


class Bench:
    """The window, and helpers that wait for what the user would see."""

    def __init__(self, project: Path, profile: str | None) -> None:
        from PySide6.QtCore import QEvent, QObject, QSettings, QStandardPaths
        from PySide6.QtWidgets import QApplication

        from labelfix.desktop.main_window import MainWindow

        self.app = QApplication.instance() or QApplication([sys.argv[0]])
        QStandardPaths.setTestModeEnabled(True)
        self.project = project
        self.profile_part = profile
        settings = QSettings(str(project.parent / "window.ini"), QSettings.Format.IniFormat)
        settings.clear()
        self.win = MainWindow(settings=settings)
        self.win.ask_on_close = False
        self.win.resize(1400, 900)
        self.win.show()
        self.app.processEvents()
        self.painted = False
        bench = self

        class PaintSpy(QObject):
            def eventFilter(self, _obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
                if event.type() == QEvent.Type.Paint:
                    bench.painted = True
                return False

        self.spy = PaintSpy()

    def process(self, rounds: int = 2) -> None:
        """Run the queued events (0 ms timers, repaints)."""
        for _ in range(rounds):
            self.app.processEvents()

    def wait_until(self, done: Callable[[], bool], timeout: float = 10.0) -> bool:
        """Process events until ``done()`` or the timeout."""
        deadline = time.perf_counter() + timeout
        while not done():
            if time.perf_counter() > deadline:
                return False
            self.app.processEvents()
            if not done():
                time.sleep(0.0005)
        return True

    def wait_painted(self) -> None:
        """Until the suspects table has painted since ``painted`` was cleared."""
        self.wait_until(lambda: self.painted)

    def image_on_screen(self) -> bool:
        """The canvas shows the session's current image (pixels or placeholder)."""
        canvas = self.win.canvas
        want = self.win.session.shown_image_id()
        return canvas.image_id == want and canvas.shown_image_id == want

    def profiled(self, part: str, fn: Callable[[], Any]) -> Any:
        """Run ``fn``, under cProfile when this part is the one asked for."""
        if self.profile_part != part:
            return fn()
        prof = cProfile.Profile()
        prof.enable()
        try:
            return fn()
        finally:
            prof.disable()
            print(f"\n--- cProfile of {part} (cumulative) ---")
            pstats.Stats(prof).sort_stats(os.environ.get("BENCH_PROFILE_SORT", "cumulative")).print_stats(30)

    # ------------------------------------------------------------------ parts
    def open(self) -> dict[str, float]:
        """Session.open, set_session, first paint of the table."""
        from labelfix.desktop.session import Session

        t0 = time.perf_counter()
        session = Session.open(self.project, self.win)
        t_session = ms_since(t0)
        self.win.set_session(session)
        t_views = ms_since(t0)
        self.win.table.viewport().installEventFilter(self.spy)
        self.painted = False
        self.wait_painted()
        total = ms_since(t0)
        self.wait_until(self.image_on_screen)
        return {
            "Session.open": t_session,
            "set_session": t_views - t_session,
            "first paint": total - t_views,
            "open": total,
            "rows listed": session.row_count(),
            "suspects": len(session.index),
        }

    def table_ops(self) -> dict[str, float]:
        """Sorts and filters on all suspects, each until the table repainted."""
        from labelfix.core.suspects import DEFAULT_REVIEW_FILTER, SuspectFilter

        s = self.win.session
        some = frozenset(sorted(s.category_names)[:3])
        ops: list[tuple[str, Callable[[], None]]] = [
            ("filter: none (all suspects)", lambda: s.set_filter(SuspectFilter())),
            ("sort: score ascending", lambda: s.set_sort("score", False)),
            ("sort: confidence", lambda: s.set_sort("confidence", True)),
            ("sort: IoU", lambda: s.set_sort("iou", False)),
            ("sort: file name", lambda: s.set_sort("file_name", False)),
            ("sort: label class", lambda: s.set_sort("label_class", False)),
            ("sort: score", lambda: s.set_sort("score", True)),
            (
                "filter: kind wrong_class",
                lambda: s.set_filter(SuspectFilter(kinds=frozenset({"wrong_class"}))),
            ),
            ("filter: 3 classes", lambda: s.set_filter(SuspectFilter(category_ids=some))),
            ("filter: file name '0001'", lambda: s.set_filter(SuspectFilter(file_name="0001"))),
            ("filter: review default", lambda: s.set_filter(DEFAULT_REVIEW_FILTER)),
            ("filter: none again", lambda: s.set_filter(SuspectFilter())),
        ]
        out = {}
        for name, op in ops:
            self.painted = False
            t0 = time.perf_counter()
            op()
            self.process()
            self.wait_painted()
            out[name] = ms_since(t0)
        return out

    def jump(self) -> dict[str, float]:
        """Select row 500,000 of all suspects sorted by score (the table scrolls there)."""
        s = self.win.session
        assert s.row_count() > JUMP_ROW, s.row_count()
        self.painted = False
        t0 = time.perf_counter()
        s.select_row(JUMP_ROW)
        self.process()
        self.wait_painted()
        table_ms = ms_since(t0)
        self.wait_until(self.image_on_screen)
        row = self.win.table.currentIndex().row()
        assert row == JUMP_ROW, row
        return {"jump (table)": table_ms, "jump (+ canvas)": ms_since(t0)}

    def switch(self, steps: int) -> dict[str, Any]:
        """The "next" action from the top of the review list, with image prefetch."""
        from labelfix.core.suspects import DEFAULT_REVIEW_FILTER

        s = self.win.session
        loader = self.win.canvas.loader
        s.set_filter(DEFAULT_REVIEW_FILTER)
        s.set_sort("score", True)
        s.select_row(0)
        self.process()
        self.wait_until(self.image_on_screen)
        next_action = self.win.actions["next"]
        times, waits, new_images, placeholders = [], [], 0, 0
        for _ in range(steps):
            t_idle = time.perf_counter()
            self.wait_until(lambda: not loader._pending, timeout=1.0)  # the reviewer looks
            waits.append(ms_since(t_idle))
            before = s.shown_image_id()
            t0 = time.perf_counter()
            next_action.trigger()
            self.process(1)
            self.wait_until(self.image_on_screen)
            self.painted = False
            self.win.canvas.viewport().repaint()  # the frame the user sees
            times.append(ms_since(t0))
            new_images += s.shown_image_id() != before
            placeholders += s.shown_image_id() in loader._errors
        times.sort()
        return {
            "switch median": statistics.median(times),
            "switch p95": times[int(0.95 * (len(times) - 1))],
            "switch max": times[-1],
            "steps": steps,
            "new images": new_images,
            "placeholders": placeholders,
            "prefetch wait median": statistics.median(waits),
        }

    def decide(self) -> dict[str, float]:
        """One reject (R) and its undo: commit + re-analysis + index reload + repaint."""
        s = self.win.session
        key = s.current()["key"]
        t0 = time.perf_counter()
        self.win.actions["reject"].trigger()
        self.process()
        reject_ms = ms_since(t0)
        assert s.store.decision(s.set_id, key)["decision"] == "rejected"
        t0 = time.perf_counter()
        self.win.actions["undo"].trigger()
        self.process()
        undo_ms = ms_since(t0)
        assert s.store.decision(s.set_id, key) is None
        kind = s.current()["kind"]
        t0 = time.perf_counter()
        self.win.actions["accept"].trigger()  # applies the fix: a label edit
        self.process()
        accept_ms = ms_since(t0)
        assert s.store.decision(s.set_id, key)["decision"] == "accepted"
        t0 = time.perf_counter()
        self.win.actions["undo"].trigger()
        self.process()
        undo_accept_ms = ms_since(t0)
        assert s.store.decision(s.set_id, key) is None
        return {
            "reject (R)": reject_ms,
            "undo (Ctrl+Z)": undo_ms,
            f"accept (A) a {kind}": accept_ms,
            "undo the accept": undo_accept_ms,
        }

    def close(self) -> None:
        """Close the project (saves the review state) and the window."""
        self.win.close()
        self.process()


def main() -> None:
    """Build or reuse the project, write the images, run every part, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=bench_scale.HERE / "out" / "scale")
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--profile", choices=("open", "switch", "decide", "table"))
    parser.add_argument("--child-images", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_images:
        child_images(args.out)
        return
    print(f"load average before: {bench_scale.load_average()}", flush=True)
    project = ensure_project(args.out)
    t0 = time.perf_counter()
    n_images = write_images(args.out)
    print(
        f"{n_images} JPEGs for the first {IMAGE_SUSPECTS} suspects in {args.out / 'images'} "
        f"({time.perf_counter() - t0:.1f} s, in a child process); other images: placeholder",
        flush=True,
    )
    bench = Bench(project, args.profile)
    rss_before_open = peak_mb()
    opened = bench.profiled("open", bench.open)
    print(f"open: {json.dumps({k: round(v, 1) for k, v in opened.items()})}", flush=True)
    table = bench.profiled("table", bench.table_ops)
    jumped = bench.jump()
    switched = bench.profiled("switch", lambda: bench.switch(args.steps))
    decided = bench.profiled("decide", bench.decide)
    peak = peak_mb()
    bench.close()
    print(f"load average after: {bench_scale.load_average()}\n")

    worst_name, worst = max(table.items(), key=lambda kv: kv[1])
    rows = [
        ("open (Session.open + views + first table paint)", opened["open"], "< 2 s"),
        ("  Session.open (store + suspect index)", opened["Session.open"], ""),
        ("  set_session (views)", opened["set_session"], ""),
        ("  first table paint", opened["first paint"], ""),
        (f"sort/filter, worst ({worst_name})", worst, "< 200 ms"),
        ("jump to row 500,000 (table)", jumped["jump (table)"], ""),
        ("jump to row 500,000 (+ canvas)", jumped["jump (+ canvas)"], ""),
        ("switch suspect (next), median", switched["switch median"], "< 50 ms"),
        ("switch suspect (next), p95", switched["switch p95"], ""),
        ("switch suspect (next), max", switched["switch max"], ""),
        ("reject one suspect (R)", decided["reject (R)"], ""),
        ("undo it (Ctrl+Z)", decided["undo (Ctrl+Z)"], ""),
        *((name, ms, "") for name, ms in list(decided.items())[2:]),
    ]
    print(
        f"{opened['suspects']:,} suspects ({opened['rows listed']:,} in the review list); "
        f"{switched['steps']} steps, {switched['new images']} to another image, "
        f"{switched['placeholders']} showed a placeholder; prefetch wait between steps "
        f"median {switched['prefetch wait median']:.0f} ms\n"
    )
    print("| part | time | target |")
    print("|---|---:|---|")
    for name, ms, target in rows:
        shown = f"{ms / 1000:.2f} s" if ms >= 1000 else f"{ms:.1f} ms"
        ok = "" if not target else (" ✓" if _meets(name, ms) else " ✗")
        print(f"| {name} | {shown} | {target}{ok} |")
    ok = " ✓" if peak < TARGETS["peak RSS"] else " ✗"
    print(f"| peak RSS (ru_maxrss) | {peak:,.0f} MB | < 2 GB{ok} |")
    print(f"\n(RSS after building the window, before opening: {rss_before_open:,.0f} MB)")
    print("\nsort/filter (call + repaint):")
    for name, ms in table.items():
        print(f"  {name:<30} {ms:8.1f} ms")


def _meets(name: str, ms: float) -> bool:
    if name.startswith("open"):
        return ms < TARGETS["open"]
    if name.startswith("sort/filter"):
        return ms < TARGETS["sort/filter"]
    return ms < TARGETS["switch median"]


if __name__ == "__main__":
    main()
