"""Import-time checks of the image files a COCO file names: missing, unreadable, mis-sized,
cut short or damaged; one warning per image at most, or one sentence for a wrong folder.

Sizes are compared as COCO tools see them: the pixel size stored in the file, never rotated by
an EXIF orientation tag; a file with such a tag gets a warning of its own. Every image's header
is read and its end checked for the JPEG / PNG end marker (a truncated copy; cheap: the first
bytes and the last few KiB). The deep check, a JPEG decoded at 1/8 size to find damaged data
(:func:`images.jpeg_damage`, about 1-2 ms an image with OpenCV), runs for datasets of up to
:data:`DEEP_CHECK_IMAGES` images, or for any size when asked (``deep=True``); on a larger
dataset it would add minutes to an import, and a damaged image still shows when the canvas
decodes it (:func:`images.load_image`).
"""

from __future__ import annotations

import glob
import os
import re
import warnings
from pathlib import Path
from typing import Any

from PIL import Image

from .images import data_ends_early, header_size, jpeg_damage

DEEP_CHECK_IMAGES = 20_000
"""Up to this many images, every JPEG is also decoded (small) to find damaged data."""

_INT64_MAX = 2**63 - 1
_COCO_2014 = re.compile(r"COCO_([A-Za-z]+\d{4})_(\d+\.\w+)")
"""A COCO 2014 file name, ``COCO_val2014_000000000544.jpg``: its split and the 2017 name."""


def _positive_int(value: Any) -> bool:
    return type(value) is int and 0 < value <= _INT64_MAX


def _label(index: int, image_id: Any) -> str:
    if type(image_id) is int and -(2**63) <= image_id <= _INT64_MAX:
        return f"images[{index}] (id {image_id})"
    return f"images[{index}]"


class ImageFileChecks:
    """The checks of one file's images, fed chunk by chunk (:meth:`add`), then
    :meth:`problems`."""

    def __init__(self, images_dir: str | Path, file: str = "", deep: bool = True) -> None:
        from .coco import Problem  # the reader's problem type (coco imports this module)

        self._problem = Problem
        self.root = os.fspath(images_dir)
        self.file = file
        self.deep = deep
        self.found: list[Any] = []
        self.named = 0
        self.missing = 0
        self.first_name: str | None = None
        self.first_missing: str | None = None

    def add(self, images: list[Any], start: int = 0) -> None:
        """Check these image records (``images[0]`` is record ``start`` of the file)."""
        problem, root, file = self._problem, self.root, self.file
        join = os.path.join
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            for i, image in enumerate(images, start):
                if type(image) is not dict:
                    continue
                name = image.get("file_name")
                if type(name) is not str:
                    continue
                self.named += 1
                if self.first_name is None:
                    self.first_name = name
                if not name:
                    continue
                record = _label(i, image.get("id"))
                path = join(root, name)
                size, note = header_size(path)
                if size is None:
                    if note.startswith("image file not found"):
                        self.missing += 1
                        self.first_missing = self.first_missing or name
                    self.found.append(
                        problem(file, f"{record}.file_name", f"{note}: {path}", "warning")
                    )
                    continue
                width, height = size
                want_w, want_h = image.get("width"), image.get("height")
                reasons = []
                if (
                    _positive_int(want_w)
                    and _positive_int(want_h)
                    and (want_w, want_h) != (width, height)
                ):
                    reasons.append(
                        f"image file is {width}x{height} pixels but the record says "
                        f"width {want_w}, height {want_h}"
                    )
                if note is not None:
                    reasons.append(note)
                damage = data_ends_early(path) or (jpeg_damage(path) if self.deep else None)
                if damage is not None:
                    reasons.append(damage)
                if reasons:
                    self.found.append(
                        problem(file, record, f"{'; '.join(reasons)}: {path}", "warning")
                    )

    def problems(self) -> list[Any]:
        """The warnings: one per image, or one sentence when none of the images is there."""
        problem, root, file = self._problem, self.root, self.file
        out = []
        if not os.path.isdir(root):
            out.append(problem(file, "(images folder)", f"not a folder: {root}", "warning"))
        if self.named > 1 and self.missing == self.named and os.path.isdir(root):
            # a wrong folder: one sentence instead of a warning per image
            reason = (
                f"none of the {self.named} images were found under {root}; check the folder"
                + _folder_hint(self.first_name or "", root)
            )
            return [*out, problem(file, "(images folder)", reason, "warning")]
        most_missing = self.missing and self.missing * 2 >= self.named
        hint = _coco_name_hint(self.first_missing or "", root) if most_missing else ""
        if hint:  # most are missing because of their names' COCO 2014 prefix: say so, once
            reason = f"{self.missing} of the {self.named} images were not found under {root}"
            out.append(problem(file, "(images folder)", reason + hint, "warning"))
        return out + self.found


def check_images(
    images: list[dict[str, Any]],
    images_dir: str | Path,
    file: str = "",
    deep: bool | None = None,
) -> list[Any]:
    """Warn (one warning per image at most) about image files missing, unreadable, mis-sized
    or cut short; when none of the images is in the folder, one warning says so instead.
    ``deep`` (default: up to :data:`DEEP_CHECK_IMAGES` images) also decodes each JPEG small
    to find damaged data."""
    checks = ImageFileChecks(
        images_dir, file, len(images) <= DEEP_CHECK_IMAGES if deep is None else deep
    )
    checks.add(images)
    return checks.problems()


def _folder_hint(name: str, root: str) -> str:
    """Where the images are when they are not under ``root`` (``name``: the first image's file
    name): a subfolder, the folder above, or directly in ``root`` while their file names start
    with a folder."""
    base = os.path.basename(name)
    if base != name and os.path.isfile(os.path.join(root, base)):
        return (
            f" (the file names start with a folder, e.g. {name!r}, but the files are directly "
            f"in it: choose the folder that holds {os.path.dirname(name)!r})"
        )
    parent = os.path.dirname(os.path.abspath(root))
    if os.path.isfile(os.path.join(parent, name)):
        return f" (they are in the folder above: {parent})"
    try:
        subfolders = sorted(e.path for e in os.scandir(root) if e.is_dir())[:100]
    except OSError:
        subfolders = []
    for sub in subfolders:
        if os.path.isfile(os.path.join(sub, name)):
            return f" (they are in its subfolder {sub})"
    return _coco_name_hint(name, root)


def _coco_name_hint(name: str, root: str) -> str:
    """A hint when ``name`` (a missing image's file name) is under ``root`` with its COCO 2014
    prefix (``COCO_val2014_``) taken off or put on: the labels and the folder come from
    different COCO releases. Only said, never renamed."""
    folder, base = os.path.split(name)
    coco_2014 = _COCO_2014.fullmatch(base)
    if coco_2014 is not None:
        if os.path.isfile(os.path.join(root, folder, coco_2014.group(2))):
            return (
                f" (the file names have the COCO 2014 prefix, e.g. {base!r}, but the folder's "
                f"files do not, e.g. {coco_2014.group(2)!r}: drop the "
                f"'COCO_{coco_2014.group(1)}_' prefix from the file names, or use the 2014 "
                "image folder)"
            )
        return ""
    pattern = os.path.join(glob.escape(os.path.join(root, folder)), f"COCO_*_{glob.escape(base)}")
    for path in sorted(glob.glob(pattern))[:1]:
        prefixed = os.path.basename(path)
        if _COCO_2014.fullmatch(prefixed) is not None:
            return (
                f" (the folder's files have the COCO 2014 prefix, e.g. {prefixed!r}, but the "
                f"file names do not, e.g. {base!r}: add the prefix to the file names, or use "
                "the 2017 image folder)"
            )
    return ""
