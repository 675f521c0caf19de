"""The bench detector's backbone, and DETR-family heads on it (for ``bench_predict.py --head``).

Every head sits on the same 10-layer 3x3 convolution stack as the Ultralytics-shaped bench model,
at 640 x 640, so images/s differ only by what LabelFix does around ``session.run`` (resize,
normalisation, softmax / top-k, the extra inputs) and by the head itself:

* ``hf-detr``: ``pixel_values`` -> ``logits`` [1, 300, 81] (80 classes + no object, softmax) and
  ``pred_boxes`` [1, 300, 4]; a ``config.json`` (``model_type`` detr, ``id2label``) beside it.
* ``hf-rt-detr``: the same with ``logits`` [1, 300, 80] (sigmoid) and ``model_type`` rt_detr.
* ``d-fine``: ``images`` + ``orig_target_sizes`` -> ``labels``, ``boxes``, ``scores``, the
  post-processor in the graph (sigmoid, TopK 300 over queries x classes, boxes times (w, h)).
* ``rf-detr``: ``input`` -> ``dets`` [1, 300, 4] and ``labels`` [1, 300, 91] (COCO ids).

The 300 queries are the first 300 of the stride-32 cells (20 x 20 at 640). ``dynamic`` gives
``hf-detr`` a free input size and a ``preprocessor_config.json`` (DETR's: short side 800, long
side at most 1333), as an ``optimum`` export of ``facebook/detr-resnet-50`` has.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

LAYERS = [  # (out channels, stride) of each 3x3 convolution
    (16, 2), (32, 2), (32, 1), (64, 2), (64, 1), (64, 1), (128, 2), (128, 1), (256, 2), (256, 1),
]  # fmt: skip
HEADS = ("hf-detr", "hf-rt-detr", "d-fine", "rf-detr")
QUERIES = 300


def backbone(x: str, size: int, rng: np.random.Generator) -> tuple[list, list, list, float]:
    """Nodes, initializers, (output, channels, side) per layer and FLOPs of the conv stack."""
    nodes, inits, feats = [], [], []
    flops, cin, hw = 0.0, 3, size
    for i, (cout, stride) in enumerate(LAYERS):
        w = (rng.normal(size=(cout, cin, 3, 3)) * np.sqrt(2 / (cin * 9))).astype(np.float32)
        b = np.zeros(cout, np.float32)
        inits += [numpy_helper.from_array(w, f"w{i}"), numpy_helper.from_array(b, f"b{i}")]
        hw //= stride
        nodes.append(
            helper.make_node(
                "Conv", [x, f"w{i}", f"b{i}"], [f"c{i}"], pads=[1, 1, 1, 1], strides=[stride] * 2
            )
        )
        nodes.append(helper.make_node("Relu", [f"c{i}"], [f"r{i}"]))
        flops += 2 * hw * hw * cout * cin * 9
        x, cin = f"r{i}", cout
        feats.append((x, cout, hw))
    return nodes, inits, feats, flops


def _const(inits: list, name: str, value: np.ndarray) -> str:
    inits.append(numpy_helper.from_array(value, name))
    return name


def build_detr(
    folder: Path,
    head: str,
    names: list[str],
    size: int = 640,
    seed: int = 0,
    dynamic: bool = False,
) -> tuple[Path, float]:
    """Write the `head` model (and its config.json) in `folder`; returns (model path, GFLOPs)."""
    rng = np.random.default_rng(seed)
    image = {"hf-detr": "pixel_values", "hf-rt-detr": "pixel_values", "rf-detr": "input"}.get(
        head, "images"
    )
    nodes, inits, feats, flops = backbone(image, size, rng)
    nc = {"hf-detr": 81, "rf-detr": 91}.get(head, 80)
    x, c, s = feats[-1]
    w = (rng.normal(size=(4 + nc, c, 1, 1)) * np.sqrt(1 / c)).astype(np.float32)
    flops += 2 * s * s * (4 + nc) * c
    bias = np.full(nc, -8.5, np.float32)  # few confident queries, as a trained DETR gives
    if head == "hf-detr":
        bias[-1] = 0.0  # the no-object class wins mostly
    nodes += [
        helper.make_node("Conv", [x, _const(inits, "hw", w)], ["hc"]),
        helper.make_node("Reshape", ["hc", _const(inits, "hs", np.array([1, 4 + nc, -1 if dynamic else s * s], np.int64))], ["hr"]),
        helper.make_node("Transpose", ["hr"], ["ht"], perm=[0, 2, 1]),
        helper.make_node(
            "Slice",
            ["ht", _const(inits, "q0", np.array([0], np.int64)),
             _const(inits, "q1", np.array([QUERIES], np.int64)), _const(inits, "qa", np.array([1], np.int64))],
            ["hq"],
        ),
        helper.make_node("Split", ["hq", _const(inits, "split", np.array([4, nc], np.int64))], ["box_raw", "cls_raw"], axis=2),
        helper.make_node("Sigmoid", ["box_raw"], ["cxcywh"]),
        helper.make_node("Add", ["cls_raw", _const(inits, "cls_bias", bias)], ["logits_raw"]),
    ]  # fmt: skip
    shape = [1, 3, "height", "width"] if dynamic else [1, 3, size, size]
    inputs = [helper.make_tensor_value_info(image, TensorProto.FLOAT, shape)]
    if dynamic:
        processor = {"image_processor_type": "DetrImageProcessor", "do_resize": True,
                     "size": {"shortest_edge": 800, "longest_edge": 1333}, "resample": 2,
                     "do_rescale": True, "rescale_factor": 1 / 255, "do_normalize": True,
                     "image_mean": [0.485, 0.456, 0.406], "image_std": [0.229, 0.224, 0.225],
                     "do_pad": True}  # fmt: skip
        (folder / "preprocessor_config.json").write_text(json.dumps(processor))
    if head in ("hf-detr", "hf-rt-detr"):
        nodes += [helper.make_node("Identity", ["logits_raw"], ["logits"]),
                  helper.make_node("Identity", ["cxcywh"], ["pred_boxes"])]  # fmt: skip
        outputs = [("logits", TensorProto.FLOAT, [1, QUERIES, nc]),
                   ("pred_boxes", TensorProto.FLOAT, [1, QUERIES, 4])]  # fmt: skip
        labels = names + ["N/A"] if head == "hf-detr" else names
        config = {"model_type": "detr" if head == "hf-detr" else "rt_detr",
                  "id2label": {str(k): n for k, n in enumerate(labels[: nc - (head == "hf-detr")])}}  # fmt: skip
        (folder / "config.json").write_text(json.dumps(config))
    elif head == "rf-detr":
        nodes += [helper.make_node("Identity", ["logits_raw"], ["labels"]),
                  helper.make_node("Identity", ["cxcywh"], ["dets"])]  # fmt: skip
        outputs = [("dets", TensorProto.FLOAT, [1, QUERIES, 4]),
                   ("labels", TensorProto.FLOAT, [1, QUERIES, nc])]  # fmt: skip
    else:  # d-fine: the deploy post-processor in the graph
        inputs.append(helper.make_tensor_value_info("orig_target_sizes", TensorProto.INT64, [1, 2]))
        nodes += [
            helper.make_node("Sigmoid", ["logits_raw"], ["prob"]),
            helper.make_node("Reshape", ["prob", _const(inits, "flat", np.array([1, -1], np.int64))], ["pflat"]),
            helper.make_node("TopK", ["pflat", _const(inits, "k", np.array([QUERIES], np.int64))], ["scores", "index"]),
            helper.make_node("Mod", ["index", _const(inits, "nc", np.array(nc, np.int64))], ["labels"]),
            helper.make_node("Div", ["index", "nc"], ["query"]),
            helper.make_node("Squeeze", ["cxcywh", _const(inits, "ax0", np.array([0], np.int64))], ["cx2"]),
            helper.make_node("Squeeze", ["query", "ax0"], ["q1d"]),
            helper.make_node("Gather", ["cx2", "q1d"], ["picked"], axis=0),
            helper.make_node("Split", ["picked", _const(inits, "two", np.array([2, 2], np.int64))], ["cxy", "wh"], axis=1),
            helper.make_node("Mul", ["wh", _const(inits, "half", np.array(0.5, np.float32))], ["hwh"]),
            helper.make_node("Sub", ["cxy", "hwh"], ["xy1"]),
            helper.make_node("Add", ["cxy", "hwh"], ["xy2"]),
            helper.make_node("Concat", ["xy1", "xy2"], ["xyxy"], axis=1),
            helper.make_node("Cast", ["orig_target_sizes"], ["wh_f"], to=TensorProto.FLOAT),
            helper.make_node("Concat", ["wh_f", "wh_f"], ["whwh"], axis=1),
            helper.make_node("Mul", ["xyxy", "whwh"], ["px"]),
            helper.make_node("Unsqueeze", ["px", "ax0"], ["boxes"]),
        ]  # fmt: skip
        outputs = [("labels", TensorProto.INT64, [1, QUERIES]),
                   ("boxes", TensorProto.FLOAT, [1, QUERIES, 4]),
                   ("scores", TensorProto.FLOAT, [1, QUERIES])]  # fmt: skip
    graph = helper.make_graph(
        nodes,
        f"bench-{head}",
        inputs,
        [helper.make_tensor_value_info(n, t, sh) for n, t, sh in outputs],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    path = folder / "model.onnx"
    onnx.save(model, path)
    return path, flops / 1e9
