"""Sending suspects for re-labelling: their images as a COCO subset, plus a CSV work list.

The subset is a COCO 1.0 instances file that CVAT (``COCO 1.0``, read by Datumaro) and Label
Studio (its COCO converter) import:

- ``images``: the images of the chosen suspects (in listing order of their first suspect), as
  the project's export writes them, each with ``width`` and ``height`` and a ``labelfix`` key:
  ``{"suspects": [...]}``, one record per suspect on it: key, kind, score, status, note,
  label_id, prediction_id, predicted class, suggested_fix (what accepting it would do);
- ``annotations``: those images' current labels, with their project ids; every one has
  ``segmentation`` (``[]`` for a box) and ``iscrowd``, which Datumaro requires;
- ``categories``: every class of the project (an annotator may pick any);
- the project's other top-level keys (``info``, ``licenses``) and ``labelfix``: where it came
  from and how to merge it back.

Editors drop the unknown keys and renumber images, labels and classes; the merge
(:mod:`.merge`) matches images by file name and classes by name, so it does not need them.
The CSV work list has one row per suspect: what to look at, where, and why.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import as_read, geometry
from .edits import EditError
from .export import atomic_write
from .progress import Progress
from .review import fix_preview
from .store import Store, ann_to_record, now

SUBSET_KEY = "labelfix"  # the extra key on the subset's top level and images
WORK_LIST_FIELDS = (
    "file_name",
    "image_path",
    "image_id",
    "suspect",
    "kind",
    "score",
    "status",
    "note",
    "label_id",
    "label_class",
    "predicted_class",
    "prediction_id",
    "confidence",
    "suggested_fix",
)


@dataclass(frozen=True)
class RelabelExport:
    """What an export for re-labelling wrote."""

    subset: Path
    work_list: Path
    images: int
    labels: int
    suspects: int
    crowd: int = 0  # crowd (RLE) labels: label-studio-converter stops at one
    multipart: int = 0  # polygons of several parts: it keeps only the first

    def note(self) -> str:
        """What Label Studio cannot take from this subset, or ""."""
        parts = []
        if self.crowd:
            parts.append(
                f"{self.crowd} crowd (RLE) label(s) (label-studio-converter stops at them)"
            )
        if self.multipart:
            parts.append(f"{self.multipart} multi-part polygon(s) (it keeps only the first part)")
        if not parts:
            return ""
        return f"for Label Studio, the subset has {' and '.join(parts)}; CVAT reads both"


def work_list_path(subset: Path) -> Path:
    """Where the CSV work list goes beside a subset: ``SUBSET.json`` -> ``SUBSET.csv``."""
    return subset.with_suffix(".csv")


def suggested_fix(store: Store, suspect: dict, names: dict[int, str]) -> dict[str, Any] | None:
    """What accepting the suspect would do (None when its fix cannot be made any more)."""
    try:
        preview = fix_preview(store, suspect)
    except EditError:
        return None
    out: dict[str, Any] = {"action": preview.action, "label_id": preview.annotation_id}
    after = preview.after
    if after is not None:
        out["category"] = names.get(after["category_id"])
        out["bbox"] = list(after["bbox"])
        seg = after.get("segmentation")
        if preview.action in ("set_geometry", "add_label") and geometry.is_polygon(seg) and seg:
            out["segmentation"] = seg  # the shape accepting gives (a mask's outline, ...)
    return out


def fix_words(fix: dict[str, Any] | None) -> str:
    """A suggested fix in a few words for the work list."""
    if fix is None:
        return "(the fix cannot be made any more)"
    box = "[" + ", ".join(f"{v:g}" for v in fix.get("bbox", [])) + "]"
    shape, where = f"the box {box}", f"at {box}"
    if fix.get("segmentation"):
        points = sum(len(part) for part in fix["segmentation"]) // 2
        shape = where = f"an outline of {points} points in {box}"
    return {
        "add_label": f"add a {fix.get('category')} label {where}",
        "set_category": f"label {fix['label_id']} becomes {fix.get('category')}",
        "set_geometry": f"label {fix['label_id']} takes {shape}",
        "delete_label": f"delete label {fix['label_id']}",
    }.get(fix["action"], fix["action"])


def _image_record(image: dict) -> dict[str, Any]:
    rec = {
        "id": image["id"],
        "file_name": image["file_name"],
        "width": image["width"],
        "height": image["height"],
        **image["extra"],
    }
    rec = as_read.restore(rec, image.get("as_read"))
    rec["width"], rec["height"] = image["width"], image["height"]  # editors need the size
    return rec


def _label_record(ann: dict) -> dict[str, Any]:
    rec = ann_to_record(ann)
    if not isinstance(rec.get("segmentation"), list | dict):
        rec["segmentation"] = []  # a box: Datumaro needs the key, Label Studio skips []
    rec["iscrowd"] = int(ann.get("iscrowd") or 0)
    return rec


def relabel_subset(
    store: Store, suspects: Sequence[dict], progress: Progress | None = None
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The subset (a COCO dict) of the suspects' images, and the work list's rows
    (``progress(done, total)`` after each suspect)."""
    names = store.category_names()
    per_image: dict[int, list[dict]] = {}
    rows: list[dict[str, Any]] = []
    for s in suspects:
        key = s["key"]
        decision = store.decision(s.get("set_id") or store.active_set_id(), key)
        fix = suggested_fix(store, s, names)
        record = {
            "key": key,
            "kind": s["kind"],
            "score": s.get("score"),
            "status": decision["decision"] if decision else "open",
            "note": decision["note"] if decision else None,
            "label_id": s.get("annotation_id"),
            "prediction_id": s.get("prediction_id"),
            "predicted_class": names.get(s.get("predicted_category_id")),
            "suggested_fix": fix,
        }
        per_image.setdefault(int(s["image_id"]), []).append(record)
        rows.append((s, record, fix))
        if progress is not None:
            progress(len(rows), len(suspects))
    images, annotations, work = [], [], []
    for image_id, records in per_image.items():
        image = store.image(image_id)
        assert image is not None
        images.append({**_image_record(image), SUBSET_KEY: {"suspects": records}})
        annotations += [_label_record(a) for a in store.annotations_for_image(image_id)]
    for s, record, fix in rows:
        image = store.image(int(s["image_id"]))
        path = store.image_path(image) if image else None
        work.append(
            {
                "file_name": s.get("file_name") or (image or {}).get("file_name"),
                "image_path": str(path) if path else "",
                "image_id": s["image_id"],
                "suspect": record["key"],
                "kind": s["kind"],
                "score": s.get("score"),
                "status": record["status"],
                "note": record["note"] or "",
                "label_id": s.get("annotation_id"),
                "label_class": names.get(s.get("category_id"), ""),
                "predicted_class": record["predicted_class"] or "",
                "prediction_id": s.get("prediction_id"),
                "confidence": s.get("confidence"),
                "suggested_fix": fix_words(fix),
            }
        )
    top = dict(store.get_meta("dataset_top", {}) or {})
    categories = []
    for c in store.categories():
        rec = {"id": c["id"], "name": c["name"]}
        if c["supercategory"] is not None:
            rec["supercategory"] = c["supercategory"]
        categories.append({**rec, **c["extra"]})
    subset = {
        **top,
        SUBSET_KEY: {
            "project": store.location,
            "exported": now(),
            "suspects": len(rows),
            "merge_back": f"labelfix merge {store.location} <this file, relabelled>",
        },
        "images": images,
        "annotations": annotations,
        "categories": categories,
    }
    return subset, work


def work_list_csv(rows: Sequence[dict[str, Any]]) -> str:
    """The work list as CSV text (``\\n`` line endings)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=WORK_LIST_FIELDS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if row.get(k) is None else row[k] for k in WORK_LIST_FIELDS})
    return buf.getvalue()


def export_for_relabel(
    store: Store, suspects: Sequence[dict], out: str | Path, progress: Progress | None = None
) -> RelabelExport:
    """Write the subset of the suspects' images (``out``) and the work list beside it
    (``out`` with ``.csv``), each atomically."""
    out = Path(out)
    subset, rows = relabel_subset(store, suspects, progress)
    text = json.dumps(subset, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    with atomic_write(out) as fh:
        fh.write(text)
    csv_path = work_list_path(out)
    with atomic_write(csv_path) as fh:
        fh.write(work_list_csv(rows))
    anns = subset["annotations"]
    crowd = sum(1 for a in anns if isinstance(a.get("segmentation"), dict))
    multipart = sum(
        1 for a in anns if isinstance(a.get("segmentation"), list) and len(a["segmentation"]) > 1
    )
    return RelabelExport(
        out, csv_path, len(subset["images"]), len(anns), len(rows), crowd, multipart
    )
