"""Each model family decoded from real onnxruntime sessions with outputs chosen by hand.

Every expected box below is worked out by hand from the reference's rules (letterbox placement,
padding removal, clipping, NMS, score products); the comments show the arithmetic.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from onnx_models import constant_model, image_records, ultralytics_metadata, write_image
from pycocotools import mask as mask_utils

from labelfix.core.predict import ImageRef, run_model

NAMES = {0: "person", 1: "bicycle", 2: "car"}
CATS = {1: "person", 2: "bicycle", 3: "car"}


def predict(model, image, width, height, **kwargs) -> list[dict]:
    """Records of one image."""
    return image_records(model, image, width, height, CATS, **kwargs)


def boxes(records: list[dict]) -> list[tuple]:
    """(category, bbox, score rounded) per record."""
    return [(r["category_id"], r["bbox"], round(r["score"], 4)) for r in records]


def yolo_head(rows: dict[int, list[float]], channels: int, anchors: int = 8400) -> np.ndarray:
    """A [1, channels, anchors] Ultralytics head with the given anchors filled in."""
    out = np.zeros((1, channels, anchors), np.float32)
    for anchor, values in rows.items():
        out[0, : len(values), anchor] = values
    return out


@pytest.fixture
def image640x480(tmp_path):
    return write_image(tmp_path / "a.png", 640, 480)


def ultralytics_detect_model(tmp_path, **meta):
    head = yolo_head(
        {
            0: [320, 320, 100, 50, 0.9, 0.1, 0.0],  # letterbox xyxy 270,295,370,345 -> image y - 80
            1: [322, 320, 100, 50, 0.8, 0.0, 0.0],  # IoU 0.96 with anchor 0, same class: suppressed
            2: [322, 320, 100, 50, 0.0, 0.7, 0.0],  # same box, class bicycle: kept (class-wise NMS)
            3: [10, 100, 40, 20, 0.0, 0.0, 0.5],  # x1 = -10 -> clipped to 0; y 90..110 -> 10..30
            4: [500, 500, 10, 10, 0.0005, 0.0, 0.0],  # below conf 0.001
        },
        7,
    )
    return constant_model(
        tmp_path / "det.onnx",
        {"output0": head},
        metadata=ultralytics_metadata("detect", NAMES, **meta),
    )


def test_ultralytics_detect_letterbox_nms_clipping(tmp_path, image640x480):
    model = ultralytics_detect_model(tmp_path)
    assert boxes(predict(model, image640x480, 640, 480)) == [
        (1, [270.0, 215.0, 100.0, 50.0], 0.9),
        (2, [272.0, 215.0, 100.0, 50.0], 0.7),
        (3, [0.0, 10.0, 30.0, 20.0], 0.5),
    ]


def test_ultralytics_max_dets_and_agnostic_nms(tmp_path, image640x480):
    model = ultralytics_detect_model(tmp_path)
    assert [
        r["score"] for r in predict(model, image640x480, 640, 480, max_dets=2)
    ] == pytest.approx([0.9, 0.7])
    agnostic = predict(model, image640x480, 640, 480, agnostic=True)
    assert [r["category_id"] for r in agnostic] == [1, 3]  # the bicycle box overlaps the person box


def test_ultralytics_letterbox_inverse_on_a_downscaled_image(tmp_path):
    # 1280 x 854: r = 0.5, content 640 x 427, padding 213 -> top round(106.4) = 106;
    # scale_boxes: gain_y = 427 / 854 = 0.5, pad_y = round(106.5 - 0.1) = 106
    image = write_image(tmp_path / "b.png", 1280, 854)
    head = yolo_head({0: [320, 306, 64, 40, 0.6, 0, 0]}, 7)  # letterbox 288,286,352,326
    model = constant_model(
        tmp_path / "m.onnx", {"output0": head}, metadata=ultralytics_metadata("detect", NAMES)
    )
    # x: 288 / 0.5 = 576, w 128; y: (286 - 106) / 0.5 = 360, h 80
    assert boxes(predict(model, image, 1280, 854)) == [(1, [576.0, 360.0, 128.0, 80.0], 0.6)]


def test_ultralytics_dynamic_input_uses_the_minimum_rectangle(tmp_path):
    # 640 x 427 with a dynamic input: padding 213 % 32 = 21 -> input 448 x 640, top 10
    image = write_image(tmp_path / "c.png", 640, 427)
    head = yolo_head({0: [100, 110, 20, 20, 0.5, 0, 0]}, 7, anchors=5880)
    model = constant_model(
        tmp_path / "dyn.onnx",
        {"output0": head},
        input_shape=[1, 3, "height", "width"],
        metadata=ultralytics_metadata("detect", NAMES, args="{'dynamic': True, 'nms': False}"),
    )
    assert boxes(predict(model, image, 640, 427)) == [(1, [90.0, 90.0, 20.0, 20.0], 0.5)]


def segment_model(tmp_path, protos):
    rows = {
        0: [320, 320, 100, 50, 0.9, 0, 0] + [1.0] + [0.0] * 31,  # mask = proto 0
        1: [100, 300, 40, 40, 0, 0.8, 0] + [0.0, 1.0] + [0.0] * 30,
    }  # mask = proto 1
    head = yolo_head(rows, 4 + 3 + 32)
    return constant_model(
        tmp_path / "seg.onnx",
        {"output0": head, "output1": protos},
        metadata=ultralytics_metadata("segment", NAMES),
    )


def decoded(record) -> np.ndarray:
    rle = dict(record["segmentation"])
    rle["counts"] = rle["counts"].encode()
    return mask_utils.decode(rle)


def test_ultralytics_segment_masks_cropped_to_box_at_image_size(tmp_path, image640x480):
    protos = np.zeros((1, 32, 160, 160), np.float32)
    protos[0, 0] = 1.0  # positive everywhere: the mask is the box
    protos[0, 1, :, :80] = 1.0  # positive left of proto column 80 ...
    protos[0, 1, :, 80:] = -1.0  # ... negative from it on
    records = predict(segment_model(tmp_path, protos), image640x480, 640, 480)
    assert [r["category_id"] for r in records] == [1, 2]
    first, second = decoded(records[0]), decoded(records[1])
    assert first.shape == (480, 640)
    expected = np.zeros((480, 640), np.uint8)
    expected[215:265, 270:370] = 1  # rows y >= 215 and < 265, columns x >= 270 and < 370
    np.testing.assert_array_equal(first, expected)
    # proto -> image: no upsampling (f = 1; padding 160 is whole in proto pixels), rows 20..140
    # cropped, x = (X + 0.5) / 4 - 0.5; the logit changes sign between X = 319 (+0.25) and 320
    # (-0.25). Box 80..120 x 180..220 (letterbox y 280..320 - 80).
    expected = np.zeros((480, 640), np.uint8)
    expected[200:240, 80:120] = 1
    np.testing.assert_array_equal(second, expected)


def test_ultralytics_segment_upsamples_when_padding_is_fractional(tmp_path):
    # 640 x 426: padding 214 -> 107 input pixels = 26.75 proto pixels, so the prototypes are first
    # upsampled x4 (f = 4 // gcd(4, 214 | 107) = 4), then rows 107..533 cropped (no resize left)
    image = write_image(tmp_path / "d.png", 640, 426)
    protos = np.zeros((1, 32, 160, 160), np.float32)
    protos[0, 0, :60] = 1.0
    protos[
        0, 0, 60:
    ] = -1.0  # sign change between upsampled rows 239 and 240 -> image rows 132 | 133
    rows = {
        0: [320, 257, 200, 100, 0.9, 0, 0] + [1.0] + [0.0] * 31
    }  # letterbox y 207..307 -> 100..200
    model = constant_model(
        tmp_path / "seg2.onnx",
        {"output0": yolo_head(rows, 39), "output1": protos},
        metadata=ultralytics_metadata("segment", NAMES),
    )
    (record,) = predict(model, image, 640, 426)
    assert record["bbox"] == [220.0, 100.0, 200.0, 100.0]
    expected = np.zeros((426, 640), np.uint8)
    expected[100:133, 220:420] = 1
    np.testing.assert_array_equal(decoded(record), expected)


def test_ultralytics_segment_drops_predictions_with_empty_masks(tmp_path, image640x480):
    protos = np.full((1, 32, 160, 160), -1.0, np.float32)
    records = predict(segment_model(tmp_path, protos), image640x480, 640, 480)
    assert records == []


def test_ultralytics_end2end_output(tmp_path, image640x480):
    out = np.zeros((1, 300, 6), np.float32)
    out[0, 0] = [270, 295, 370, 345, 0.9, 2]
    out[0, 1] = [0, 80, 10, 90, 0.3, 0]
    out[0, 2] = [0, 80, 10, 90, 0.0009, 0]  # below conf
    meta = ultralytics_metadata("detect", NAMES, end2end="True")
    model = constant_model(tmp_path / "e2e.onnx", {"output0": out}, metadata=meta)
    assert boxes(predict(model, image640x480, 640, 480)) == [
        (3, [270.0, 215.0, 100.0, 50.0], 0.9),
        (1, [0.0, 0.0, 10.0, 10.0], 0.3),
    ]
    assert len(predict(model, image640x480, 640, 480, max_dets=1)) == 1


def test_rtdetr_queries_layout_stretches_and_does_not_clip(tmp_path, image640x480):
    out = np.zeros((1, 300, 7), np.float32)
    out[0, 0] = [0.5, 0.5, 0.25, 0.5, 0.2, 0.6, 0.1]  # xyxy .375 .25 .625 .75 x (640, 480)
    out[0, 1] = [0.95, 0.1, 0.2, 0.1, 0.0, 0.0, 0.7]  # x2 = 1.05 * 640 = 672: not clipped
    meta = ultralytics_metadata(
        "detect",
        NAMES,
        head="RTDETRDecoder",
        version="8.3.40",
        description="Ultralytics rtdetr-l model",
    )
    model = constant_model(tmp_path / "rtdetr.onnx", {"output0": out}, metadata=meta)
    assert boxes(predict(model, image640x480, 640, 480)) == [
        (3, [544.0, 24.0, 128.0, 48.0], 0.7),
        (2, [240.0, 120.0, 160.0, 240.0], 0.6),
    ]


def test_rtdetr_topk_layout(tmp_path, image640x480):
    out = np.zeros((1, 300, 6), np.float32)
    out[0, 0] = [0.5, 0.5, 0.25, 0.5, 0.8, 1]
    out[0, 1] = [
        0.5,
        0.5,
        0.25,
        0.5,
        0.4,
        2,
    ]  # same query, another class (top-k over query x class)
    meta = ultralytics_metadata("detect", NAMES, head="RTDETRDecoder")
    model = constant_model(tmp_path / "rtdetr84.onnx", {"output0": out}, metadata=meta)
    assert boxes(predict(model, image640x480, 640, 480)) == [
        (2, [240.0, 120.0, 160.0, 240.0], 0.8),
        (3, [240.0, 120.0, 160.0, 240.0], 0.4),
    ]


def yolov5_model(tmp_path):
    out = np.zeros((1, 25200, 8), np.float32)
    out[0, 0] = [320, 320, 100, 50, 0.9, 0.5, 0.1, 0]  # score 0.9 x 0.5 = 0.45 person
    out[0, 1] = [320, 320, 100, 50, 0.0009, 1, 0, 0]  # objectness below conf: dropped
    out[0, 2] = [320, 320, 100, 50, 0.5, 0, 0.002, 0]  # 0.5 x 0.002 = 0.001, not > 0.001
    out[0, 3] = [100.3, 200.2, 20.5, 10, 0.8, 0, 0, 0.5]  # x 90.05..110.55, y 115.2..125.2 (- 80)
    meta = {"stride": "32", "names": str(NAMES)}
    return constant_model(tmp_path / "v5.onnx", {"output0": out}, metadata=meta)


def test_yolov5_objectness_times_class_and_rounded_boxes(tmp_path, image640x480):
    assert boxes(predict(yolov5_model(tmp_path), image640x480, 640, 480)) == [
        (1, [270.0, 215.0, 100.0, 50.0], 0.45),
        (3, [90.0, 115.0, 21.0, 10.0], 0.4),  # detect.py rounds: 90, 115, 111, 125
    ]


def yolox_model(tmp_path):
    out = np.zeros((1, 8400, 8), np.float32)
    # stride-8 cell (10, 20) = row 20 * 80 + 10: centre ((0.5 + 10) * 8, (0.25 + 20) * 8) = (84, 162),
    # size (exp(ln 4) * 8, exp(0) * 8) = (32, 8): xyxy 68, 158, 100, 166 on the 640-wide input
    out[0, 1610] = [0.5, 0.25, math.log(4), 0, 0.9, 0.1, 0.8, 0]  # 0.9 x 0.8 = 0.72 bicycle
    out[0, 1612] = [0.5, 0.25, math.log(4), 0, 0.9, 0, 0.5, 0]  # 16 px to the right: 0.45 bicycle
    # stride-32 cell (3, 2) = row 6400 + 1600 + 2 * 20 + 3: centre (96, 64), size 32 x 32
    out[0, 8043] = [0, 0, 0, 0, 0.5, 0.6, 0, 0]  # 0.3 person
    return constant_model(tmp_path / "yolox.onnx", {"output": out})


@pytest.fixture
def three_classes(tmp_path):
    path = tmp_path / "classes.txt"
    path.write_text("person\nbicycle\ncar\n")
    return path


def test_yolox_grid_decoding_ratio_and_plus_one_nms(tmp_path, three_classes):
    # 1280 x 960 -> ratio 0.5, content 640 x 480 top-left: boxes / 0.5
    image = write_image(tmp_path / "e.png", 1280, 960)
    model = yolox_model(tmp_path)
    assert boxes(predict(model, image, 1280, 960, classes=three_classes)) == [
        (2, [136.0, 316.0, 64.0, 16.0], 0.72),
        (2, [168.0, 316.0, 64.0, 16.0], 0.45),  # IoU with +1: 153 / 441 = 0.347 <= 0.45: kept
        (1, [160.0, 96.0, 64.0, 64.0], 0.3),
    ]
    # at 0.34 YOLOX's +1 IoU (0.347) suppresses the second box; the plain IoU (0.333) would not
    scores = [r["score"] for r in predict(model, image, 1280, 960, iou=0.34, classes=three_classes)]
    assert scores == pytest.approx([0.72, 0.3])


def test_yolox_prepares_bgr_0_255_top_left(tmp_path, three_classes):
    from labelfix.core.predict import load_model

    loaded = load_model(yolox_model(tmp_path), classes=three_classes)
    rgb = np.zeros((960, 1280, 3), np.uint8)
    rgb[..., 0] = 200  # red
    prepared = loaded.family.prepare(rgb)
    t = prepared.tensor
    assert t.shape == (1, 3, 640, 640) and prepared.context == 0.5
    assert t[0, :, 0, 0].tolist() == [0.0, 0.0, 200.0]  # BGR, not divided
    assert t[0, :, 479, 639].tolist() == [0.0, 0.0, 200.0]
    assert t[0, :, 480, 0].tolist() == [114.0, 114.0, 114.0]  # padding below the content


def torchvision_model(tmp_path, size=(48, 64), rank=3):
    h, w = size
    masks = np.zeros((3, 1, h, w), np.float32)
    masks[0, 0, 10:20, 5:15] = 0.51
    masks[0, 0, 20:22, 5:15] = 0.5  # not > 0.5
    masks[1, 0, :, :] = 0.9
    outputs = {
        "boxes": np.array([[5, 10, 15, 20], [0, 0, 64, 48], [1, 1, 2, 2]], np.float32),
        "labels": np.array([1, 3, 12], np.int64),  # person, car, an unused COCO id ("N/A")
        "scores": np.array([0.95, 0.4, 0.3], np.float32),
        "masks": masks,
    }
    shape = [3, "height", "width"] if rank == 3 else [1, 3, "height", "width"]
    return constant_model(tmp_path / "tv.onnx", outputs, input_shape=shape, input_name="images")


def test_torchvision_named_outputs_with_masks(tmp_path):
    image = write_image(tmp_path / "f.png", 64, 48)
    records = predict(torchvision_model(tmp_path), image, 64, 48)
    assert boxes(records) == [(1, [5.0, 10.0, 10.0, 10.0], 0.95), (3, [0.0, 0.0, 64.0, 48.0], 0.4)]
    first = decoded(records[0])
    assert first.sum() == 100 and first[10:20, 5:15].all()
    assert decoded(records[1]).all()
    assert [r["score"] for r in predict(torchvision_model(tmp_path), image, 64, 48, conf=0.5)] == [
        pytest.approx(0.95)
    ]


def test_torchvision_mask_size_mismatch_is_reported(tmp_path):
    image = write_image(tmp_path / "g.png", 32, 48)
    summary = run_model(torchvision_model(tmp_path), [ImageRef(1, image, 32, 48)], categories=CATS)
    assert summary.images == 0 and "masks are 64x48" in summary.problems[0]


def test_segment_export_listing_prototypes_first(tmp_path, image640x480):
    protos = np.ones((1, 32, 160, 160), np.float32)
    rows = {0: [320, 320, 100, 50, 0.9, 0, 0] + [1.0] + [0.0] * 31}
    model = constant_model(
        tmp_path / "seg.onnx",
        {"protos": protos, "head": yolo_head(rows, 39)},
        metadata=ultralytics_metadata("segment", NAMES),
    )
    (record,) = predict(model, image640x480, 640, 480)
    assert record["bbox"] == [270.0, 215.0, 100.0, 50.0] and decoded(record).sum() == 5000


def test_a_model_failing_on_one_image_is_reported_and_the_run_goes_on(tmp_path):
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    # torchvision-style graph that only accepts 64 x 48 images (it reshapes the input)
    outputs = {
        "boxes": np.array([[1, 2, 3, 4]], np.float32),
        "labels": np.array([1], np.int64),
        "scores": np.array([0.9], np.float32),
    }
    nodes = [
        helper.make_node("Constant", [], [n], value=numpy_helper.from_array(a))
        for n, a in outputs.items()
    ]
    shape = numpy_helper.from_array(np.array([3 * 48 * 64], np.int64), "flat")
    nodes.append(helper.make_node("Reshape", ["images", "flat"], ["check"]))
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [3, "h", "w"])],
        [
            helper.make_tensor_value_info(
                n, helper.np_dtype_to_tensor_dtype(a.dtype), list(a.shape)
            )
            for n, a in outputs.items()
        ]
        + [helper.make_tensor_value_info("check", TensorProto.FLOAT, [3 * 48 * 64])],
        [shape],
    )
    path = tmp_path / "picky.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    good, bad = write_image(tmp_path / "g.png", 64, 48), write_image(tmp_path / "b.png", 32, 32)
    seen: list[int] = []
    refs = [ImageRef(1, bad, 32, 32), ImageRef(2, good, 64, 48)]
    summary = run_model(path, refs, categories=CATS, sink=lambda i, r: seen.append(i))
    assert seen == [2] and summary.images == 1
    assert len(summary.problems) == 1 and "image 1 (b.png): the model failed" in summary.problems[0]
