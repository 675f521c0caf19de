"""Family detection from metadata, output names and shapes; clear errors for unusable models."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto
from onnx_models import constant_model, ultralytics_metadata

from labelfix.core.predict import ModelError, family_name, inspect_model, load_model
from labelfix.core.predict.classes import COCO80, COCO91

NAMES = {0: "person", 1: "bicycle", 2: "car"}


def zeros(*shape):
    return np.zeros(shape, np.float32)


@pytest.mark.parametrize(
    ("outputs", "family", "classes"),
    [
        ({"output0": zeros(1, 84, 8400)}, "ultralytics", 80),
        (
            {"output0": zeros(1, 116, 8400), "output1": zeros(1, 32, 160, 160)},
            "ultralytics-seg",
            80,
        ),
        (
            {"output0": zeros(1, 84, 8500)},
            "ultralytics",
            80,
        ),  # P6: strides 8..64 at 640 -> 8500 cells
        ({"output0": zeros(1, 25200, 85)}, "yolov5", 80),
        ({"output": zeros(1, 8400, 85)}, "yolox", 80),
        ({"output0": zeros(1, 300, 84)}, "rtdetr", 80),
    ],
)
def test_family_from_output_shapes(tmp_path, outputs, family, classes):
    info, _ = inspect_model(constant_model(tmp_path / "m.onnx", outputs))
    assert info.family == family and info.detected_by.startswith("output shape")
    assert len(info.class_names) == classes and info.class_names_from.startswith("built-in COCO")
    assert info.class_names[79] == "toothbrush"
    assert info.input_hw == (640, 640)


def test_family_from_ultralytics_metadata(tmp_path):
    meta = ultralytics_metadata("segment", NAMES)
    model = constant_model(
        tmp_path / "m.onnx",
        {"output0": zeros(1, 39, 8400), "output1": zeros(1, 32, 160, 160)},
        metadata=meta,
    )
    info, _ = inspect_model(model)
    assert (info.family, info.masks, info.class_names) == ("ultralytics-seg", True, NAMES)
    assert "Ultralytics metadata" in info.detected_by and "segmentation" in info.describe()


def test_symbolic_output_shapes_are_probed(tmp_path):
    model = constant_model(
        tmp_path / "m.onnx",
        {"output0": zeros(1, 84, 8400)},
        output_shapes={"output0": ["batch", 84, "anchors"]},
    )
    assert inspect_model(model)[0].family == "ultralytics"


def test_torchvision_by_output_names_uses_the_91_id_list(tmp_path):
    outputs = {"boxes": zeros(0, 4), "labels": np.zeros(0, np.int64), "scores": zeros(0)}
    model = constant_model(tmp_path / "m.onnx", outputs, input_shape=[3, "h", "w"])
    info, mapping = inspect_model(model, categories={1: "person", 18: "dog"})
    assert info.family == "torchvision" and info.input_hw is None and not info.masks
    assert info.class_names == dict(enumerate(COCO91))
    assert mapping.to_category == {1: 1, 18: 18}


def test_user_family_overrides_detection(tmp_path):
    model = constant_model(tmp_path / "m.onnx", {"output0": zeros(1, 8400, 85)})
    assert inspect_model(model)[0].family == "yolox"
    info, _ = inspect_model(model, family="YOLOv5")
    assert (info.family, info.detected_by) == ("yolov5", "chosen")


def test_half_precision_input_gets_a_half_tensor(tmp_path):
    model = constant_model(
        tmp_path / "m.onnx", {"output0": zeros(1, 84, 8400)}, input_type=TensorProto.FLOAT16
    )
    loaded = load_model(model)
    assert loaded.family.prepare(np.zeros((10, 10, 3), np.uint8)).tensor.dtype == np.float16


def test_classes_file_overrides_metadata(tmp_path):
    classes = tmp_path / "c.txt"
    classes.write_text("a\nb\nc\n")
    model = constant_model(
        tmp_path / "m.onnx",
        {"output0": zeros(1, 7, 8400)},
        metadata=ultralytics_metadata("detect", NAMES),
    )
    info, _ = inspect_model(model, classes=classes)
    assert (
        info.class_names == {0: "a", 1: "b", 2: "c"}
        and info.class_names_from == "classes file c.txt"
    )


def test_imgsz_must_fit_a_fixed_input(tmp_path):
    model = constant_model(tmp_path / "m.onnx", {"output0": zeros(1, 84, 8400)})
    with pytest.raises(ModelError, match=r"m.onnx: the model's input is fixed at 640x640"):
        inspect_model(model, imgsz=320)


def test_corrupt_model_names_the_file(tmp_path):
    bad = tmp_path / "broken.onnx"
    bad.write_bytes(b"\x08\x07not a protobuf at all" * 10)
    with pytest.raises(ModelError, match=r"broken.onnx: not a usable ONNX model"):
        inspect_model(bad)


def test_missing_model_file(tmp_path):
    with pytest.raises(ModelError, match=r"nothere.onnx: model file not found"):
        inspect_model(tmp_path / "nothere.onnx")


@pytest.mark.parametrize(
    ("outputs", "message"),
    [
        (
            {"logits": zeros(1, 1000)},
            r"outputs \[1, 1000\] fit no known model family; expected one of",
        ),
        ({"output0": zeros(1, 84, 1234)}, r"fit no known model family"),
    ],
)
def test_unsupported_outputs_say_what_was_expected(tmp_path, outputs, message):
    with pytest.raises(ModelError, match=message):
        inspect_model(constant_model(tmp_path / "cls.onnx", outputs))


def test_unsupported_ultralytics_task(tmp_path):
    model = constant_model(
        tmp_path / "pose.onnx",
        {"output0": zeros(1, 56, 8400)},
        metadata=ultralytics_metadata("pose", {0: "person"}),
    )
    with pytest.raises(
        ModelError, match=r"pose.onnx: an Ultralytics pose model; LabelFix runs detection"
    ):
        inspect_model(model)


def test_model_without_names_and_not_80_classes_asks_for_a_classes_file(tmp_path):
    model = constant_model(tmp_path / "m.onnx", {"output0": zeros(1, 9, 8400)})
    with pytest.raises(ModelError, match=r"5 classes and no class names; give a classes file"):
        inspect_model(model)


def test_two_inputs_are_refused(tmp_path):
    import onnx
    from onnx import helper

    graph = helper.make_graph(
        [helper.make_node("Add", ["a", "b"], ["out"])],
        "g",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, [1, 3, 8, 8]) for n in "ab"],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, 3, 8, 8])],
    )
    path = tmp_path / "two.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    with pytest.raises(ModelError, match=r"two.onnx: the model takes 2 inputs \(a, b\)"):
        inspect_model(path)


def test_family_names_and_aliases():
    assert family_name("YOLO11-seg") == "ultralytics-seg"
    assert family_name("mask_rcnn") == "torchvision"
    assert family_name("DETR") == "hf-detr" and family_name("deim") == "d-fine"
    assert family_name("Conditional_DETR") == "hf-deformable-detr"
    with pytest.raises(ModelError, match="unknown model family 'detr3'"):
        family_name("detr3")
    assert len(COCO80) == 80


def test_dynamic_ultralytics_input_size_rounds_up_to_the_stride(tmp_path):
    model = constant_model(
        tmp_path / "m.onnx",
        {"output0": zeros(1, 84, 8400)},
        input_shape=[1, 3, "h", "w"],
        metadata=ultralytics_metadata("detect", dict(enumerate("abc" * 26 + "ab"))),
    )
    assert inspect_model(model)[0].input_hw == (640, 640)
    assert inspect_model(model, imgsz=650)[0].input_hw == (672, 672)


@pytest.mark.parametrize(
    ("shape", "kind", "message"),
    [
        ([4, 3, 640, 640], TensorProto.FLOAT, r"exported for batches of 4 images"),
        ([1, 1, 640, 640], TensorProto.FLOAT, r"expected an RGB image tensor"),
        ([1, 3, 640, 640], TensorProto.UINT8, r"is a tensor\(uint8\); expected float32 or float16"),
        ([640, 640], TensorProto.FLOAT, r"expected an RGB image tensor"),
    ],
)
def test_inputs_labelfix_cannot_feed(tmp_path, shape, kind, message):
    model = constant_model(
        tmp_path / "m.onnx", {"output0": zeros(1, 84, 8400)}, input_shape=shape, input_type=kind
    )
    with pytest.raises(ModelError, match="m.onnx: .*" + message):
        inspect_model(model)


def test_a_chosen_family_must_fit_the_outputs(tmp_path):
    model = constant_model(tmp_path / "m.onnx", {"output0": zeros(1, 84, 8400)})
    with pytest.raises(
        ModelError, match=r"output \[1, 84, 8400\] is not a YOLOX head for a 640x640"
    ):
        inspect_model(model, family="yolox")


def test_a_transposed_head_is_not_read_as_ultralytics(tmp_path):
    model = constant_model(tmp_path / "m.onnx", {"output0": zeros(1, 8400, 84)})
    with pytest.raises(ModelError, match=r"is not an Ultralytics head"):
        inspect_model(model, family="yolov8")


@pytest.mark.parametrize(
    "family", ["yolov5", "rtdetr", "ultralytics-end2end", "ultralytics-end2end-seg"]
)
def test_an_ultralytics_head_is_not_read_as_another_family(tmp_path, family):
    """The npm-packaged yolov8n.onnx run with a wrong --family gave 0, 9 or 306 nonsense
    predictions, or "list index out of range" per image, instead of saying the layout is wrong."""
    model = constant_model(
        tmp_path / "m.onnx",
        {"output0": zeros(1, 84, 8400)},
        metadata=ultralytics_metadata("detect", dict(enumerate(COCO80))),
    )
    with pytest.raises(
        ModelError,
        match=r"output \[1, 84, 8400\] does not fit the .* family.*\[1, 4\+classes, 8400\] is an Ultr",
    ):
        inspect_model(model, family=family)


def test_an_end_to_end_detection_head_is_not_read_as_segmentation(tmp_path):
    model = constant_model(
        tmp_path / "m.onnx",
        {"output0": zeros(1, 300, 6)},
        metadata=ultralytics_metadata("detect", NAMES, end2end="True"),
    )
    with pytest.raises(ModelError, match=r"needs a second output of prototype masks"):
        inspect_model(model, family="ultralytics-end2end-seg")
