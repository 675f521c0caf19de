"""Small ONNX models whose outputs the tests choose (Constant nodes), saved for onnxruntime."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from labelfix.core.predict import ImageRef, run_model

COCO_NAMES = "{0: 'person', 1: 'bicycle', 2: 'car'}"  # a 3-class Ultralytics 'names' metadata value


def constant_model(
    path: Path,
    outputs: dict[str, np.ndarray],
    *,
    input_shape: list[int | str] = (1, 3, 640, 640),
    input_name: str = "images",
    input_type: int = TensorProto.FLOAT,
    metadata: dict[str, str] | None = None,
    output_shapes: dict[str, list[int | str]] | None = None,
    extra_inputs: list[tuple[str, int, list[int | str]]] = (),
) -> Path:
    """A model taking an image input (and `extra_inputs`: name, element type, shape) and
    returning the given arrays, whatever the inputs."""
    nodes, infos = [], []
    for name, array in outputs.items():
        const = f"{name}_value"
        nodes.append(
            helper.make_node("Constant", [], [const], value=numpy_helper.from_array(array))
        )
        nodes.append(helper.make_node("Identity", [const], [name]))
        shape = (output_shapes or {}).get(name, list(array.shape))
        elem = helper.np_dtype_to_tensor_dtype(array.dtype)
        infos.append(helper.make_tensor_value_info(name, elem, shape))
    graph = helper.make_graph(
        nodes,
        "labelfix-test",
        [helper.make_tensor_value_info(input_name, input_type, list(input_shape))]
        + [helper.make_tensor_value_info(n, t, list(sh)) for n, t, sh in extra_inputs],
        infos,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    for key, value in (metadata or {}).items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return path


def ultralytics_metadata(
    task: str, names: dict[int, str], imgsz=(640, 640), **extra: str
) -> dict[str, str]:
    """Metadata as Ultralytics' exporter writes it (values are Python literals as text)."""
    meta = {
        "description": "Ultralytics YOLO11n model trained on test.yaml",
        "author": "Ultralytics",
        "version": "8.4.190",
        "stride": "32",
        "task": task,
        "batch": "1",
        "imgsz": str(list(imgsz)),
        "names": str(names),
        "head": "Segment" if task == "segment" else "Detect",
        "end2end": "False",
        "args": "{'batch': 1, 'half': False, 'dynamic': False, 'nms': False}",
    }
    meta.update(extra)
    return meta


def write_image(path: Path, width: int, height: int, seed: int = 0) -> Path:
    """A random RGB PNG of the given size (lossless, so decoded pixels are known)."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8)).save(path)
    return path


def image_dependent_model(
    path: Path,
    outputs: dict[str, np.ndarray],
    gains: dict[str, np.ndarray],
    *,
    work_channels: int = 0,
    input_shape: list[int | str] = (1, 3, 640, 640),
    metadata: dict[str, str] | None = None,
) -> Path:
    """A model whose output ``name`` is ``outputs[name] + mean(image) * gains[name]``: what it
    predicts depends on the pixels it is given (so a test can tell which image it ran on).

    ``work_channels`` > 0 adds a 3x3 convolution of the image to that many channels whose
    result is multiplied by 0 and added: a model that takes real time per image.
    """
    nodes = [helper.make_node("ReduceMean", ["images"], ["mean"], keepdims=0)]
    inits = []
    if work_channels:
        rng = np.random.default_rng(0)
        weights = rng.normal(size=(work_channels, 3, 3, 3)).astype(np.float32)
        inits += [
            numpy_helper.from_array(weights, "work_w"),
            numpy_helper.from_array(np.array(0.0, np.float32), "zero"),
        ]
        nodes += [
            helper.make_node("Conv", ["images", "work_w"], ["work"], pads=[1, 1, 1, 1]),
            helper.make_node("ReduceMean", ["work"], ["work_mean"], keepdims=0),
            helper.make_node("Mul", ["work_mean", "zero"], ["nothing"]),
            helper.make_node("Add", ["mean", "nothing"], ["level"]),
        ]
    else:
        nodes.append(helper.make_node("Identity", ["mean"], ["level"]))
    infos = []
    for name, array in outputs.items():
        inits += [
            numpy_helper.from_array(array, f"{name}_base"),
            numpy_helper.from_array(gains[name].astype(array.dtype), f"{name}_gain"),
        ]
        nodes += [
            helper.make_node("Mul", ["level", f"{name}_gain"], [f"{name}_delta"]),
            helper.make_node("Add", [f"{name}_base", f"{name}_delta"], [name]),
        ]
        elem = helper.np_dtype_to_tensor_dtype(array.dtype)
        infos.append(helper.make_tensor_value_info(name, elem, list(array.shape)))
    graph = helper.make_graph(
        nodes,
        "labelfix-test-image-dependent",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, list(input_shape))],
        infos,
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    for key, value in (metadata or {}).items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return path


def image_records(
    model: object,
    image: Path,
    width: int,
    height: int,
    categories: dict[int, str],
    **kwargs: object,
) -> list[dict]:
    """The prediction records ``run_model`` gives for one image (id 7); no problems allowed."""
    got: dict[int, list[dict]] = {}
    summary = run_model(
        model,
        [ImageRef(7, image, width, height)],
        categories=categories,
        sink=lambda i, r: got.setdefault(i, r),
        **kwargs,
    )
    assert not summary.problems, summary.problems
    return got[7]
