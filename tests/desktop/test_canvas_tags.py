"""Tags on the canvas: readable on every class colour, never on top of one another or of the
suspect's outline, inside the view, with a leader line when one has to move away from its box;
the issue's case (image 000000000590: a sink label's tag hidden under the bowl tag)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor

from labelfix.core.store import Store
from labelfix.desktop import jobs
from labelfix.desktop.canvas.items import (
    INK_DARK,
    INK_LIGHT,
    category_colour,
    contrast_ratio,
    ink_for,
    relative_luminance,
)
from labelfix.desktop.canvas.tag_layout import (
    TagRequest,
    outline_bands,
    overlap,
    place_tags,
)
from labelfix.desktop.canvas.view import CanvasView
from labelfix.desktop.session import Session

from helpers import shared_path

SINK_ON_BOWL = "wrong_class:1898065:2401"  # image 590: the bowl label, predicted a sink


def test_luminance_and_contrast_follow_wcag(qapp: object) -> None:
    assert relative_luminance(QColor("#000000")) == 0.0
    assert relative_luminance(QColor("#ffffff")) == pytest.approx(1.0)
    assert contrast_ratio(QColor("#000000"), QColor("#ffffff")) == pytest.approx(21.0)
    assert contrast_ratio(QColor("#777777"), QColor("#ffffff")) == pytest.approx(4.48, abs=0.01)


def test_tag_text_is_readable_on_every_class_colour(qapp: object) -> None:
    for category_id in range(1, 201):
        colour = category_colour(category_id)
        assert contrast_ratio(colour, ink_for(colour)) >= 4.5, (category_id, colour.name())
    for blue in (16, 84):  # bird, book: dark text on them read at 2.5:1 before
        colour = category_colour(blue)
        assert ink_for(colour) == INK_LIGHT
        assert contrast_ratio(colour, INK_DARK) < 3 < contrast_ratio(colour, INK_LIGHT)


def _rects(places: list) -> dict:
    return {p.key: p for p in places}


def test_tags_of_boxes_sharing_a_corner_do_not_cover_each_other() -> None:
    bowl = (100.0, 100.0, 300.0, 160.0)
    sink = (106.0, 104.0, 290.0, 130.0)  # the same top-left corner, give or take
    requests = [
        TagRequest("bowl", 40, 16, bowl, priority=0),
        TagRequest("sink 0.43", 70, 16, bowl, priority=1, below=True),
        TagRequest("sink", 32, 16, sink, priority=10),
    ]
    places = _rects(place_tags(requests, (0, 0, 600, 400), suspect=[bowl]))
    rects = [p.rect for p in places.values()]
    assert all(overlap(a, b) == 0 for i, a in enumerate(rects) for b in rects[i + 1 :])
    assert all(overlap(places["sink"].rect, band) == 0 for band in outline_bands(bowl))
    assert places["bowl"].rect == (100.0, 84.0, 140.0, 100.0)  # above its box, left-aligned
    assert places["sink 0.43"].rect == (100.0, 160.0, 170.0, 176.0)  # below its box


def test_a_crowded_tag_moves_away_with_a_leader_line_and_stays_in_view() -> None:
    box = (50.0, 50.0, 80.0, 80.0)
    crowd = [TagRequest(f"t{i}", 60, 16, box, priority=i) for i in range(12)]
    places = place_tags(crowd, (0, 0, 300, 300))
    rects = [p.rect for p in places]
    assert all(overlap(a, b) == 0 for i, a in enumerate(rects) for b in rects[i + 1 :])
    assert all(min(r) >= 0 and max(r) <= 300 for r in rects)
    leadered = [p for p in places if p.leader is not None]
    assert leadered  # twelve tags cannot all sit beside one small box
    for p in leadered:
        x0, y0, x1, y1 = p.leader
        assert p.rect[0] <= x0 <= p.rect[2] and p.rect[1] <= y0 <= p.rect[3]  # from the tag
        assert box[0] <= x1 <= box[2] and box[1] <= y1 <= box[3]  # to its box
    near = [p for p in places if p.leader is None]
    assert len(near) >= 3  # above, on and below the box


def test_a_tag_at_the_view_edge_is_pulled_inside() -> None:
    (place,) = place_tags([TagRequest("edge", 50, 16, (0.0, 0.0, 30.0, 30.0))], (0, 0, 200, 200))
    assert place.rect[0] >= 0 and place.rect[1] >= 0 and place.leader is None


@pytest.fixture(scope="module")
def real81(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 81 real COCO images with the real CenterNet predictions, imported and analysed."""
    data = shared_path("coco_real81")
    out = tmp_path_factory.mktemp("real81") / "real81.labelfix"
    jobs.import_and_analyze(
        data / "annotations" / "instances_real81.json",
        data / "images",
        data / "predictions" / "centernet_bbox_results.json",
        out,
    )
    return out


def test_the_sink_tag_is_no_longer_hidden_under_the_bowl_tag(qtbot: object, real81: Path) -> None:
    with Store.open(real81) as store, store.atomic():
        store.set_meta("ui_state", {"filter": {"min_confidence": 0.0}, "selected": SINK_ON_BOWL})
    session = Session.open(real81)
    assert session.current()["key"] == SINK_ON_BOWL
    view = CanvasView()
    qtbot.addWidget(view)
    view.resize(520, 840)  # the canvas's share of a 1400x900 window
    view.show()
    with qtbot.waitSignal(view.imageShown, timeout=10_000):
        view.attach(session)
    scene = view.review_scene
    to_view = view.viewportTransform()
    rects = scene.tag_rects(to_view)
    (sink,), (bowl,) = rects["sink"], rects["bowl"]
    # where both tags were drawn before: on their boxes' top-left corners, 2 px apart
    sink_box = to_view.mapRect(QRectF(75.87, 295.01, 85.2, 11.57))
    bowl_box = to_view.mapRect(QRectF(73.0, 292.99, 92.87, 27.6))
    naive = [QRectF(b.left(), b.top() - r.height(), r.width(), r.height()) for b, r in
             ((sink_box, sink), (bowl_box, bowl))]  # fmt: skip
    hidden = naive[0].intersected(naive[1])
    assert hidden.width() * hidden.height() > 0.6 * sink.width() * sink.height()
    every = [r for group in rects.values() for r in group]
    for i, a in enumerate(every):
        for b in every[i + 1 :]:
            assert not a.intersects(b), (a, b)
    viewport = QRectF(view.viewport().rect())
    assert all(viewport.contains(r) for r in every)
    suspect_box = (bowl_box.left(), bowl_box.top(), bowl_box.right(), bowl_box.bottom())
    s = (sink.left(), sink.top(), sink.right(), sink.bottom())
    assert all(overlap(s, band) == 0 for band in outline_bands(suspect_box))
    view.attach(None)
    session.close()
