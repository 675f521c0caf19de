"""DETR-family exports decoded from real onnxruntime sessions with outputs chosen by hand.

Hugging Face heads (``logits`` + ``pred_boxes``, softmax with a no-object class or sigmoid
top-k) and the D-FINE / RT-DETR deploy exports (post-processor in the graph); expected values are
worked out by hand in the comments.
"""

from __future__ import annotations

import json
import math

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from onnx_models import constant_model, image_records, write_image

from labelfix.core.predict import ModelError, inspect_model, load_model

CATS = {1: "person", 2: "bicycle", 3: "car"}
PIXELS = [1, 3, "height", "width"]


def predict(model, image, width, height, **kwargs) -> list[tuple]:
    """(category, bbox, score rounded) of one image's records."""
    records = image_records(model, image, width, height, CATS, **kwargs)
    return [(r["category_id"], r["bbox"], round(r["score"], 4)) for r in records]


def hf_model(folder, logits, boxes, *, config=None, processor=None, shape=PIXELS, mask=False):
    """An optimum-style export in `folder`: model.onnx, and the JSON files given."""
    folder.mkdir(parents=True, exist_ok=True)
    if config is not None:
        (folder / "config.json").write_text(json.dumps(config))
    if processor is not None:
        (folder / "preprocessor_config.json").write_text(json.dumps(processor))
    extra = [("pixel_mask", TensorProto.INT64, [1, "height", "width"])] if mask else []
    return constant_model(
        folder / "model.onnx",
        {"logits": logits, "pred_boxes": boxes},
        input_name="pixel_values",
        input_shape=shape,
        extra_inputs=extra,
    )


def detr_head():
    """3 queries, 2 classes + no object, chosen so the softmax is exact."""
    logits = np.zeros((1, 3, 3), np.float32)
    logits[0, 0] = [math.log(8), 0, 0]  # softmax 0.8, 0.1, 0.1 -> person 0.8
    logits[0, 1] = [0, math.log(3), math.log(6)]  # 0.1, 0.3, 0.6 -> bicycle 0.3 (no-object dropped)
    logits[0, 2] = [0, 0, math.log(98)]  # 0.01, 0.01, 0.98 -> person 0.01
    boxes = np.zeros((1, 3, 4), np.float32)
    boxes[0, 0] = [0.5, 0.5, 0.25, 0.5]  # x 240..400, y 120..360 on 640 x 480
    boxes[0, 1] = [0.95, 0.1, 0.2, 0.1]  # x 544..672 (not clipped), y 24..72
    boxes[0, 2] = [0.1, 0.1, 0.1, 0.1]
    return logits, boxes


DETR_CONFIG = {"model_type": "detr", "id2label": {"0": "person", "1": "bicycle"}}


@pytest.fixture
def image640x480(tmp_path):
    return write_image(tmp_path / "a.png", 640, 480)


def test_hf_detr_softmax_drops_no_object_and_scales_by_the_image(tmp_path, image640x480):
    model = hf_model(tmp_path / "detr", *detr_head(), config=DETR_CONFIG)
    info, mapping = inspect_model(model, categories=CATS)
    assert (info.family, info.class_names) == ("hf-detr", {0: "person", 1: "bicycle"})
    assert "config.json model_type detr" in info.detected_by
    assert info.size_text == "short side 800, long side at most 1333"
    assert mapping.to_category == {0: 1, 1: 2}
    assert predict(model, image640x480, 640, 480) == [
        (1, [240.0, 120.0, 160.0, 240.0], 0.8),
        (2, [544.0, 24.0, 128.0, 48.0], 0.3),
        (1, [32.0, 24.0, 64.0, 48.0], 0.01),
    ]
    assert [r[2] for r in predict(model, image640x480, 640, 480, conf=0.05, max_dets=1)] == [0.8]


def test_hf_detr_preprocessing_follows_the_image_processor(tmp_path):
    processor = {
        "image_processor_type": "DetrImageProcessor",
        "do_resize": True,
        "size": {"shortest_edge": 800, "longest_edge": 1333},
        "resample": 2,
        "do_rescale": True,
        "rescale_factor": 1 / 255,
        "do_normalize": True,
        "image_mean": [0.485, 0.456, 0.406],
        "image_std": [0.229, 0.224, 0.225],
        "do_pad": True,
    }
    model = hf_model(tmp_path / "m", *detr_head(), config=DETR_CONFIG, processor=processor)
    family = load_model(model).family
    rgb = np.full((480, 640, 3), 51, np.uint8)  # 51 / 255 = 0.2
    # 640 x 480: short side 480 -> 800, long side int(800 * 640 / 480) = 1066 (<= 1333)
    tensor = family.prepare(rgb).tensor
    assert tensor.shape == (1, 3, 800, 1066) and tensor.dtype == np.float32
    expected = [(np.float32(0.2) - np.float32(m)) / np.float32(s) for m, s in
                zip(processor["image_mean"], processor["image_std"], strict=True)]  # fmt: skip
    assert tensor[0, :, 400, 500].tolist() == pytest.approx(expected, abs=1e-6)
    # 3000 x 1000: 3 x 800 > 1333 -> short side round(1333 / 3) = 444, long int(444.33 * 3) = 1333
    assert family.prepare(np.zeros((1000, 3000, 3), np.uint8)).tensor.shape == (1, 3, 444, 1333)


def test_hf_resize_is_pil_bilinear(tmp_path):
    from PIL import Image

    model = hf_model(tmp_path / "m", *detr_head(), config=DETR_CONFIG,
                     processor={"size": {"height": 37, "width": 53}, "do_normalize": False})  # fmt: skip
    rng = np.random.default_rng(3)
    rgb = rng.integers(0, 256, (101, 77, 3), dtype=np.uint8)
    tensor = load_model(model).family.prepare(rgb).tensor
    pil = np.asarray(Image.fromarray(rgb).resize((53, 37), Image.Resampling.BILINEAR))
    expected = (pil.astype(np.float64) / 255).astype(np.float32).transpose(2, 0, 1)
    np.testing.assert_allclose(tensor[0], expected, rtol=0, atol=1e-7)


def sigmoid_head(queries=60, classes=2):
    logits = np.full((1, queries, classes), -20, np.float32)
    logits[0, 0] = [math.log(4), 0]  # 0.8 person and 0.5 bicycle from the same query
    logits[0, 5, 1] = math.log(3)  # 0.75 bicycle
    logits[0, 10:, :] = 0  # 100 pairs at 0.5 more
    boxes = np.tile(np.array([0.5, 0.5, 0.5, 0.5], np.float32), (1, queries, 1))
    return logits, boxes


def test_hf_sigmoid_top_k_over_queries_and_classes(tmp_path, image640x480):
    config = {"model_type": "deformable_detr", "id2label": {"0": "person", "1": "bicycle"}}
    model = hf_model(tmp_path / "d", *sigmoid_head(), config=config)
    assert inspect_model(model)[0].family == "hf-deformable-detr"
    records = predict(model, image640x480, 640, 480, max_dets=300)
    assert records[:3] == [
        (1, [160.0, 120.0, 320.0, 240.0], 0.8),
        (2, [160.0, 120.0, 320.0, 240.0], 0.75),
        (2, [160.0, 120.0, 320.0, 240.0], 0.5),  # query 0's second class comes first (stable)
    ]
    assert len(records) == 100  # Deformable DETR keeps the top 100 pairs
    # RT-DETR keeps as many pairs as queries (60); the 2 x 2 pairs at sigmoid(-20) are below conf
    rtdetr = hf_model(tmp_path / "r", *sigmoid_head(), config={**config, "model_type": "rt_detr"})
    assert inspect_model(rtdetr)[0].family == "hf-rt-detr"
    assert len(predict(rtdetr, image640x480, 640, 480, max_dets=300)) == 60
    assert len(predict(rtdetr, image640x480, 640, 480, max_dets=300, conf=0.6)) == 2


def test_hf_rt_detr_in_a_hub_layout_stretches_without_normalising(tmp_path):
    repo = tmp_path / "rtdetr_r18vd"
    config = {"model_type": "rt_detr", "id2label": {"0": "person", "1": "bicycle"}}
    processor = {"image_processor_type": "RTDetrImageProcessor", "do_normalize": False,
                 "size": {"height": 640, "width": 640}, "rescale_factor": 0.00392156862745098}  # fmt: skip
    (repo / "onnx").mkdir(parents=True)
    (repo / "config.json").write_text(json.dumps(config))
    (repo / "preprocessor_config.json").write_text(json.dumps(processor))
    model = constant_model(
        repo / "onnx" / "model.onnx",
        dict(zip(("logits", "pred_boxes"), sigmoid_head(), strict=True)),
        input_name="pixel_values",
        input_shape=[1, 3, 640, 640],
    )
    loaded = load_model(model)
    assert loaded.info.family == "hf-rt-detr" and loaded.info.input_hw == (640, 640)
    prepared = loaded.family.prepare(np.full((480, 320, 3), 255, np.uint8))
    assert prepared.tensor.shape == (1, 3, 640, 640) and prepared.tensor.max() == 1.0
    assert prepared.feeds == {}


def test_hf_pixel_mask_input_is_fed(tmp_path, image640x480):
    model = hf_model(tmp_path / "m", *detr_head(), config=DETR_CONFIG, mask=True)
    loaded = load_model(model)
    prepared = loaded.family.prepare(np.zeros((480, 640, 3), np.uint8))
    assert prepared.feeds["pixel_mask"].shape == (1, 800, 1066)
    assert prepared.feeds["pixel_mask"].all()
    assert len(predict(model, image640x480, 640, 480)) == 3


@pytest.mark.parametrize(
    ("width", "family", "classes"),
    [(92, "hf-detr", 91), (91, "hf-deformable-detr", 91), (80, "hf-rt-detr", 80)],
)
def test_hf_coco_checkpoints_without_config(tmp_path, width, family, classes):
    logits, boxes = np.zeros((1, 100, width), np.float32), np.zeros((1, 100, 4), np.float32)
    info, _ = inspect_model(hf_model(tmp_path / "m", logits, boxes))
    assert (info.family, len(info.class_names)) == (family, classes)
    assert f"{width} logits (a COCO checkpoint)" in info.detected_by
    assert info.class_names_from.startswith("built-in COCO")


def test_hf_unknown_head_without_config_asks_for_the_family(tmp_path):
    logits, boxes = np.zeros((1, 100, 5), np.float32), np.zeros((1, 100, 4), np.float32)
    model = hf_model(tmp_path / "m", logits, boxes)
    with pytest.raises(ModelError, match=r"model.onnx: .*no config.json.*--family hf-detr"):
        inspect_model(model)
    with pytest.raises(ModelError, match=r"scores 5 classes and no config.json names them"):
        inspect_model(model, family="hf-rt-detr")
    classes = tmp_path / "c.txt"
    classes.write_text("a\nb\nc\nd\ne\n")
    info, _ = inspect_model(model, family="rt-detr-hf", classes=classes)
    assert (info.family, len(info.class_names)) == ("hf-rt-detr", 5)


def test_hf_softmax_family_on_a_sigmoid_head_is_refused(tmp_path):
    config = {"id2label": {"0": "person", "1": "bicycle"}}
    model = hf_model(tmp_path / "m", *sigmoid_head(), config=config)
    with pytest.raises(ModelError, match=r"2 logits for 2 classes: a sigmoid head"):
        inspect_model(model, family="detr")


def test_a_detr_family_on_other_outputs_names_what_it_expected(tmp_path):
    model = constant_model(tmp_path / "y.onnx", {"output0": np.zeros((1, 84, 8400), np.float32)})
    with pytest.raises(
        ModelError, match=r"y.onnx: outputs output0 do not fit .*expected outputs logits"
    ):
        inspect_model(model, family="hf-detr")
    with pytest.raises(ModelError, match=r"y.onnx: .*does not fit D-FINE.*orig_target_sizes"):
        inspect_model(model, family="d-fine")


def deploy_model(path, normalised_boxes, labels, scores, shape=("N", 3, 640, 640)):
    """A D-FINE-style export: boxes = normalised x1 y1 x2 y2 x (w, h, w, h) of orig_target_sizes."""
    q = len(scores)
    inits = [
        numpy_helper.from_array(normalised_boxes.reshape(1, q, 4).astype(np.float32), "base"),
        numpy_helper.from_array(labels.reshape(1, q).astype(np.int64), "labels_value"),
        numpy_helper.from_array(scores.reshape(1, q).astype(np.float32), "scores_value"),
        numpy_helper.from_array(np.array([1], np.int64), "axis1"),
    ]
    nodes = [
        helper.make_node("Cast", ["orig_target_sizes"], ["wh"], to=TensorProto.FLOAT),
        helper.make_node("Concat", ["wh", "wh"], ["whwh"], axis=1),
        helper.make_node("Unsqueeze", ["whwh", "axis1"], ["scale"]),
        helper.make_node("Mul", ["base", "scale"], ["boxes"]),
        helper.make_node("Identity", ["labels_value"], ["labels"]),
        helper.make_node("Identity", ["scores_value"], ["scores"]),
    ]
    graph = helper.make_graph(
        nodes,
        "dfine",
        [
            helper.make_tensor_value_info("images", TensorProto.FLOAT, list(shape)),
            helper.make_tensor_value_info("orig_target_sizes", TensorProto.INT64, ["N", 2]),
        ],
        [
            helper.make_tensor_value_info("labels", TensorProto.INT64, ["N", q]),
            helper.make_tensor_value_info("boxes", TensorProto.FLOAT, ["N", q, 4]),
            helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["N", q]),
        ],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return path


def test_dfine_deploy_feeds_width_height_and_keeps_the_graphs_top_k(tmp_path):
    image = write_image(tmp_path / "b.png", 800, 400)
    boxes = np.array([[0.1, 0.2, 0.3, 0.4], [0.5, 0.5, 1.0, 1.0], [0, 0, 0.1, 0.1]], np.float32)
    model = deploy_model(
        tmp_path / "dfine.onnx", boxes, np.array([2, 0, 1]), np.array([0.9, 0.6, 0.0005])
    )
    info, _ = inspect_model(model)
    assert info.family == "d-fine" and info.input_hw == (640, 640)
    assert "orig_target_sizes" in info.detected_by
    assert info.class_names_from == "built-in COCO list (80 classes)"
    # x times the width 800, y times the height 400: (80, 80, 240, 160) and (400, 200, 800, 400)
    assert predict(model, image, 800, 400) == [
        (3, [80.0, 80.0, 160.0, 80.0], 0.9),
        (1, [400.0, 200.0, 400.0, 200.0], 0.6),
    ]


def test_dfine_deploy_stretches_with_pil_and_divides_by_255(tmp_path):
    from PIL import Image

    boxes = np.zeros((1, 4), np.float32)
    model = deploy_model(tmp_path / "d.onnx", boxes, np.array([0]), np.array([0.5]))
    family = load_model(model, family="deim").family
    rng = np.random.default_rng(5)
    rgb = rng.integers(0, 256, (300, 500, 3), dtype=np.uint8)
    prepared = family.prepare(rgb)
    pil = np.asarray(Image.fromarray(rgb).resize((640, 640), Image.Resampling.BILINEAR))
    expected = np.divide(pil.transpose(2, 0, 1), np.float32(255), dtype=np.float32)
    np.testing.assert_array_equal(prepared.tensor[0], expected)
    assert prepared.feeds["orig_target_sizes"].tolist() == [[500, 300]]
    assert prepared.feeds["orig_target_sizes"].dtype == np.int64


def rf_detr_model(path, logits, dets, resolution=560):
    return constant_model(
        path,
        {"dets": dets, "labels": logits},
        input_name="input",
        input_shape=[1, 3, resolution, resolution],
    )


def test_rf_detr_sigmoid_top_300_with_coco_category_ids(tmp_path, image640x480):
    logits = np.full((1, 300, 91), -20, np.float32)
    logits[0, 4, 3] = math.log(9)  # sigmoid 0.9, class 3 = COCO id 3 "car"
    logits[0, 4, 1] = 0  # 0.5 "person" from the same query
    logits[0, 7, 2] = math.log(1 / 3)  # 0.25 "bicycle"
    dets = np.tile(np.array([0.5, 0.5, 0.25, 0.5], np.float32), (1, 300, 1))
    dets[0, 7] = [0.25, 0.25, 0.5, 0.5]  # x 0..320, y 0..240
    model = rf_detr_model(tmp_path / "inference_model.onnx", logits, dets)
    info, mapping = inspect_model(model, categories=CATS)
    assert (info.family, info.input_hw) == ("rf-detr", (560, 560))
    assert info.detected_by == "outputs dets + labels (float logits)"
    assert mapping.to_category == {1: 1, 2: 2, 3: 3}
    assert predict(model, image640x480, 640, 480, conf=0.01) == [
        (3, [240.0, 120.0, 160.0, 240.0], 0.9),
        (1, [240.0, 120.0, 160.0, 240.0], 0.5),
        (2, [0.0, 0.0, 320.0, 240.0], 0.25),
    ]


def test_rf_detr_preprocessing_normalises_then_resizes_with_antialiasing(tmp_path):
    from labelfix.core.predict.detr import resize_antialiased

    # 4 -> 2: taps (0.75, 0.75, 0.25) and (0.25, 0.75, 0.75), each / 1.75
    row = np.array([[[0, 1, 2, 3]]], np.float32)
    assert resize_antialiased(row, 1, 2)[0, 0].tolist() == pytest.approx([5 / 7, 16 / 7])
    model = rf_detr_model(
        tmp_path / "m.onnx", np.zeros((1, 300, 91), np.float32), np.zeros((1, 300, 4), np.float32)
    )
    prepared = load_model(model).family.prepare(np.full((480, 640, 3), 51, np.uint8))
    assert prepared.tensor.shape == (1, 3, 560, 560)
    # a flat image stays flat: (0.2 - mean) / std
    assert prepared.tensor[0, :, 100, 100].tolist() == pytest.approx(
        [(0.2 - 0.485) / 0.229, (0.2 - 0.456) / 0.224, (0.2 - 0.406) / 0.225], abs=1e-6
    )


@pytest.mark.parametrize(("src", "dst"), [((97, 131), (40, 56)), ((20, 30), (45, 61))])
def test_antialiased_resize_matches_pil_float_images(src, dst):
    """PIL's float ("F") resampling uses the same triangle filter widened by the scale."""
    from PIL import Image

    from labelfix.core.predict.detr import resize_antialiased

    rng = np.random.default_rng(1)
    image = rng.normal(size=(1, *src)).astype(np.float32)
    ours = resize_antialiased(image, *dst)[0]
    pil = np.asarray(Image.fromarray(image[0], "F").resize(dst[::-1], Image.Resampling.BILINEAR))
    np.testing.assert_allclose(ours, pil, rtol=0, atol=1e-5)


def test_rf_detr_fine_tuned_needs_class_names_and_mmdeploy_outputs_are_not_rf_detr(tmp_path):
    logits, dets = np.zeros((1, 300, 4), np.float32), np.zeros((1, 300, 4), np.float32)
    model = rf_detr_model(tmp_path / "m.onnx", logits, dets)
    with pytest.raises(ModelError, match=r"scores 4 classes and has no class names"):
        inspect_model(model)
    mmdeploy = constant_model(
        tmp_path / "mmdet.onnx",
        {"dets": np.zeros((1, 100, 5), np.float32), "labels": np.zeros((1, 100), np.int64)},
        input_name="input",
    )
    one = tmp_path / "one.txt"
    one.write_text("person\n")
    assert inspect_model(mmdeploy, classes=one)[0].family != "rf-detr"  # integer labels
    with pytest.raises(ModelError, match=r"mmdet.onnx: dets \[1, 100, 5\] and labels \[1, 100\]"):
        inspect_model(mmdeploy, family="rfdetr")


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("exports/detr-resnet-50/model.onnx", "detr-resnet-50"),
        ("hub/rtdetr_r18vd/onnx/model_fp16.onnx", "rtdetr_r18vd_fp16"),
        ("output/inference_model.onnx", "output"),
        ("runs/yolo11n.onnx", "yolo11n"),
        ("model.onnx", "model"),
    ],
)
def test_generic_model_file_names_take_the_folders_name(path, name):
    from labelfix.core.predict import set_name_for

    assert set_name_for(path) == name


def test_hf_fixed_input_against_a_short_side_processor_says_what_to_do(tmp_path):
    processor = {"image_processor_type": "DetrImageProcessor", "size": {"shortest_edge": 800}}
    model = hf_model(
        tmp_path / "m",
        *detr_head(),
        config=DETR_CONFIG,
        processor=processor,
        shape=[1, 3, 800, 800],
    )
    with pytest.raises(
        ModelError, match=r"model.onnx: the model's input is fixed at 800x800 .*--imgsz 800"
    ):
        inspect_model(model)
    info, _ = inspect_model(model, imgsz=800)
    assert info.input_hw == (800, 800) and info.size_text == "800x800"


def test_a_preprocessor_config_that_cannot_be_understood_is_named(tmp_path):
    processor = {"size": {"longest_edge": 1333}}
    model = hf_model(tmp_path / "m", *detr_head(), config=DETR_CONFIG, processor=processor)
    with pytest.raises(
        ModelError, match=r"m/preprocessor_config.json: a size of .* not understood"
    ):
        inspect_model(model)
    (tmp_path / "m" / "preprocessor_config.json").write_text("{not json")
    with pytest.raises(ModelError, match=r"m/preprocessor_config.json: cannot read it"):
        inspect_model(model)


def test_a_legacy_feature_extractor_config_is_read(tmp_path, image640x480):
    """facebook/detr-resnet-50's preprocessor_config.json: size 800 and max_size 1333 as numbers,
    the processor named by feature_extractor_type; no config.json model_type here."""
    processor = {"do_normalize": True, "do_resize": True, "feature_extractor_type":
                 "DetrFeatureExtractor", "format": "coco_detection", "image_mean":
                 [0.485, 0.456, 0.406], "image_std": [0.229, 0.224, 0.225], "max_size": 1333,
                 "size": 800}  # fmt: skip
    config = {"id2label": {"0": "person", "1": "bicycle"}}
    model = hf_model(tmp_path / "m", *detr_head(), config=config, processor=processor)
    loaded = load_model(model)
    assert loaded.info.family == "hf-detr"
    assert "preprocessor_config.json DetrImageProcessor" in loaded.info.detected_by
    assert loaded.info.size_text == "short side 800, long side at most 1333"
    assert loaded.family.prepare(np.zeros((480, 640, 3), np.uint8)).tensor.shape == (
        1,
        3,
        800,
        1066,
    )
    assert predict(model, image640x480, 640, 480)[0] == (1, [240.0, 120.0, 160.0, 240.0], 0.8)
