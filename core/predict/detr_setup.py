"""Recognise a DETR-family export and set it up (see :mod:`.detr` for what each family does).

* outputs ``logits`` + ``pred_boxes``: a Hugging Face ``transformers`` / ``optimum`` export. Its
  ``config.json`` and ``preprocessor_config.json``, beside the model or above the ``onnx/``
  folder holding it (the layout of Hub repositories), give the class names (``id2label``), the
  model type (which post-processing) and the image processor's settings. Without them the
  logits' width tells the COCO checkpoints apart: 92 = DETR / YOLOS (91 ids + no object,
  softmax), 91 = Deformable / Conditional DETR (sigmoid), 80 = RT-DETR (sigmoid).
* inputs ``images`` + ``orig_target_sizes`` and outputs ``labels``, ``boxes``, ``scores``: an
  RT-DETR / D-FINE / DEIM export with its post-processor.
* outputs ``dets`` (boxes) and ``labels`` (float logits, [1, Q, C]): an RF-DETR export (MMDeploy's
  ``dets`` / ``labels`` hold integer labels and are not taken for one).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from . import classes as class_names
from .detections import Family, ModelError
from .detr import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    DeployDetr,
    HuggingFaceDetr,
    ImageProcessing,
    RFDetr,
)
from .torchvision import output_roles

FAMILIES = {
    "hf-detr": "Hugging Face DETR / YOLOS / Table Transformer (softmax)",
    "hf-deformable-detr": "Hugging Face Deformable / Conditional DETR (sigmoid, top 100)",
    "hf-rt-detr": "Hugging Face RT-DETR / RT-DETRv2 / D-FINE (sigmoid)",
    "d-fine": "D-FINE / DEIM / RT-DETR export with its post-processor",
    "rf-detr": "RF-DETR (Roboflow)",
}
ALIASES = {
    "detr": "hf-detr", "yolos": "hf-detr", "table-transformer": "hf-detr",
    "deformable-detr": "hf-deformable-detr", "conditional-detr": "hf-deformable-detr",
    "dab-detr": "hf-deformable-detr", "rt-detr-hf": "hf-rt-detr", "rtdetr-hf": "hf-rt-detr",
    "rt-detrv2-hf": "hf-rt-detr", "d-fine-hf": "hf-rt-detr", "dfine": "d-fine", "deim": "d-fine",
    "deimv2": "d-fine", "rt-detrv2": "d-fine", "rtdetrv2": "d-fine", "rtdetr-deploy": "d-fine",
    "rfdetr": "rf-detr", "roboflow": "rf-detr",
}  # fmt: skip
HF = ("hf-detr", "hf-deformable-detr", "hf-rt-detr")
MODEL_TYPES = {
    "detr": "hf-detr", "yolos": "hf-detr", "table-transformer": "hf-detr",
    "deformable_detr": "hf-deformable-detr", "conditional_detr": "hf-deformable-detr",
    "dab-detr": "hf-deformable-detr", "rt_detr": "hf-rt-detr", "rt_detr_v2": "hf-rt-detr",
    "d_fine": "hf-rt-detr",
}  # fmt: skip
"""``config.json`` ``model_type`` -> family (which ``post_process_object_detection``)."""
PROCESSORS = {
    "DetrImageProcessor": "hf-detr", "YolosImageProcessor": "hf-detr",
    "DeformableDetrImageProcessor": "hf-deformable-detr",
    "ConditionalDetrImageProcessor": "hf-deformable-detr", "RTDetrImageProcessor": "hf-rt-detr",
}  # fmt: skip
COCO_WIDTHS = {92: "hf-detr", 91: "hf-deformable-detr", 80: "hf-rt-detr"}
"""Logits width of the public COCO checkpoints -> family, when no config.json says."""
DEFAULT_PROCESSING = {
    "hf-detr": ImageProcessing({"shortest_edge": 800, "longest_edge": 1333}),
    "hf-deformable-detr": ImageProcessing({"shortest_edge": 800, "longest_edge": 1333}),
    "hf-rt-detr": ImageProcessing({"height": 640, "width": 640}, mean=None, std=None),
}
"""The image processors' defaults (``DetrImageProcessor``, ``RTDetrImageProcessor``)."""
HF_EXPECTED = "outputs logits [1, queries, classes] and pred_boxes [1, queries, 4]"
DEPLOY_EXPECTED = (
    "inputs images [1, 3, H, W] and orig_target_sizes [1, 2], outputs labels, boxes and scores"
)
RF_EXPECTED = "outputs dets [1, queries, 4] and labels [1, queries, classes] (float logits)"


def family_names() -> dict[str, str]:
    """The DETR families and their titles."""
    return dict(FAMILIES)


@dataclass
class DetrPlan:
    """What :func:`setup` found: the family, how it was told, its classes and its input."""

    family: str
    detected_by: str
    runner: Family
    class_names: dict[int, str]
    class_names_from: str
    input_hw: tuple[int, int] | None
    resize: str


def recognise(input_names: list[str], outputs: list[Any]) -> str | None:
    """The DETR family the input and output names point to (None: not a DETR export)."""
    output_names = [o.name for o in outputs]
    outs = {n.lower() for n in output_names}
    types = {o.name.lower(): o.type for o in outputs}
    if {"dets", "labels"} <= outs and types["labels"] in ("tensor(float)", "tensor(float16)"):
        return "rf-detr"
    if "orig_target_sizes" in {n.lower() for n in input_names} and {
        "boxes",
        "labels",
        "scores",
    } <= set(output_roles(output_names)):
        return "d-fine"
    if {"logits", "pred_boxes"} <= outs:
        return "hf"
    return None


def read_json(path: Path) -> dict[str, Any] | None:
    """A JSON object from a file, or None when there is none (ModelError when it is broken)."""
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{path}: cannot read it ({exc})") from exc
    return data if isinstance(data, dict) else None


def hf_configs(model: Path) -> tuple[dict | None, dict | None, Path | None]:
    """``config.json`` and ``preprocessor_config.json`` beside the model, or above the ``onnx/``
    folder that holds it (a Hub repository's layout)."""
    folders = [model.parent] + ([model.parent.parent] if model.parent.name == "onnx" else [])
    for folder in folders:
        config = read_json(folder / "config.json")
        if config is not None and not ({"id2label", "model_type"} & config.keys()):
            config = None
        processor = read_json(folder / "preprocessor_config.json")
        if config is not None or processor is not None:
            return config, processor, folder
    return None, None, None


def processing_from(raw: dict[str, Any], family: str, where: Path) -> ImageProcessing:
    """The image processor's settings from ``preprocessor_config.json`` (in `where`)."""
    base = DEFAULT_PROCESSING[family]
    source = where / "preprocessor_config.json"
    size: Any = raw.get("size", base.size)
    if isinstance(size, int | float):
        size = {"shortest_edge": int(size)}
        if isinstance(raw.get("max_size"), int):
            size["longest_edge"] = raw["max_size"]
    elif isinstance(size, list | tuple) and len(size) == 2:
        size = {"height": int(size[0]), "width": int(size[1])}
    if not isinstance(size, dict):
        raise ModelError(f"{source}: a size of {size!r} is not understood")
    size = {k: int(v) for k, v in size.items() if isinstance(v, int | float)}
    if not raw.get("do_resize", True):
        size = {}
    elif not (
        "shortest_edge" in size
        or {"height", "width"} <= size.keys()
        or {"max_height", "max_width"} <= size.keys()
    ):
        raise ModelError(f"{source}: a size of {size} is not understood")
    normalize = raw.get("do_normalize", base.mean is not None)
    pad = raw.get("pad_size") if raw.get("do_pad", False) else None

    def per_channel(value: Any) -> tuple[float, ...]:
        values = tuple(value) if isinstance(value, list | tuple) else (value,) * 3
        if len(values) != 3 or not all(isinstance(v, int | float) for v in values):
            raise ModelError(f"{source}: image_mean / image_std {value!r}: expected 3 numbers")
        return tuple(float(v) for v in values)

    return ImageProcessing(
        size=size,
        resample=int(raw.get("resample", base.resample)),
        rescale=float(raw.get("rescale_factor", 1 / 255)) if raw.get("do_rescale", True) else None,
        mean=per_channel(raw.get("image_mean", IMAGENET_MEAN)) if normalize else None,
        std=per_channel(raw.get("image_std", IMAGENET_STD)) if normalize else None,
        pad_to=(int(pad["height"]), int(pad["width"])) if isinstance(pad, dict) else None,
    )


def setup(
    path: Path,
    session: Any,
    image_input: Any,
    chosen: str | None,
    classes: Any,
    imgsz: tuple[int, int] | None,
    fixed_hw: tuple[int, int] | None,
    dtype: type,
) -> DetrPlan:
    """Set up a DETR-family model (`chosen`: the user's family, else recognised by names)."""
    inputs = session.get_inputs()
    outputs = session.get_outputs()
    in_names, out_names = [i.name for i in inputs], [o.name for o in outputs]
    kind = chosen or recognise(in_names, outputs)
    if kind == "d-fine":
        plan = _deploy(path, inputs, out_names, image_input, imgsz, fixed_hw, dtype)
        plan.detected_by = "chosen" if chosen else plan.detected_by
    elif kind == "rf-detr":
        plan = _rf_detr(path, session, image_input, imgsz, fixed_hw, dtype, classes is not None)
        plan.detected_by = "chosen" if chosen else plan.detected_by
    else:
        named = classes is not None
        plan = _hugging_face(path, session, image_input, chosen, imgsz, fixed_hw, dtype, named)
    if classes is not None:
        plan.class_names = class_names.read_classes_file(classes)
        plan.class_names_from = f"classes file {Path(classes).name}"
    return plan


def _deploy(
    path: Path,
    inputs: list[Any],
    out_names: list[str],
    image_input: Any,
    imgsz: tuple[int, int] | None,
    fixed_hw: tuple[int, int] | None,
    dtype: type,
) -> DetrPlan:
    roles = output_roles(out_names)
    sizes = [i for i in inputs if i is not image_input]
    if len(sizes) != 1 or not {"boxes", "labels", "scores"} <= roles.keys():
        shown = ", ".join(in_names_of(inputs)) + " -> " + ", ".join(out_names)
        raise ModelError(
            f"{path}: {shown} does not fit {FAMILIES['d-fine']}; expected {DEPLOY_EXPECTED}"
        )
    size_type = {"tensor(int32)": np.int32, "tensor(float)": np.float32}.get(
        sizes[0].type, np.int64
    )
    hw = fixed_hw or imgsz or (640, 640)
    runner = DeployDetr(hw, sizes[0].name, size_type, roles, dtype)
    names = dict(enumerate(class_names.COCO80))
    return DetrPlan(
        "d-fine",
        f"inputs {image_input.name} + {sizes[0].name}, outputs {', '.join(sorted(roles))}",
        runner,
        names,
        "built-in COCO list (80 classes)",
        hw,
        f"{hw[1]}x{hw[0]}",
    )


def _rf_detr(
    path: Path,
    session: Any,
    image_input: Any,
    imgsz: tuple[int, int] | None,
    fixed_hw: tuple[int, int] | None,
    dtype: type,
    named: bool,
) -> DetrPlan:
    outputs = session.get_outputs()
    lower = [o.name.lower() for o in outputs]
    if "dets" not in lower or "labels" not in lower:
        shown = ", ".join(o.name for o in outputs)
        raise ModelError(f"{path}: outputs {shown} do not fit RF-DETR; expected {RF_EXPECTED}")
    di, li = lower.index("dets"), lower.index("labels")
    hw = fixed_hw or imgsz or (560, 560)
    shapes = [list(o.shape) for o in outputs]
    if not all(isinstance(d, int) for d in shapes[li]):
        shapes = _probe(path, session, image_input.name, None, hw, dtype)
    dets, logits = shapes[di], shapes[li]
    if len(dets) != 3 or dets[-1] != 4 or len(logits) != 3 or logits[1] != dets[1]:
        raise ModelError(
            f"{path}: dets {dets} and labels {logits} do not fit RF-DETR; expected {RF_EXPECTED}"
        )
    nc = int(logits[2])
    if named:
        names, names_from = {}, ""
    elif nc == 91:
        names, names_from = dict(enumerate(class_names.COCO91)), "built-in COCO list (91 ids)"
    else:
        raise ModelError(
            f"{path}: the model scores {nc} classes and has no class names; give a classes file "
            "(one name per line: line k names the class id k it was trained with)"
        )
    runner = RFDetr(hw, di, li, dtype)
    how = f"outputs {outputs[di].name} + {outputs[li].name} (float logits)"
    return DetrPlan("rf-detr", how, runner, names, names_from, hw, f"{hw[1]}x{hw[0]}")


def in_names_of(inputs: list[Any]) -> list[str]:
    """The inputs' names."""
    return [i.name for i in inputs]


def _hugging_face(
    path: Path,
    session: Any,
    image_input: Any,
    chosen: str | None,
    imgsz: tuple[int, int] | None,
    fixed_hw: tuple[int, int] | None,
    dtype: type,
    named: bool,
) -> DetrPlan:
    outputs = session.get_outputs()
    lower = [o.name.lower() for o in outputs]
    if "logits" not in lower or "pred_boxes" not in lower:
        shown = ", ".join(o.name for o in outputs)
        family = FAMILIES[chosen] if chosen else "a Hugging Face DETR"
        raise ModelError(f"{path}: outputs {shown} do not fit {family}; expected {HF_EXPECTED}")
    li, bi = lower.index("logits"), lower.index("pred_boxes")
    masks = [i for i in session.get_inputs() if i is not image_input]
    mask_input = masks[0].name if masks else None
    mask_type = {"tensor(int32)": np.int32, "tensor(bool)": np.bool_}.get(
        masks[0].type if masks else "", np.int64
    )
    shapes = [list(o.shape) for o in outputs]
    if not all(isinstance(d, int) for d in shapes[li]):
        shapes = _probe(path, session, image_input.name, mask_input, fixed_hw or (640, 640), dtype)
    logits, boxes = shapes[li], shapes[bi]
    if len(logits) != 3 or len(boxes) != 3 or boxes[-1] != 4 or logits[1] != boxes[1]:
        raise ModelError(
            f"{path}: logits {logits} and pred_boxes {boxes} do not fit a DETR head; "
            f"expected {HF_EXPECTED}"
        )
    width = int(logits[2])
    config, processor, folder = hf_configs(path)
    family, how = _hf_family(path, chosen, config, processor, width)
    softmax = family == "hf-detr"
    nc = width - 1 if softmax else width
    names, names_from = _hf_names(path, config, family, nc, width, folder, named)
    processing = (
        processing_from(processor, family, folder)
        if processor is not None and folder is not None
        else DEFAULT_PROCESSING[family]
    )
    if imgsz is not None or (processor is None and fixed_hw is not None):
        height, width_px = imgsz or fixed_hw  # type: ignore[misc]
        processing = replace(processing, size={"height": height, "width": width_px})
    size = processing.size
    input_hw = (size["height"], size["width"]) if {"height", "width"} <= size.keys() else None
    if fixed_hw is not None and (processing.pad_to or input_hw) != fixed_hw:
        raise ModelError(
            f"{path}: the model's input is fixed at {fixed_hw[1]}x{fixed_hw[0]} but its image "
            f"processor resizes to {processing.describe() if size else 'the image size'}; export "
            f"it with dynamic height and width, or give --imgsz {fixed_hw[0]} to stretch the "
            "images to its size"
        )
    runner = HuggingFaceDetr(
        family,
        processing,
        li,
        bi,
        softmax,
        None if family == "hf-rt-detr" else 100,
        mask_input,
        fixed_hw,
        dtype,
        mask_type,
    )
    resize = processing.describe() if size else "each image's own size"
    return DetrPlan(family, how, runner, names, names_from, input_hw, resize)


def _hf_family(
    path: Path, chosen: str | None, config: dict | None, processor: dict | None, width: int
) -> tuple[str, str]:
    model_type = str((config or {}).get("model_type", ""))
    raw_kind = (processor or {}).get("image_processor_type") or (processor or {}).get(
        "feature_extractor_type", ""
    )  # older exports: DetrFeatureExtractor and the like
    kind = str(raw_kind).removesuffix("Fast").replace("FeatureExtractor", "ImageProcessor")
    if chosen:
        return chosen, "chosen"
    if model_type in MODEL_TYPES:
        return MODEL_TYPES[
            model_type
        ], f"outputs logits + pred_boxes, config.json model_type {model_type}"
    if kind in PROCESSORS:
        return PROCESSORS[kind], f"outputs logits + pred_boxes, preprocessor_config.json {kind}"
    if width in COCO_WIDTHS and config is None:
        return COCO_WIDTHS[
            width
        ], f"outputs logits + pred_boxes, {width} logits (a COCO checkpoint)"
    raise ModelError(
        f"{path}: outputs logits + pred_boxes ({width} logits) but no config.json with a known "
        "model_type beside it; give --family hf-detr (softmax with a no-object class: DETR, "
        "YOLOS), hf-deformable-detr (Deformable / Conditional DETR) or hf-rt-detr (RT-DETR, "
        "D-FINE), and --classes"
    )


def _hf_names(
    path: Path,
    config: dict | None,
    family: str,
    nc: int,
    width: int,
    folder: Path | None,
    named: bool,
) -> tuple[dict[int, str], str]:
    raw = (config or {}).get("id2label")
    if isinstance(raw, dict) and raw:
        try:
            names = {int(k): str(v) for k, v in raw.items()}
        except ValueError as exc:
            raise ModelError(f"{folder}/config.json: id2label keys are not class indices") from exc
        if family == "hf-detr" and len(names) == width:
            raise ModelError(
                f"{path}: {width} logits for {len(names)} classes: a sigmoid head, not a softmax "
                "one with a no-object class; choose --family hf-deformable-detr or hf-rt-detr"
            )
        if family != "hf-detr" and len(names) == width - 1 and max(names) < width - 1:
            raise ModelError(
                f"{path}: {width} logits for {len(names)} classes: a softmax head with a "
                "no-object class; choose --family hf-detr"
            )
        return names, "config.json id2label"
    if named:  # a classes file names them
        return {}, ""
    if nc == 91:
        return dict(enumerate(class_names.COCO91)), "built-in COCO list (91 ids)"
    if nc == 80:
        return dict(enumerate(class_names.COCO80)), "built-in COCO list (80 classes)"
    raise ModelError(
        f"{path}: the model scores {nc} classes and no config.json names them; give a classes "
        "file (one name per line, in the model's class order)"
    )


def _probe(
    path: Path, session: Any, name: str, mask: str | None, hw: tuple[int, int], dtype: type
) -> list[list[int]]:
    feed = {name: np.zeros((1, 3, *hw), dtype)}
    if mask:
        feed[mask] = np.ones((1, *hw), np.int64)
    try:
        return [list(o.shape) for o in session.run(None, feed)]
    except Exception as exc:  # noqa: BLE001 - onnxruntime's own error types
        raise ModelError(
            f"{path}: the model failed on a blank {hw[1]}x{hw[0]} input ({exc})"
        ) from exc
