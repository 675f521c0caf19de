"""Open an ONNX model, read what it says about itself, and recognise its family.

The family comes from, in order: the user's choice; Ultralytics export metadata
(``get_modelmeta().custom_metadata_map``: ``task``, ``names``, ``imgsz``, ``stride``, ``head``,
``end2end``, ``args``); the DETR families' input and output names (:mod:`.detr_setup`: outputs
``logits`` + ``pred_boxes``, or inputs ``images`` + ``orig_target_sizes``); YOLOv5's metadata
(``stride`` and ``names`` only); outputs named ``boxes``/``labels``/``scores`` (torchvision); and
last the output shapes for the input size
(``[1, 4 + nc, cells]`` Ultralytics, ``[1, 3 x cells, 5 + nc]`` YOLOv5, ``[1, cells, 5 + nc]``
YOLOX, ``[1, Q, 4 + nc]`` RT-DETR, where cells = anchor points at strides 8, 16, 32). A graph with
symbolic output sizes is run once on a blank input to learn them.
"""

from __future__ import annotations

import ast
import contextlib
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import classes as class_names
from . import detr_setup
from .detections import Family, ModelError
from .torchvision import TorchVision, output_roles
from .ultralytics import Ultralytics
from .yolov5 import YoloV5
from .yolox import STRIDES, YoloX, grid_cells

FAMILIES = {
    "ultralytics": "Ultralytics YOLOv8 / YOLO11 detection",
    "ultralytics-seg": "Ultralytics YOLOv8 / YOLO11 segmentation",
    "ultralytics-end2end": "Ultralytics end-to-end detection (YOLO26, YOLOv10, nms=True)",
    "ultralytics-end2end-seg": "Ultralytics end-to-end segmentation (YOLO26)",
    "rtdetr": "RT-DETR (Ultralytics export)",
    "yolov5": "YOLOv5",
    "yolox": "YOLOX (raw head)",
    "torchvision": "torchvision detector (Faster R-CNN, Mask R-CNN, RetinaNet, SSD)",
    **detr_setup.FAMILIES,
}
ALIASES = {
    "yolov8": "ultralytics", "yolo11": "ultralytics", "yolov8-seg": "ultralytics-seg",
    "yolo11-seg": "ultralytics-seg", "yolo26": "ultralytics-end2end", "yolov10": "ultralytics-end2end",
    "yolo26-seg": "ultralytics-end2end-seg", "rt-detr": "rtdetr", "faster-rcnn": "torchvision",
    "mask-rcnn": "torchvision", "retinanet": "torchvision", "ssd": "torchvision",
    **detr_setup.ALIASES,
}  # fmt: skip
DEFAULT_IOU = {"yolov5": 0.45, "yolox": 0.45}
"""NMS IoU defaults of the references' prediction scripts (Ultralytics' predictor: 0.7)."""
EXPECTED = (
    "expected one of: an Ultralytics export (output [1, 4+classes, N], plus [1, 32, h, w] "
    "prototypes for segmentation, or [1, N, 6]), YOLOv5 [1, N, 5+classes], YOLOX [1, N, 5+classes], "
    "RT-DETR [1, queries, 4+classes], outputs named boxes/labels/scores(/masks), a Hugging Face "
    "DETR export (outputs logits and pred_boxes), a D-FINE / RT-DETR deploy export (inputs images "
    "and orig_target_sizes) or RF-DETR (outputs dets and labels)"
)


GENERIC_STEMS = ("model", "inference_model")
"""File names that say nothing of the model (optimum, Hub ``onnx/`` folders, RF-DETR's export)."""


def set_name_for(path: str | os.PathLike[str]) -> str:
    """A prediction set name for a model file: its stem, or for ``model.onnx`` /
    ``inference_model.onnx`` (and ``model_fp16.onnx`` ...) its folder's name (the repository's,
    above an ``onnx/`` folder) with the stem's suffix."""
    path = Path(path)
    folder = path.parent.parent if path.parent.name.lower() == "onnx" else path.parent
    for stem in GENERIC_STEMS:
        if folder.name and (path.stem == stem or path.stem.startswith(stem + "_")):
            return folder.name + path.stem[len(stem) :]
    return path.stem


def family_name(name: str) -> str:
    """A family name or alias as the canonical family name (ModelError if unknown)."""
    key = name.strip().lower().replace("_", "-")
    key = ALIASES.get(key, key)
    if key not in FAMILIES:
        raise ModelError(f"unknown model family {name!r}; known: {', '.join(FAMILIES)}")
    return key


@dataclass
class ModelInfo:
    """What the dialog and CLI show about a model before running it."""

    path: Path
    family: str
    detected_by: str
    input_name: str
    input_shape: list[int | str]
    input_hw: tuple[int, int] | None
    """(height, width) the images are fitted to; None: each image at its own size."""
    dynamic: bool
    outputs: list[tuple[str, list[int | str]]]
    masks: bool
    class_names: dict[int, str]
    class_names_from: str
    metadata: dict[str, str] = field(default_factory=dict)
    resize: str | None = None
    """How images are resized when it is not to one size (a Hugging Face image processor's rule)."""

    @property
    def family_title(self) -> str:
        """The family's readable name."""
        return FAMILIES[self.family]

    @property
    def size_text(self) -> str:
        """What images are fitted to: "640x640", "each image's own size" or a resize rule."""
        if self.input_hw:
            return f"{self.input_hw[1]}x{self.input_hw[0]}"
        return self.resize or "each image's own size"

    def describe(self) -> str:
        """A few lines for the user: family, input, classes."""
        size = self.size_text
        outs = ", ".join(f"{n} {s}" for n, s in self.outputs)
        return (
            f"{self.path.name}: {self.family_title} ({self.detected_by})\n"
            f"input {self.input_name} {self.input_shape}: images fitted to {size}\n"
            f"outputs: {outs}\n"
            f"{len(self.class_names)} classes ({self.class_names_from}); "
            f"{'masks and boxes' if self.masks else 'boxes'}"
        )


@dataclass
class LoadedModel:
    """An onnxruntime session with its family's pre/post-processing."""

    info: ModelInfo
    session: Any
    family: Family


def onnxruntime_module() -> Any:
    """The onnxruntime module, or a ModelError saying how to get it."""
    try:
        import onnxruntime
    except ImportError as exc:
        raise ModelError("running a model needs onnxruntime: pip install onnxruntime") from exc
    return onnxruntime


def open_session(path: Path, threads: int | None = None) -> Any:
    """A CPU onnxruntime session for the file, or ModelError naming it."""
    ort = onnxruntime_module()
    if not path.is_file():
        raise ModelError(f"{path}: model file not found")
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    if threads:
        options.intra_op_num_threads = threads
    try:
        return ort.InferenceSession(os.fspath(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own types for bad files
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(f"{path}: not a usable ONNX model ({reason[:300]})") from exc


def parse_metadata(raw: dict[str, str]) -> dict[str, Any]:
    """Ultralytics/YOLOv5 metadata values (Python literals stored as text) as Python values."""
    out: dict[str, Any] = dict(raw)
    for key in ("names", "imgsz", "stride", "args", "end2end", "batch"):
        if key in raw:
            with contextlib.suppress(ValueError, SyntaxError, MemoryError, RecursionError):
                out[key] = ast.literal_eval(raw[key])
    return out


def _dims(shape: list[Any]) -> list[int | str]:
    return [d if isinstance(d, int) and d >= 0 else str(d or "?") for d in shape]


def load_model(
    path: str | os.PathLike[str],
    *,
    family: str | None = None,
    classes: str | os.PathLike[str] | None = None,
    imgsz: int | tuple[int, int] | None = None,
    threads: int | None = None,
) -> LoadedModel:
    """Open the model and set up its family (detected, or `family`); ModelError when unusable."""
    path = Path(path)
    session = open_session(path, threads)
    raw_meta = dict(session.get_modelmeta().custom_metadata_map or {})
    meta = parse_metadata(raw_meta)
    inputs = session.get_inputs()
    chosen = family_name(family) if family else None
    detr = (
        chosen
        if chosen in detr_setup.FAMILIES
        else None
        if chosen
        else detr_setup.recognise([i.name for i in inputs], session.get_outputs())
    )
    image_input = _image_input(path, inputs, two=detr is not None)
    shape, dtype, fixed_hw = _check_input(path, image_input)
    if detr is not None:
        wanted = None if imgsz is None else _input_size(path, imgsz, fixed_hw)
        plan = detr_setup.setup(
            path, session, image_input, chosen, classes, wanted, fixed_hw, dtype
        )
        info = ModelInfo(
            path=path,
            family=plan.family,
            detected_by=plan.detected_by,
            input_name=image_input.name,
            input_shape=shape,
            input_hw=plan.input_hw,
            dynamic=fixed_hw is None,
            outputs=[(o.name, _dims(list(o.shape))) for o in session.get_outputs()],
            masks=False,
            class_names=plan.class_names,
            class_names_from=plan.class_names_from,
            metadata=raw_meta,
            resize=plan.resize,
        )
        return LoadedModel(info, session, plan.runner)
    dynamic = fixed_hw is None
    outputs = session.get_outputs()
    out_names = [o.name for o in outputs]
    out_shapes = [_dims(list(o.shape)) for o in outputs]
    names_meta = meta.get("names") if isinstance(meta.get("names"), dict | list) else None
    model_names = (
        {int(k): str(v) for k, v in names_meta.items()}
        if isinstance(names_meta, dict)
        else dict(enumerate(map(str, names_meta)))
        if isinstance(names_meta, list)
        else None
    )
    input_hw = _input_size(path, imgsz, fixed_hw)
    roles = output_roles(out_names)
    is_ultralytics = (
        meta.get("author") == "Ultralytics" or {"task", "names", "stride", "imgsz"} <= meta.keys()
    )
    is_yolov5 = not is_ultralytics and {"stride", "names"} <= meta.keys()

    if chosen is None and {"boxes", "labels", "scores"} <= roles.keys():
        chosen, how = "torchvision", "outputs named " + ", ".join(sorted(roles))
    elif chosen is None and is_ultralytics:
        chosen, how = (
            _ultralytics_family(path, meta),
            f"Ultralytics metadata (task {meta.get('task')})",
        )
    else:
        how = "chosen"
    if chosen in (None, "yolov5", "yolox", "rtdetr", "ultralytics", "ultralytics-seg") and any(
        not isinstance(d, int) for s in out_shapes[:2] for d in s
    ):
        out_shapes = _probe_shapes(session, image_input.name, len(shape), input_hw, dtype, path)
    # the head first, then the rest (a segmentation export may list its prototypes first)
    head = next((i for i, sh in enumerate(out_shapes) if len(sh) == 3), 0)
    protos = next((i for i, sh in enumerate(out_shapes) if len(sh) == 4), 1)
    ordered = [out_shapes[head]] + [sh for i, sh in enumerate(out_shapes) if i != head]
    if chosen is None:
        chosen, how = _family_from_shapes(path, ordered, input_hw, is_yolov5)

    masks = chosen in ("ultralytics-seg", "ultralytics-end2end-seg") or (
        chosen == "torchvision" and "masks" in roles
    )
    nc = _class_count(path, chosen, ordered, model_names, masks, input_hw)
    if classes is not None:
        model_names, names_from = (
            class_names.read_classes_file(classes),
            f"classes file {Path(classes).name}",
        )
    elif model_names:
        names_from = "model metadata"
    else:
        model_names = class_names.default_names(nc or 0, torchvision=chosen == "torchvision")
        names_from = "built-in COCO list" + (
            " (91 ids)" if chosen == "torchvision" else " (80 classes)"
        )
        if model_names is None:
            raise ModelError(
                f"{path}: the model has {nc} classes and no class names; give a classes file "
                "(one name per line, in the model's class order)"
            )
    stride = meta["stride"] if isinstance(meta.get("stride"), int) else 32
    if dynamic and chosen.startswith(("ultralytics", "rtdetr")):  # check_imgsz: stride multiples
        input_hw = tuple(math.ceil(v / stride) * stride for v in input_hw)
    info = ModelInfo(
        path=path,
        family=chosen,
        detected_by=how,
        input_name=image_input.name,
        input_shape=shape,
        input_hw=None if chosen == "torchvision" else input_hw,
        dynamic=dynamic,
        outputs=list(zip(out_names, out_shapes, strict=True)),
        masks=masks,
        class_names=model_names,
        class_names_from=names_from,
        metadata=raw_meta,
    )
    return LoadedModel(
        info,
        session,
        _make_family(info, ordered, nc, stride, dtype, roles, fixed_hw, meta, (head, protos)),
    )


def _image_input(path: Path, inputs: list[Any], *, two: bool) -> Any:
    """The image input: the only one, or for a DETR export the image beside its size or mask."""
    if len(inputs) == 1 or (two and len(inputs) == 2):
        images = [i for i in inputs if len(i.shape) == 4] or inputs
        return images[0]
    names = ", ".join(i.name for i in inputs)
    raise ModelError(
        f"{path}: the model takes {len(inputs)} inputs ({names}); LabelFix feeds one image tensor "
        "(and an image size or pixel mask to a DETR-family export)"
    )


def _check_input(path: Path, image_input: Any) -> tuple[list[int | str], type, Any]:
    """(shape, dtype, fixed (height, width) or None) of an image input LabelFix can feed."""
    shape = _dims(list(image_input.shape))
    batch = shape[0] if len(shape) == 4 else 1
    channels = shape[-3] if len(shape) in (3, 4) else None
    if len(shape) not in (3, 4) or (isinstance(channels, int) and channels != 3):
        raise ModelError(
            f"{path}: input {image_input.name} has shape {shape}; expected an RGB image tensor "
            "[1, 3, H, W] or [3, H, W]"
        )
    if isinstance(batch, int) and batch != 1:
        raise ModelError(
            f"{path}: the model was exported for batches of {batch} images; export it with batch 1 "
            "(or a dynamic batch)"
        )
    if image_input.type not in ("tensor(float)", "tensor(float16)"):
        raise ModelError(
            f"{path}: input {image_input.name} is a {image_input.type}; expected float32 or float16"
        )
    dtype = np.float16 if image_input.type == "tensor(float16)" else np.float32
    fixed_hw = tuple(shape[-2:]) if all(isinstance(d, int) for d in shape[-2:]) else None
    return shape, dtype, fixed_hw


def _input_size(path: Path, imgsz: Any, fixed_hw: Any) -> tuple[int, int]:
    """The input size: the graph's fixed one, else the user's, else 640 (the references' default)."""
    if imgsz is not None:
        wanted = (
            (int(imgsz), int(imgsz))
            if isinstance(imgsz, int | float)
            else (int(imgsz[0]), int(imgsz[1]))
        )
        if fixed_hw is not None and wanted != fixed_hw:
            raise ModelError(
                f"{path}: the model's input is fixed at {fixed_hw[1]}x{fixed_hw[0]}; "
                f"it cannot run at {wanted[1]}x{wanted[0]}"
            )
        return wanted
    if fixed_hw is not None:
        return fixed_hw  # type: ignore[return-value]
    return 640, 640


def _ultralytics_family(path: Path, meta: dict[str, Any]) -> str:
    task = meta.get("task")
    args = meta.get("args") if isinstance(meta.get("args"), dict) else {}
    end2end = meta.get("end2end") is True or bool(args.get("nms"))
    if meta.get("head") == "RTDETRDecoder" or "rtdetr" in str(meta.get("description", "")).lower():
        return "rtdetr"
    if task == "detect":
        return "ultralytics-end2end" if end2end else "ultralytics"
    if task == "segment":
        return "ultralytics-end2end-seg" if end2end else "ultralytics-seg"
    raise ModelError(
        f"{path}: an Ultralytics {task} model; LabelFix runs detection and segmentation models"
    )


def _probe_shapes(
    session: Any, name: str, rank: int, hw: tuple[int, int], dtype: type, path: Path
) -> list[list[int | str]]:
    blank = np.zeros((1, 3, *hw) if rank == 4 else (3, *hw), dtype)
    try:
        return [list(o.shape) for o in session.run(None, {name: blank})]
    except Exception as exc:  # noqa: BLE001
        raise ModelError(
            f"{path}: the model failed on a blank {hw[1]}x{hw[0]} input ({exc})"
        ) from exc


def _family_from_shapes(
    path: Path, shapes: list[list[Any]], hw: tuple[int, int], yolov5_meta: bool
) -> tuple[str, str]:
    shown = " + ".join(str(s) for s in shapes)
    cells = grid_cells(hw)
    cells_p6 = grid_cells(hw, (*STRIDES, 64))
    first = shapes[0] if shapes else []
    if len(first) == 3 and first[0] == 1:
        _, a, b = first
        protos = [s for s in shapes[1:] if len(s) == 4]
        if b in (cells, cells_p6) and a >= 5:
            return ("ultralytics-seg" if protos else "ultralytics"), f"output shape {shown}"
        if (
            not protos
            and b >= 6
            and (a in (3 * cells, 3 * cells_p6) or (yolov5_meta and a != cells))
        ):
            return "yolov5", f"output shape {shown}" + (
                " and YOLOv5 metadata" if yolov5_meta else ""
            )
        if not protos and a == cells and b >= 6:
            return "yolox", f"output shape {shown}"
        if not protos and 5 <= b < a <= 1000:
            return "rtdetr", f"output shape {shown} (queries x 4+classes)"
    raise ModelError(f"{path}: outputs {shown} fit no known model family; {EXPECTED}")


def _class_count(
    path: Path,
    family: str,
    shapes: list[list[Any]],
    names: dict[int, str] | None,
    masks: bool,
    hw: tuple[int, int],
) -> int | None:
    """Number of classes the head scores (checking the head fits the family)."""
    first = shapes[0] if shapes else []
    if family in ("yolov5", "rtdetr") or family.startswith("ultralytics-end2end"):
        _not_a_dense_head(path, family, first, hw)
    if family == "ultralytics-end2end-seg" and not any(len(s) == 4 for s in shapes[1:]):
        raise ModelError(
            f"{path}: a segmentation model needs a second output of prototype masks [1, 32, h, w]"
        )
    if family == "torchvision" or family.startswith("ultralytics-end2end"):
        return len(names) if names else None
    if len(first) != 3 or not all(isinstance(d, int) for d in first):
        raise ModelError(
            f"{path}: output shape {first} does not fit the {FAMILIES[family]} family; {EXPECTED}"
        )
    if family in ("ultralytics", "ultralytics-seg"):
        if first[1] > first[2]:
            raise ModelError(
                f"{path}: output {first} is not an Ultralytics head (expected [1, 4+classes, N])"
            )
        extra = shapes[1][1] if masks and len(shapes) > 1 and len(shapes[1]) == 4 else 0
        if masks and not extra:
            raise ModelError(
                f"{path}: a segmentation model needs a second output of prototype masks [1, 32, h, w]"
            )
        nc = len(names) if names else first[1] - 4 - extra
    elif family in ("yolov5", "yolox"):
        nc = first[2] - 5
        if family == "yolox" and first[1] != grid_cells(hw):
            raise ModelError(
                f"{path}: output {first} is not a YOLOX head for a {hw[1]}x{hw[0]} input "
                f"(expected [1, {grid_cells(hw)}, 5+classes])"
            )
    else:  # rtdetr
        nc = len(names) if names else first[2] - 4
    if nc < 1:
        raise ModelError(
            f"{path}: output shape {first} leaves no class scores for {FAMILIES[family]}"
        )
    return nc


HEAD_LAYOUT = {
    "yolov5": "[1, N, 5+classes]",
    "rtdetr": "[1, queries, 4+classes] or [1, K, 6]",
    "ultralytics-end2end": "[1, N, 6]",
    "ultralytics-end2end-seg": "[1, N, 6+32] and prototypes [1, 32, h, w]",
}


def _not_a_dense_head(path: Path, family: str, first: list[Any], hw: tuple[int, int]) -> None:
    """ModelError when the head is an Ultralytics dense head (one column per anchor point), which
    another family would read as nonsense predictions rather than fail on."""
    if len(first) != 3 or not all(isinstance(d, int) for d in first):
        return
    points = (grid_cells(hw), grid_cells(hw, (*STRIDES, 64)))
    if first[1] < first[2] and first[2] in points:
        raise ModelError(
            f"{path}: output {first} does not fit the {FAMILIES[family]} family (expected "
            f"{HEAD_LAYOUT[family]}); [1, 4+classes, {first[2]}] is an Ultralytics YOLOv8 / "
            "YOLO11 head: family ultralytics"
        )


def _make_family(
    info: ModelInfo,
    shapes: list[list[Any]],
    nc: int | None,
    stride: int,
    dtype: type,
    roles: dict[str, int],
    fixed_hw: Any,
    meta: dict[str, Any],
    order: tuple[int, int],
) -> Family:
    family, hw = info.family, info.input_hw or (640, 640)
    nc = nc or len(info.class_names)
    if family == "torchvision":
        if not {"boxes", "labels", "scores"} <= roles.keys():
            raise ModelError(
                f"{info.path}: a torchvision-style model needs outputs named boxes, labels and scores"
            )
        return TorchVision(roles=roles, rank=len(info.input_shape), fixed_hw=fixed_hw, dtype=dtype)
    if family == "yolov5":
        return YoloV5(input_hw=hw, nc=nc, dtype=dtype)
    if family == "yolox":
        return YoloX(input_hw=hw, nc=nc, dtype=dtype)
    if family == "rtdetr":
        last = shapes[0][-1] if shapes and shapes[0] else None
        version = str(meta.get("version", "0"))
        topk = last == 6 and (nc != 2 or _version_at_least(version, (8, 4)))
        return Ultralytics(
            name=family,
            input_hw=hw,
            dynamic=False,
            stride=stride,
            nc=nc,
            masks=False,
            rtdetr="topk" if topk else "queries",
            dtype=dtype,
            order=order,
        )
    return Ultralytics(
        name=family,
        input_hw=hw,
        dynamic=info.dynamic,
        stride=stride,
        nc=nc,
        masks=info.masks,
        end2end=family.startswith("ultralytics-end2end"),
        dtype=dtype,
        order=order,
    )


def _version_at_least(text: str, wanted: tuple[int, int]) -> bool:
    try:
        parts = tuple(int(p) for p in text.split(".")[:2])
    except ValueError:
        return False
    return parts >= wanted
