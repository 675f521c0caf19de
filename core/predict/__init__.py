"""Predictions from an ONNX model, inside LabelFix (Qt-free).

:func:`inspect_model` tells what a model file is (family, input size, classes and their mapping
to the dataset's categories); :func:`run_model` runs it over the project's images and hands each
image's COCO result records to a sink. See ``docs/models.md`` for the families and how to export
them.
"""

from __future__ import annotations

from .classes import ClassesError, ClassMapping, map_classes, read_classes_file
from .detections import Detections, ModelError, Settings
from .model import FAMILIES, ModelInfo, family_name, load_model, set_name_for
from .runner import (
    DEFAULT_CONF,
    DEFAULT_MAX_DETS,
    ImageRef,
    RunProgress,
    RunSummary,
    inspect_model,
    run_model,
)

__all__ = [
    "DEFAULT_CONF",
    "DEFAULT_MAX_DETS",
    "FAMILIES",
    "ClassMapping",
    "ClassesError",
    "Detections",
    "ImageRef",
    "ModelError",
    "ModelInfo",
    "RunProgress",
    "RunSummary",
    "Settings",
    "family_name",
    "inspect_model",
    "load_model",
    "map_classes",
    "read_classes_file",
    "run_model",
    "set_name_for",
]
