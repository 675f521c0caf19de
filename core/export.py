"""Write the corrected labels back to COCO JSON, and the change log to JSON or CSV.

Both writes are atomic: the data goes to a temporary file beside the target, is flushed to
disk, then renamed over it. A failure at any point leaves the previous file untouched.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from . import as_read, change_log
from .store import Store, ann_to_record, now


class ExportError(RuntimeError):
    """An export that could not be written; the previous file is untouched."""


_UMASK_LOCK = threading.Lock()


def current_umask() -> int:
    """The process's file-creation mask (read by setting and restoring it, under a lock)."""
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def plain_write_mode(path: Path) -> int:
    """The permission bits a plain ``open(path, "w")`` would leave: an existing file keeps its
    own, a new one gets 0o666 less the umask."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return 0o666 & ~current_umask()


@contextlib.contextmanager
def atomic_write(path: str | Path, mode: str = "w") -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path``; on success it atomically replaces ``path``.

    The file ends with the permissions a plain write would give it (mkstemp's temporary
    file is owner-only, which would make an export unreadable to the user's group)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, plain_write_mode(path))
        with os.fdopen(
            fd,
            mode,
            encoding=None if "b" in mode else "utf-8",
            newline="" if "b" not in mode else None,
        ) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise ExportError(f"could not write {path}: {exc.strerror or exc}") from exc
        raise


def coco_dataset(store: Store) -> dict[str, Any]:
    """The project's current labels as a COCO dataset dict (unknown keys kept, ids stable)."""
    top = dict(store.get_meta("dataset_top", {}) or {})
    images = [
        as_read.restore(
            {
                "id": r["id"],
                "file_name": r["file_name"],
                "width": r["width"],
                "height": r["height"],
                **r["extra"],
            },
            r.get("as_read"),
        )
        for r in store.images()
    ]
    categories = []
    for c in store.categories():
        rec = {"id": c["id"], "name": c["name"]}
        if c["supercategory"] is not None or "supercategory" in c["extra"]:
            rec["supercategory"] = c["supercategory"]
        rec.update(c["extra"])
        categories.append(as_read.restore(rec, c.get("as_read")))
    annotations = [ann_to_record(a) for a in store.iter_annotations()]
    out: dict[str, Any] = {}
    for key, value in top.items():
        out[key] = value
    out["images"] = images
    out["annotations"] = annotations
    out["categories"] = categories
    return out


def export_coco(
    store: Store,
    out_path: str | Path,
    *,
    overwrite: bool = False,
    fail_after: Callable[[], None] | None = None,
) -> dict[str, int]:
    """Write the corrected COCO JSON atomically; returns counts of what was written.

    Refuses to replace the imported ground-truth file unless ``overwrite``. ``fail_after`` is a
    test hook called after the data is written and before the rename.
    """
    out_path = Path(out_path)
    source = store.get_meta("ground_truth_path")
    if (
        source
        and out_path.exists()
        and not overwrite
        and out_path.resolve() == Path(source).resolve()
    ):
        raise ExportError(f"{out_path} is the imported labels file; pass --overwrite to replace it")
    with store.snapshot():  # the labels and the edit count of one moment (a team project)
        data = coco_dataset(store)
        counted = int(store.get_meta("edits_since_export", 0) or 0)
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    with atomic_write(out_path) as fh:
        fh.write(text)
        if fail_after is not None:
            fail_after()
    if store.readonly:  # opened while another app edits it: its count is that app's
        return _counts(data)
    with store.atomic():
        store.lock_changes()  # edits bump the count under this lock too
        # only the edits this file holds: another reviewer's edit made meanwhile still counts
        store.bump_edits_since_export(-counted)
        store.set_meta("last_export", {"path": str(out_path.resolve()), "time": now()})
    return _counts(data)


def _counts(data: dict[str, Any]) -> dict[str, int]:
    """What an exported COCO dataset holds: images, labels, categories."""
    return {
        "images": len(data["images"]),
        "labels": len(data["annotations"]),
        "categories": len(data["categories"]),
    }


def change_records(store: Store) -> list[dict[str, Any]]:
    """The change log's rows (see :mod:`.change_log`)."""
    return change_log.change_rows(store)


def export_changes(store: Store, out_path: str | Path) -> int:
    """Write the change log as JSON (a list of rows) or CSV (by the file's suffix); returns
    the number of rows. Columns: :data:`.change_log.CHANGE_FIELDS` (documented in the README)."""
    out_path = Path(out_path)
    suffix = out_path.suffix.lower()
    if suffix not in (".csv", ".json"):
        raise ExportError(f"{out_path}: the change log is written as .json or .csv")
    rows = change_log.change_rows(store)
    text = change_log.to_csv(rows) if suffix == ".csv" else change_log.to_json(rows)
    with atomic_write(out_path) as fh:
        fh.write(text)
    return len(rows)
