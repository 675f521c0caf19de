"""Taking a relabelled subset back: the labels of its images replace the project's.

A subset exported for re-labelling (:mod:`.relabel`) comes back from an editor renumbered:
CVAT and Label Studio give images, labels and classes new ids. So:

- images are matched by file name: the same path, else the same base name when only one
  project image has it (also without Label Studio's ``1a2b3c4d-`` upload prefix, or
  URL-escaped); an image the project does not have, or has twice, is refused;
- classes are matched by name (exactly, else ignoring case and surrounding spaces); a class used
  by a label and unknown to the project is refused, an unused one is a warning;
- an image whose size differs from the project's is refused (its coordinates would not fit);
- every label gets a project id: the id of a project label of that image it equals (class,
  crowd flag and shape: an unchanged label the editor renumbered; CVAT numbers from 1, so its
  ids can be other labels' ids), else the subset's id where that is the id of a still
  unclaimed label of the project on that image (the editor kept it), else the id of a still
  unclaimed project label of the image of its class and crowd flag that it overlaps with mask
  IoU >= 0.1 (redrawn; best overlaps first), else a new id above every id ever used;
- a label whose class, crowd flag and shape equal the project label of that id (within 0.01 px)
  is left untouched; changed and new labels are rounded and derived as :mod:`.new_labels`
  says (a box label of a polygon dataset becomes a rectangle polygon);
- the project labels of a matched image that the subset does not have are deleted.

Each image's replacement is one :class:`~.edits.ReplaceImageLabels` edit (``relabelled`` in the
change log); images not in the subset are untouched. A subset that does not match is refused
as a whole with every reason (:class:`RelabelError`), naming the file and the record.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
from pycocotools import mask as mask_utils

from . import as_read, describe, geometry, new_labels
from .coco import Problem, check_ground_truth, load_json
from .edits import CompositeEdit, Edit, ReplaceImageLabels, derive_geometry
from .store import Store

TOLERANCE = 0.01  # px: coordinates closer than this are the same
REDRAWN_IOU = 0.1  # a new shape overlapping a project label this much is that label, redrawn
# (an inaccurate_label is a prediction overlapping a label 0.1 <= IoU < 0.5: the redraw of a
# label flagged for it can overlap the old shape as little)
_UPLOAD_PREFIX = re.compile(r"^[0-9a-f]{8}-(.+)$")  # Label Studio's prefix on uploaded files
MAX_LISTED = 50


class RelabelError(ValueError):
    """A subset that does not match the project: every reason, each naming file and record."""

    def __init__(self, file: str, problems: list[Problem]) -> None:
        self.file = file
        self.problems = list(problems)
        lines = [f"{file}: the subset does not match the project ({len(problems)} problem(s))"]
        lines += [f"  {p.record}: {p.reason}" for p in problems[:MAX_LISTED]]
        if len(problems) > MAX_LISTED:
            lines.append(f"  ... and {len(problems) - MAX_LISTED} more")
        super().__init__("\n".join(lines))

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.file, self.problems))


@dataclass(frozen=True)
class ImageChange:
    """One image whose labels the merge replaces."""

    image_id: int
    file_name: str
    counts: dict[str, int]  # labels deleted, added, changed
    edit: ReplaceImageLabels


@dataclass
class MergePlan:
    """A validated merge: the images it changes, how many it leaves as they are, warnings."""

    path: Path
    changes: list[ImageChange] = field(default_factory=list)
    unchanged: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def image_ids(self) -> set[int]:
        """The images whose labels change."""
        return {c.image_id for c in self.changes}

    def totals(self) -> dict[str, int]:
        """Labels deleted, added and changed over all images."""
        out = {"deleted": 0, "added": 0, "changed": 0}
        for change in self.changes:
            for key in out:
                out[key] += change.counts[key]
        return out

    def summary(self) -> str:
        """One line: how many images and labels change."""
        t = self.totals()
        n = len(self.changes)
        changed, same = t["changed"], self.unchanged
        return (
            f"merge {self.path.name}: {n} image{'s' if n != 1 else ''} relabelled "
            f"({changed} label{'s' if changed != 1 else ''} changed, {t['added']} added, "
            f"{t['deleted']} deleted), {same} image{'s' if same != 1 else ''} unchanged"
        )

    def edit(self) -> Edit | None:
        """The merge as one edit (each image keeps its own entry group in the change log)."""
        edits = [c.edit for c in self.changes]
        if not edits:
            return None
        if len(edits) == 1:
            return edits[0]
        return RelabelMerge(edits, self.summary())


class RelabelMerge(CompositeEdit):
    """The images of one merge, applied and reverted together (one undo step in the app),
    each still its own edit in the change log."""

    def __init__(self, edits: Sequence[Edit], description: str) -> None:
        own = [e.edit_id for e in edits]
        super().__init__(edits, description)
        for edit, edit_id in zip(self.edits, own, strict=True):
            edit.edit_id = edit_id


# ---------------------------------------------------------------------- matching
def _record(section: str, index: int, rec: Any) -> str:
    rid = rec.get("id") if isinstance(rec, dict) else None
    return f"{section}[{index}]" + (f" (id {rid})" if rid is not None else "")


class ImageMatcher:
    """Finds the project image a subset file name means."""

    def __init__(self, file_names: Mapping[int, str]) -> None:
        self.exact = {name: image_id for image_id, name in file_names.items()}
        self.by_base: dict[str, list[int]] = {}
        for image_id, name in file_names.items():
            self.by_base.setdefault(_base(name), []).append(image_id)
        self.names = dict(file_names)

    def match(self, name: str) -> tuple[int | None, str | None]:
        """(project image id, None) or (None, why not)."""
        for candidate in (name, name.replace("\\", "/").removeprefix("./")):
            if candidate in self.exact:
                return self.exact[candidate], None
        base = _base(name)
        tries = [base, urllib.parse.unquote(base)]
        prefixed = _UPLOAD_PREFIX.match(base)
        if prefixed:
            tries.append(prefixed.group(1))
        for key in tries:
            hits = self.by_base.get(key, [])
            if len(hits) == 1:
                return hits[0], None
            if len(hits) > 1:
                shown = ", ".join(self.names[i] for i in hits[:3])
                return None, (
                    f"{len(hits)} project images are called {key!r} ({shown}); give the "
                    "path as in the project"
                )
        return None, "no image of that file name in the project"


def _base(name: str) -> str:
    return PurePosixPath(name.replace("\\", "/")).name


def _category_map(
    subset: list[dict], project: Mapping[int, str]
) -> tuple[dict[int, int], dict[int, tuple[int, str]]]:
    """Subset class id -> project class id for names the project has; the others by id:
    (index, name)."""
    exact = {name: cid for cid, name in project.items()}
    loose: dict[str, list[int]] = {}
    for cid, name in project.items():
        loose.setdefault(name.strip().casefold(), []).append(cid)
    mapped, unknown = {}, {}
    for i, c in enumerate(subset):
        name = c["name"]
        if name in exact:
            mapped[c["id"]] = exact[name]
        elif len(loose.get(name.strip().casefold(), [])) == 1:
            mapped[c["id"]] = loose[name.strip().casefold()][0]
        else:
            unknown[c["id"]] = (i, name)
    return mapped, unknown


# ---------------------------------------------------------------------- labels
def _clean_shape(seg: Any) -> Any:
    """None for a box (no segmentation, null, [], [[]]); the real parts of a polygon."""
    seg = as_read.clean_segmentation(seg)
    return None if seg in (None, []) else seg


def _close(a: Sequence[float], b: Sequence[float]) -> bool:
    return len(a) == len(b) and bool(
        np.all(np.abs(np.subtract(a, b, dtype=float)) <= TOLERANCE + 1e-9)
    )


def same_label(old: Mapping, new: Mapping, height: int, width: int) -> bool:
    """Whether a relabelled label equals the project's: class, crowd flag and shape (boxes and
    polygon vertices within TOLERANCE, masks pixel for pixel)."""
    if old["category_id"] != new["category_id"]:
        return False
    if int(old.get("iscrowd") or 0) != int(new.get("iscrowd") or 0):
        return False
    a, b = _clean_shape(old.get("segmentation")), _clean_shape(new.get("segmentation"))
    if a is None or b is None:
        return a is None and b is None and _close(old["bbox"], new["bbox"])
    if geometry.is_polygon(a) and geometry.is_polygon(b):
        return len(a) == len(b) and all(_close(p, q) for p, q in zip(a, b, strict=True))
    ra = geometry.to_rle(a, height, width, old["bbox"])
    rb = geometry.to_rle(b, height, width, new["bbox"])
    return ra["counts"] == rb["counts"]


def first_part_kept(old: Mapping, new: Mapping) -> bool:
    """Whether a one-part polygon is a multi-part project label's first part, unchanged (class,
    crowd flag, vertices within TOLERANCE): label-studio-converter reads only a polygon's
    first part, so that is how Label Studio gives back an unedited multi-part label."""
    a, b = _clean_shape(old.get("segmentation")), _clean_shape(new.get("segmentation"))
    if not (geometry.is_polygon(a) and geometry.is_polygon(b)) or len(a) < 2 or len(b) != 1:
        return False
    same_kind = old["category_id"] == new["category_id"]
    same_crowd = int(old.get("iscrowd") or 0) == int(new.get("iscrowd") or 0)
    return same_kind and same_crowd and _close(a[0], b[0])


def _fields(
    rec: Mapping, old: Mapping | None, image: Mapping, style: new_labels.LabelStyle
) -> dict[str, Any]:
    """bbox, area, segmentation of a relabelled label, derived as LabelFix derives them."""
    height, width = int(image["height"]), int(image["width"])
    seg = _clean_shape(rec.get("segmentation"))
    if geometry.is_rle(seg):
        return derive_geometry({}, height, width, segmentation=seg)
    if seg is not None:
        return new_labels.shape_fields(height, width, style, segmentation=seg)
    if old is not None and _clean_shape(old.get("segmentation")) is None:  # a box stays a box
        box = new_labels.rounded(geometry.clamp_box(rec["bbox"], height, width))
        return {
            "bbox": box,
            "area": new_labels.box_only_area(box),
            "segmentation": old.get("segmentation"),
        }
    return new_labels.shape_fields(height, width, style, bbox=rec["bbox"])


def _label(
    rec: Mapping,
    old: Mapping | None,
    ann_id: int,
    image: Mapping,
    cats: Mapping[int, int],
    style: new_labels.LabelStyle,
) -> dict[str, Any]:
    """A subset label as the project would store it, under ``ann_id``."""
    return {
        "id": ann_id,
        "image_id": image["id"],
        "category_id": cats[rec["category_id"]],
        "iscrowd": int(rec.get("iscrowd") or 0),
        **_fields(rec, old, image, style),
    }


def _project_labels(
    records: Sequence[Mapping],
    own: Mapping[int, Mapping],
    cats: Mapping[int, int],
    image: Mapping,
    style: new_labels.LabelStyle,
) -> list[Mapping | None]:
    """Which project label of the image each subset label is, or None for a new one.

    First a label equal to a still unclaimed project label of the image (class, crowd flag and
    shape: :func:`same_label`; its own id first when several are equal) is that label: CVAT and
    Label Studio renumber, CVAT from 1, so a subset id can be another label's id on the image
    and says less than an unchanged shape. Then the subset ids that are the image's own
    still unclaimed label ids (the editor kept them)."""
    olds: list[Mapping | None] = [None] * len(records)
    claimed: set[int] = set()
    by_class: dict[tuple[int, int], list[Mapping]] = {}
    for ann in own.values():
        key = (ann["category_id"], int(ann.get("iscrowd") or 0))
        by_class.setdefault(key, []).append(ann)
    height, width = int(image["height"]), int(image["width"])
    for k, rec in enumerate(records):
        key = (cats[rec["category_id"]], int(rec.get("iscrowd") or 0))
        cands = [c for c in by_class.get(key, ()) if c["id"] not in claimed]
        cands.sort(key=lambda c: c["id"] != rec["id"])  # its own id first
        for cand in cands:
            label = _label(rec, cand, cand["id"], image, cats, style)
            if same_label(cand, label, height, width) or first_part_kept(cand, label):
                claimed.add(cand["id"])
                olds[k] = cand
                break
    for k, rec in enumerate(records):
        if olds[k] is None and rec["id"] in own and rec["id"] not in claimed:
            claimed.add(rec["id"])
            olds[k] = own[rec["id"]]
    _redrawn(records, olds, [a for a in own.values() if a["id"] not in claimed], cats, image, style)
    return olds


def _box_iou(a: Sequence[float], b: Sequence[float]) -> float:
    """IoU of two xywh boxes."""
    w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    inter = max(w, 0.0) * max(h, 0.0)
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def _without_rectangle_twins(
    records: list[dict], own: Mapping[int, Mapping], cats: Mapping[int, int], image: Mapping
) -> list[dict]:
    """The subset labels of an image less the rectangles Label Studio adds beside polygons.

    label-studio-converter's import makes each polygon label a polygon and a rectangle region
    (the label's box), and Label Studio's COCO export writes each region as a label, so every
    polygon comes back with a box-only twin. A box-only label that is not one of the image's
    project labels, over a polygon label of its class in the subset or in the project (box IoU
    >= 0.5 with its box; best first, one to one), is such a twin and is dropped."""
    height, width = int(image["height"]), int(image["width"])
    boxes = [
        k
        for k, rec in enumerate(records)
        if _clean_shape(rec.get("segmentation")) is None
        and not any(
            same_label(a, {**rec, "category_id": cats[rec["category_id"]]}, height, width)
            for a in own.values()
        )
    ]
    targets: list[tuple[Any, int, Sequence[float]]] = []  # (key, project class, box)
    for j, rec in enumerate(records):
        seg = _clean_shape(rec.get("segmentation"))
        if geometry.is_polygon(seg):
            targets.append((("subset", j), cats[rec["category_id"]], geometry.polygon_bbox(seg)))
    for ann in own.values():
        if geometry.is_polygon(_clean_shape(ann.get("segmentation"))):
            targets.append((("project", ann["id"]), ann["category_id"], ann["bbox"]))
    if not boxes or not targets:
        return records
    pairs = []
    for k in boxes:
        rec = records[k]
        if rec.get("iscrowd"):
            continue
        for key, category, box in targets:
            if category == cats[rec["category_id"]]:
                pairs.append((_box_iou(rec["bbox"], box), k, key))
    twins: set[int] = set()
    used: set[Any] = set()
    for iou, k, key in sorted(pairs, key=lambda p: (-p[0], p[1], p[2])):
        if iou >= 0.5 and k not in twins and key not in used:
            twins.add(k)
            used.add(key)
    return [rec for k, rec in enumerate(records) if k not in twins]


def _redrawn(
    records: Sequence[Mapping],
    olds: list[Mapping | None],
    free: Sequence[Mapping],
    cats: Mapping[int, int],
    image: Mapping,
    style: new_labels.LabelStyle,
) -> None:
    """Pair the still new subset labels with the still unclaimed project labels of the image
    they redraw: same class and crowd flag, mask IoU >= REDRAWN_IOU, best overlaps first, one
    to one (an editor that renumbers says nothing else about a label it let the annotator
    reshape)."""
    height, width = int(image["height"]), int(image["width"])
    pending = [k for k, old in enumerate(olds) if old is None]
    if not pending or not free:
        return
    rles = [geometry.to_rle(a.get("segmentation") or None, height, width, a["bbox"]) for a in free]
    pairs = []
    for k in pending:
        rec = records[k]
        key = (cats[rec["category_id"]], int(rec.get("iscrowd") or 0))
        cands = [
            j for j, a in enumerate(free) if (a["category_id"], int(a.get("iscrowd") or 0)) == key
        ]
        if not cands:
            continue
        shape = _fields(rec, None, image, style)
        rle = geometry.to_rle(shape.get("segmentation") or None, height, width, shape["bbox"])
        ious = mask_utils.iou([rles[j] for j in cands], [rle], [0])
        pairs += [(float(ious[i][0]), k, j) for i, j in enumerate(cands)]
    taken: set[int] = set()
    for iou, k, j in sorted(pairs, key=lambda p: (-p[0], p[1], p[2])):
        if iou >= REDRAWN_IOU and olds[k] is None and j not in taken:
            taken.add(j)
            olds[k] = free[j]


# ---------------------------------------------------------------------- the plan
def plan_merge(store: Store, path: str | Path) -> MergePlan:
    """Read and check a relabelled subset against the project; the edits it calls for.

    Raises CocoError for a file that is not valid COCO and RelabelError for one that does not
    match the project; writes nothing."""
    path = Path(path)
    file = str(path)
    data = load_json(path)
    matcher = ImageMatcher(store.file_names())
    problems: list[Problem] = []
    plan = MergePlan(path)
    matched: dict[int, int] = {}  # subset image index -> project image id
    images = data.get("images") if isinstance(data, dict) else None
    for i, rec in enumerate(images if isinstance(images, list) else []):
        name = rec.get("file_name") if isinstance(rec, dict) else None
        if not isinstance(name, str) or not name:
            continue  # the COCO check below reports it
        image_id, why = matcher.match(name)
        where = f"{_record('images', i, rec)} {name!r}"
        if image_id is None:
            problems.append(Problem(file, where, why or "no match", "error"))
            continue
        matched[i] = image_id
        project = store.image(image_id)
        for key in ("width", "height"):
            if rec.get(key) is None:  # Label Studio writes null when it could not read the file
                rec[key] = project[key]
    gt = check_ground_truth(data, path)  # CocoError: not valid COCO (file, record, reason)
    project_of: dict[Any, int] = {}  # subset image id -> project image id
    first_of: dict[int, int] = {}
    for i, image_id in matched.items():
        rec = gt.images[i]
        where = f"{_record('images', i, rec)} {rec['file_name']!r}"
        if image_id in first_of:
            other = first_of[image_id]
            reason = f"the same project image as images[{other}] ({store.file_names()[image_id]})"
            problems.append(Problem(file, where, reason, "error"))
            continue
        first_of[image_id] = i
        project = store.image(image_id)
        if (rec["width"], rec["height"]) != (project["width"], project["height"]):
            reason = (
                f"{rec['width']}x{rec['height']} in the subset, {project['width']}x"
                f"{project['height']} in the project ({project['file_name']}); its coordinates "
                "would not fit"
            )
            problems.append(Problem(file, where, reason, "error"))
            continue
        project_of[rec["id"]] = image_id
    cats, unknown = _category_map(gt.categories, store.category_names())
    used: dict[Any, int] = {}
    for ann in gt.annotations:
        used[ann["category_id"]] = used.get(ann["category_id"], 0) + 1
    known = ", ".join(sorted(store.category_names().values()))
    for cid, (i, name) in unknown.items():
        where = f"categories[{i}] (id {cid}) {name!r}"
        if used.get(cid):
            n = used[cid]
            reason = f"no class of that name in the project (used by {n} label(s)); it has: {known}"
            problems.append(Problem(file, where, reason, "error"))
        else:
            plan.warnings.append(f"{file}: {where}: not a class of the project; no label uses it")
    if problems:
        raise RelabelError(file, problems)
    _build_changes(store, gt, project_of, cats, plan)
    return plan


def _build_changes(
    store: Store, gt: Any, project_of: Mapping[Any, int], cats: Mapping[int, int], plan: MergePlan
) -> None:
    """Fill the plan with one edit per matched image whose labels change."""
    style = new_labels.dataset_style(store)
    next_id = store.next_annotation_id()
    by_image: dict[int, list[dict]] = {image_id: [] for image_id in project_of.values()}
    for ann in gt.annotations:
        by_image[project_of[ann["image_id"]]].append(ann)
    for image_id, records in by_image.items():
        image = store.image(image_id)
        h, w = image["height"], image["width"]
        own = {a["id"]: a for a in store.annotations_for_image(image_id)}
        records = _without_rectangle_twins(records, own, cats, image)
        olds = _project_labels(records, own, cats, image, style)
        labels: list[dict] = []
        for rec, old in zip(records, olds, strict=True):
            if old is not None:
                ann_id = old["id"]
            else:
                ann_id, next_id = next_id, next_id + 1
            label = _label(rec, old, ann_id, image, cats, style)
            unchanged = old is not None and first_part_kept(old, label)
            if unchanged or (old is not None and same_label(old, label, h, w)):
                labels.append(old)
                continue
            label["extra"] = dict(old["extra"]) if old is not None else {}
            label["has_iscrowd"] = old["has_iscrowd"] if old is not None else True
            labels.append(label)
        edit = ReplaceImageLabels(
            image_id,
            labels,
            note=f"relabelled in {plan.path.name}",
            revisions={ann_id: ann["revision"] for ann_id, ann in own.items()},
        )
        counts = edit.counts(store)
        kept = {label["id"] for label in labels}
        gone = [i for i, a in own.items() if a.get("iscrowd") and i not in kept]
        if gone and not any(rec.get("iscrowd") for rec in records):
            names = ", ".join(f"label {i}" for i in gone)
            plan.warnings.append(
                f"{plan.path}: {image['file_name']}: the subset has no crowd region, so the "
                f"merge deletes the image's crowd region(s) ({names}); Label Studio drops crowd "
                "(RLE) labels: if they were not removed on purpose, re-label this image in CVAT "
                "(in the app: undo the merge)"
            )
        if not any(counts.values()):
            plan.unchanged += 1
            continue
        edit.description = describe.relabelled(image["file_name"], counts)
        plan.changes.append(ImageChange(image_id, image["file_name"], counts, edit))
