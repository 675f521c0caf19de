"""Model classes and dataset categories: names, built-in COCO lists, and the mapping between them.

A model predicts class *indices*; the project's labels use COCO category *ids*. The mapping goes
by name, case-, space-, underscore- and hyphen-insensitive ("Dining_Table" = "diningtable" =
"dining table"), with a small table of common synonyms (Pascal VOC's names against COCO's).
Models without class names get a built-in list: the 80 COCO classes in the order YOLO models are
trained on, or torchvision's 91-entry COCO list (index = COCO category id, 0 = background,
"N/A" for the ids COCO never used). A classes file overrides both.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

COCO80 = (
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat",
    "traffic light", "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog",
    "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella",
    "handbag", "tie", "suitcase", "frisbee", "skis", "snowboard", "sports ball", "kite",
    "baseball bat", "baseball glove", "skateboard", "surfboard", "tennis racket", "bottle",
    "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple", "sandwich", "orange",
    "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch", "potted plant",
    "bed", "dining table", "toilet", "tv", "laptop", "mouse", "remote", "keyboard", "cell phone",
    "microwave", "oven", "toaster", "sink", "refrigerator", "book", "clock", "vase", "scissors",
    "teddy bear", "hair drier", "toothbrush",
)  # fmt: skip
"""The 80 COCO classes in category-id order: class index k of a COCO-trained YOLO model."""

# COCO category ids 1..90 less those COCO's 2014 paper listed but never annotated (91 too).
_COCO_UNUSED_IDS = (12, 26, 29, 30, 45, 66, 68, 69, 71, 83)
COCO_CATEGORY_IDS = tuple(i for i in range(1, 91) if i not in _COCO_UNUSED_IDS)
COCO91 = ("__background__",) + tuple(
    COCO80[COCO_CATEGORY_IDS.index(i)] if i in COCO_CATEGORY_IDS else "N/A" for i in range(1, 91)
)
"""torchvision's COCO list: label k of a torchvision COCO detector is COCO category id k."""

SYNONYMS = (
    ("motorcycle", "motorbike"),
    ("airplane", "aeroplane"),
    ("tv", "tvmonitor", "television"),
    ("couch", "sofa"),
    ("cell phone", "mobile phone", "cellphone"),
    ("hair drier", "hair dryer"),
    ("donut", "doughnut"),
    ("dining table", "diningtable"),
    ("potted plant", "pottedplant"),
)
"""Groups of names that mean the same class (VOC and other common spellings against COCO's)."""

NOT_A_CLASS = {"__background__", "background", "n/a", ""}


class ClassesError(ValueError):
    """A classes file that cannot be read, or a mapping that matches no dataset category."""


def normalize(name: str) -> str:
    """A class name as compared: lower case, without spaces, underscores and hyphens."""
    return re.sub(r"[\s_\-]+", "", name.strip().lower())


_SYNONYM_KEY = {normalize(n): normalize(group[0]) for group in SYNONYMS for n in group}


def read_classes_file(path: str | Path) -> dict[int, str]:
    """Model class index -> name from a file: one name per line, or a JSON list or {index: name}."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ClassesError(f"{path}: cannot read the classes file ({exc})") from exc
    stripped = text.strip()
    if stripped.startswith(("[", "{")):
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise ClassesError(f"{path}: not valid JSON ({exc})") from exc
        if isinstance(data, list):
            items = list(enumerate(data))
        else:
            try:
                items = [(int(k), v) for k, v in data.items()]
            except ValueError as exc:
                raise ClassesError(
                    f"{path}: a JSON object of classes needs integer keys (class index -> name)"
                ) from exc
        bad = [k for k, v in items if not isinstance(v, str)]
        if bad:
            raise ClassesError(f"{path}: class {bad[0]} has no name (expected a string)")
        names = dict(items)
    else:
        lines = text.splitlines()
        while lines and not lines[-1].strip():
            lines.pop()
        names = {i: line.strip() for i, line in enumerate(lines)}
    if not names:
        raise ClassesError(f"{path}: the classes file lists no class")
    return names


@dataclass(frozen=True)
class ClassMapping:
    """How model class indices map to dataset category ids."""

    model_names: dict[int, str]
    to_category: dict[int, int]
    """model class index -> dataset category id, for the mapped classes."""
    how: dict[int, str] = field(default_factory=dict)
    """model class index -> "name" (same name), "synonym" or "chosen" (set by the user)."""
    unmapped: tuple[str, ...] = ()
    """Names of model classes that no dataset category matches (their predictions are dropped)."""
    unused_categories: tuple[str, ...] = ()
    """Dataset categories no model class maps to (the model cannot find their missing labels)."""

    def rows(self, categories: Mapping[int, str]) -> list[tuple[int, str, int | None, str]]:
        """(model index, model name, category id or None, category name or "") for a table."""
        return [
            (k, name, self.to_category.get(k), categories.get(self.to_category.get(k, -1), ""))
            for k, name in sorted(self.model_names.items())
        ]

    def summary(self) -> str:
        """One line: how many model classes map, and which do not."""
        real = [n for n in self.model_names.values() if normalize(n) not in NOT_A_CLASS]
        text = f"{len(self.to_category)} of {len(real)} model classes map to dataset categories"
        if self.unmapped:
            shown = ", ".join(self.unmapped[:8]) + (" ..." if len(self.unmapped) > 8 else "")
            text += f"; ignored (no such category): {shown}"
        return text


def map_classes(
    model_names: Mapping[int, str],
    categories: Mapping[int, str] | Iterable[tuple[int, str]],
    *,
    chosen: Mapping[int, int | None] | None = None,
    source: str = "the model",
) -> ClassMapping:
    """Map model classes to dataset categories by name (and synonyms); `chosen` overrides per class.

    Raises :class:`ClassesError` when no model class maps to any category.
    """
    cats = dict(categories.items() if isinstance(categories, Mapping) else categories)
    by_key: dict[str, int] = {}
    for cat_id in sorted(cats):
        by_key.setdefault(normalize(cats[cat_id]), cat_id)
    by_synonym = {_SYNONYM_KEY[k]: cid for k, cid in by_key.items() if k in _SYNONYM_KEY}
    to_category: dict[int, int] = {}
    how: dict[int, str] = {}
    unmapped: list[str] = []
    for index in sorted(model_names):
        name = model_names[index]
        key = normalize(name)
        if chosen is not None and index in chosen:
            target = chosen[index]
            if target is not None:
                if target not in cats:
                    raise ClassesError(
                        f"class {name!r} is mapped to category {target}, which the dataset lacks"
                    )
                to_category[index], how[index] = target, "chosen"
            continue
        if key in NOT_A_CLASS:
            continue
        if key in by_key:
            to_category[index], how[index] = by_key[key], "name"
        elif _SYNONYM_KEY.get(key) in by_synonym:
            to_category[index], how[index] = by_synonym[_SYNONYM_KEY[key]], "synonym"
        else:
            unmapped.append(name)
    if not to_category:
        shown = ", ".join(list(dict.fromkeys(model_names.values()))[:6])
        wanted = ", ".join(cats[c] for c in sorted(cats)[:6])
        raise ClassesError(
            f"no class of {source} matches a dataset category (model classes: {shown}"
            f"{' ...' if len(model_names) > 6 else ''}; dataset categories: {wanted}"
            f"{' ...' if len(cats) > 6 else ''}); give a classes file that names the model's classes"
        )
    used = set(to_category.values())
    unused = tuple(cats[c] for c in sorted(cats) if c not in used)
    return ClassMapping(dict(model_names), to_category, how, tuple(unmapped), unused)


def default_names(count: int, *, torchvision: bool = False) -> dict[int, str] | None:
    """The built-in class names for a model with `count` classes and no names (None if none fits)."""
    if torchvision:
        return dict(enumerate(COCO91)) if count <= len(COCO91) else None
    return dict(enumerate(COCO80)) if count == len(COCO80) else None


def names_from_sequence(names: Sequence[str]) -> dict[int, str]:
    """Index -> name for a list of names."""
    return dict(enumerate(names))
