"""Editing geometry without Qt: box handles and body, polygon vertices and body, clamping,
sub-pixel floats, and the core edits built from them."""

from __future__ import annotations

import pytest

from labelfix.core import editing as ed

H, W = 100, 200
BOX = [10.5, 20.25, 30.0, 40.0]  # x0 10.5, y0 20.25, x1 40.5, y1 60.25


@pytest.mark.parametrize(
    ("handle", "point", "expected"),
    [
        ("nw", (5.0, 10.0), [5.0, 10.0, 35.5, 50.25]),
        ("n", (999.0, 15.75), [10.5, 15.75, 30.0, 44.5]),
        ("ne", (50.25, 25.0), [10.5, 25.0, 39.75, 35.25]),
        ("e", (45.5, -5.0), [10.5, 20.25, 35.0, 40.0]),
        ("se", (41.0, 61.0), [10.5, 20.25, 30.5, 40.75]),
        ("s", (0.0, 70.5), [10.5, 20.25, 30.0, 50.25]),
        ("sw", (12.0, 55.0), [12.0, 20.25, 28.5, 34.75]),
        ("w", (0.125, 0.0), [0.125, 20.25, 40.375, 40.0]),
    ],
)
def test_each_box_handle_moves_only_its_edges(
    handle: str, point: tuple[float, float], expected: list[float]
) -> None:
    got = ed.move_box_handle(BOX, handle, *point, H, W)
    assert got == pytest.approx(expected)
    assert BOX == [10.5, 20.25, 30.0, 40.0]  # input untouched


def test_box_handle_points_and_crossing_over() -> None:
    pts = ed.box_handle_points(BOX)
    assert pts["nw"] == (10.5, 20.25) and pts["se"] == (40.5, 60.25)
    assert pts["n"] == (25.5, 20.25) and pts["e"] == (40.5, 40.25)
    # dragging the west edge past the east edge flips the box instead of a negative width
    assert ed.move_box_handle(BOX, "w", 50.0, 0, H, W) == pytest.approx([40.5, 20.25, 9.5, 40.0])


def test_box_handle_clamped_to_image() -> None:
    assert ed.move_box_handle(BOX, "se", 500.0, 500.0, H, W) == pytest.approx(
        [10.5, 20.25, 189.5, 79.75]
    )
    assert ed.move_box_handle(BOX, "nw", -8.0, -3.0, H, W) == pytest.approx([0.0, 0.0, 40.5, 60.25])
    with pytest.raises(ValueError):
        ed.move_box_handle(BOX, "middle", 0, 0, H, W)


def test_move_box_keeps_size_and_stays_inside() -> None:
    assert ed.move_box(BOX, 1.25, -0.5, H, W) == pytest.approx([11.75, 19.75, 30.0, 40.0])
    assert ed.move_box(BOX, -100, -100, H, W) == pytest.approx([0.0, 0.0, 30.0, 40.0])
    assert ed.move_box(BOX, 1000, 1000, H, W) == pytest.approx([170.0, 60.0, 30.0, 40.0])


def test_box_from_corners_any_order_clamped() -> None:
    assert ed.box_from_corners(50.5, 40.0, 10.25, 5.0, H, W) == pytest.approx(
        [10.25, 5.0, 40.25, 35.0]
    )
    assert ed.box_from_corners(-5, -5, 300, 300, H, W) == [0.0, 0.0, 200.0, 100.0]


TRI = [[10.0, 10.0, 50.0, 10.0, 30.0, 40.0]]
TWO = [[10.0, 10.0, 50.0, 10.0, 30.0, 40.0], [100.0, 50.0, 140.0, 50.0, 140.0, 90.0, 100.0, 90.0]]


def test_move_vertex_part_by_part_with_floats_and_clamping() -> None:
    got = ed.move_vertex(TWO, 1, 2, 150.75, 95.5, H, W)
    assert got[0] == TWO[0]
    assert got[1] == [100.0, 50.0, 140.0, 50.0, 150.75, 95.5, 100.0, 90.0]
    clamped = ed.move_vertex(TRI, 0, 0, -20.0, 130.0, H, W)
    assert clamped[0][:2] == [0.0, 100.0]
    with pytest.raises(IndexError):
        ed.move_vertex(TRI, 0, 3, 0, 0, H, W)
    with pytest.raises(IndexError):
        ed.move_vertex(TRI, 1, 0, 0, 0, H, W)


def test_insert_and_remove_vertex_never_below_three() -> None:
    four = ed.insert_vertex(TRI, 0, 0, 30.5, 5.25, H, W)
    assert four == [[10.0, 10.0, 30.5, 5.25, 50.0, 10.0, 30.0, 40.0]]
    assert ed.remove_vertex(four, 0, 1) == TRI
    with pytest.raises(ed.EditGeometryError):
        ed.remove_vertex(TRI, 0, 0)
    closing = ed.insert_vertex(TRI, 0, 2, 5.0, 30.0, H, W)  # on the closing edge
    assert closing[0][-2:] == [5.0, 30.0]
    with pytest.raises(ed.EditGeometryError):
        ed.remove_vertex(TWO, 0, 1)  # the triangle part of a two-part polygon
    assert len(ed.remove_vertex(TWO, 1, 0)[1]) == 6


def test_move_polygon_whole_and_one_part_shape_kept() -> None:
    moved = ed.move_polygon(TWO, 2.5, -1.25, H, W)
    assert moved[0] == [12.5, 8.75, 52.5, 8.75, 32.5, 38.75]
    assert moved[1][:2] == [102.5, 48.75]
    edge = ed.move_polygon(TWO, 500, 500, H, W)  # limited by the rightmost/bottom vertex
    assert ed.polygon_bounds(edge) == pytest.approx((70.0, 20.0, 200.0, 100.0))
    one = ed.move_polygon(TWO, -5, 0, H, W, part=1)
    assert one[0] == TWO[0] and one[1][0] == 95.0


def test_nearest_vertex_and_edge() -> None:
    assert ed.nearest_vertex(TWO, 139.0, 89.0)[:2] == (1, 2)
    part, index, dist, point = ed.nearest_edge(TRI, 30.0, 9.0)
    assert (part, index) == (0, 0) and dist == pytest.approx(1.0) and point == (30.0, 10.0)
    part, index, _d, _p = ed.nearest_edge(TRI, 12.0, 30.0)  # closing edge 2 -> 0
    assert (part, index) == (0, 2)


def test_polygon_from_points_and_box_polygon() -> None:
    poly = ed.polygon_from_points([(1.5, 1.5), (1.5, 1.5), (40, 2), (20, 300), (1.5, 1.5)], H, W)
    assert poly == [[1.5, 1.5, 40.0, 2.0, 20.0, 100.0]]
    with pytest.raises(ed.EditGeometryError):
        ed.polygon_from_points([(1, 1), (2, 2), (1, 1)], H, W)
    assert ed.is_box_polygon([[1.0, 2.0, 5.0, 2.0, 5.0, 9.0, 1.0, 9.0]])
    assert not ed.is_box_polygon([[1.0, 2.0, 5.0, 9.0, 5.0, 2.0, 1.0, 9.0]])  # bow tie
    assert not ed.is_box_polygon(TRI) and not ed.is_box_polygon(TWO)
    assert not ed.is_box_polygon(None) and not ed.is_box_polygon({"counts": "x"})


def test_offset_geometry_for_duplicates() -> None:
    box, seg = ed.offset_geometry([10.0, 10.0, 40.0, 30.0], TRI, 8.0, H, W)
    assert box == [18.0, 18.0, 40.0, 30.0] and seg[0][:2] == [18.0, 18.0]
    box, seg = ed.offset_geometry([180.0, 80.0, 20.0, 20.0], None, 8.0, H, W)
    assert box == [172.0, 72.0, 20.0, 20.0] and seg is None


def test_core_set_geometry_derives_bbox_and_area_from_edited_polygon(tmp_path) -> None:
    """The edited polygon goes through core's SetGeometry: bbox follows it, area as pycocotools."""
    from pycocotools import mask as mask_utils

    from labelfix.core.edits import derive_geometry

    ann = {"bbox": [10.0, 10.0, 40.0, 30.0], "segmentation": TRI, "area": 600.0}
    poly = ed.move_vertex(TRI, 0, 2, 30.25, 45.5, H, W)
    fields = derive_geometry(ann, H, W, segmentation=poly)
    assert fields["bbox"] == pytest.approx([10.0, 10.0, 40.0, 35.5])
    rle = mask_utils.merge(mask_utils.frPyObjects(poly, H, W))
    assert fields["area"] == pytest.approx(float(mask_utils.area(rle)))
