"""The runner: sink per image in order, resumable via done_ids, unreadable images, cancel, progress."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from onnx_models import constant_model, ultralytics_metadata, write_image

from labelfix.core.predict import ClassesError, ImageRef, RunProgress, run_model

NAMES = {0: "person", 1: "bicycle", 2: "car"}
CATS = {1: "person", 3: "car"}


@pytest.fixture
def model(tmp_path):
    head = np.zeros((1, 7, 8400), np.float32)
    head[0, :, 0] = [320, 320, 100, 50, 0.9, 0, 0]
    head[0, :, 1] = [100, 320, 50, 50, 0, 0.8, 0]  # bicycle: not a dataset category
    return constant_model(
        tmp_path / "m.onnx", {"output0": head}, metadata=ultralytics_metadata("detect", NAMES)
    )


@pytest.fixture
def images(tmp_path):
    return [
        ImageRef(i, write_image(tmp_path / f"{i}.png", 64 + i, 48, seed=i), 64 + i, 48)
        for i in range(1, 7)
    ]


def test_sink_gets_every_image_in_order_with_category_ids(model, images):
    seen: list[tuple[int, list]] = []
    threads: set[str] = set()

    def sink(image_id, records):
        seen.append((image_id, records))
        threads.add(threading.current_thread().name)

    summary = run_model(model, images, categories=CATS, sink=sink, prefetch=2)
    assert [i for i, _ in seen] == [im.id for im in images]
    assert threads == {threading.current_thread().name}  # the caller's thread: it may write SQLite
    assert all(len(r) == 1 and r[0]["category_id"] == 1 and r[0]["image_id"] == i for i, r in seen)
    assert summary.images == 6 and summary.predictions == 6 and not summary.problems
    assert summary.mapping.unmapped == ("bicycle",)
    assert 0 < summary.seconds_in_model <= summary.seconds


def test_done_ids_are_skipped(model, images):
    seen: list[int] = []
    summary = run_model(
        model, images, categories=CATS, done_ids={1, 2, 5}, sink=lambda i, r: seen.append(i)
    )
    assert seen == [3, 4, 6] and summary.already_done == 3 and summary.images == 3


def test_unreadable_and_mismatched_images_are_reported_and_skipped(tmp_path, model, images):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    refs = [
        images[0],
        ImageRef(50, broken, 10, 10),
        ImageRef(51, tmp_path / "gone.png", 10, 10),
        ImageRef(52, images[1].path, 999, 48),
        images[2],
    ]
    seen: list[int] = []
    warnings: list[str] = []
    summary = run_model(
        model, refs, categories=CATS, sink=lambda i, r: seen.append(i), warn=warnings.append
    )
    assert seen == [1, 3]
    assert len(summary.problems) == 3 and warnings == summary.problems
    assert "image 50" in summary.problems[0] and "broken.jpg" in summary.problems[0]
    assert "image 51" in summary.problems[1] and "gone.png" in summary.problems[1]
    assert "2.png is 66x48 pixels but its labels are for 999x48" in summary.problems[2]


def test_cancel_stops_between_images(model, images):
    seen: list[int] = []
    summary = run_model(
        model,
        images,
        categories=CATS,
        sink=lambda i, r: seen.append(i),
        should_stop=lambda: len(seen) >= 2,
    )
    assert summary.cancelled and 2 <= len(seen) < len(images)
    assert seen == [im.id for im in images[: len(seen)]]


def test_progress_counts_done_of_total_with_rate(model, images):
    reports: list[RunProgress] = []
    run_model(model, images, categories=CATS, done_ids={1}, progress=reports.append)
    assert [(p.done, p.total) for p in reports] == [(k, 5) for k in range(1, 6)]
    assert reports[-1].images_per_s > 0 and reports[-1].seconds_left == 0
    assert "5/5 images" in str(reports[-1])


def test_a_mapping_that_matches_nothing_stops_before_running(model, images):
    with pytest.raises(ClassesError, match="no class of m.onnx matches"):
        run_model(model, images, categories={1: "crack"})


def test_bad_settings_are_refused(model, images):
    with pytest.raises(ValueError, match="conf and iou"):
        run_model(model, images, categories=CATS, conf=2)


def test_an_image_the_family_cannot_prepare_is_reported(tmp_path):
    # YOLOv5's letterbox makes a 1 x 2000 image 0 pixels wide (round(0.32)): OpenCV refuses it
    out = np.zeros((1, 25200, 8), np.float32)
    model = constant_model(
        tmp_path / "v5.onnx", {"output0": out}, metadata={"stride": "32", "names": str(NAMES)}
    )
    thin = write_image(tmp_path / "thin.png", 1, 2000)
    summary = run_model(model, [ImageRef(9, thin, 1, 2000)], categories=CATS)
    assert summary.images == 0 and summary.problems[0].startswith("image 9 (thin.png): ")
