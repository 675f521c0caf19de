"""Decoding image files as COCO tools see them: raw pixel orientation, 8-bit RGB, never raising.

COCO boxes and polygons are in the coordinates of the pixels as stored in the file; pycocotools
and the usual loaders (``cv2.imread``, ``PIL.Image.open``) do not apply an EXIF orientation tag.
So neither does :func:`load_image`: a rotated-by-EXIF photo is shown as stored, with a warning.
Gray, palette, CMYK, 16-bit and alpha images are converted to 8-bit RGB (alpha is dropped, 16-bit
values are scaled down by 256, as ``cv2.IMREAD_COLOR`` does). Files whose header claims more than
:data:`MAX_PIXELS` pixels (decompression bombs) are refused before any pixel is decoded.
"""

from __future__ import annotations

import contextlib
import os
import re
import struct
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image

from . import opencv

MAX_PIXELS = 200_000_000
"""The largest image (width * height) :func:`load_image` decodes."""

EXIF_ORIENTATION = 0x0112
ORIENTATION_NAMES = {
    2: "mirrored",
    3: "rotated 180 degrees",
    4: "mirrored vertically",
    5: "mirrored and rotated 90 degrees",
    6: "rotated 90 degrees clockwise",
    7: "mirrored and rotated 90 degrees",
    8: "rotated 90 degrees counter-clockwise",
}


def exif_orientation(image: Image.Image) -> int | None:
    """The EXIF orientation tag of an open image (None or 1 mean "as stored"), header only.

    Only formats that keep EXIF in the header are asked (PIL would decode a whole PNG to look
    for an eXIf chunk after the pixel data).
    """
    raw = image.info.get("exif")
    if isinstance(raw, bytes):
        return _ifd0_orientation(raw)
    if image.format != "TIFF":
        return None
    value = image.getexif().get(EXIF_ORIENTATION)
    return value if type(value) is int else None


def _ifd0_orientation(raw: bytes) -> int | None:
    """The orientation tag read straight from raw EXIF bytes (first IFD); None if absent or bad.

    A few struct reads instead of PIL's full EXIF parse, which would triple the cost of reading
    an image header when checking 100,000 images at import.
    """
    tiff = raw[6:] if raw.startswith(b"Exif\0\0") else raw
    if len(tiff) < 8 or tiff[:2] not in (b"II", b"MM"):
        return None
    order = "<" if tiff[:2] == b"II" else ">"
    (offset,) = struct.unpack_from(order + "I", tiff, 4)
    if offset + 2 > len(tiff):
        return None
    (count,) = struct.unpack_from(order + "H", tiff, offset)
    for k in range(min(count, (len(tiff) - offset - 2) // 12)):
        tag, kind, n, value = struct.unpack_from(order + "HHIH", tiff, offset + 2 + 12 * k)
        if tag == EXIF_ORIENTATION:
            return value if kind == 3 and n == 1 else None  # one SHORT
    return None


def orientation_note(orientation: int | None) -> str | None:
    """A sentence about a non-trivial EXIF orientation (None for none or 1)."""
    if orientation is None or orientation == 1:
        return None
    shown = ORIENTATION_NAMES.get(orientation, f"value {orientation}")
    return (
        f"the file has an EXIF orientation tag ({orientation}: {shown} for viewing) that COCO "
        "tools ignore; its pixels and labels are used as stored, not rotated"
    )


def header_size(path: str | os.PathLike[str]) -> tuple[tuple[int, int] | None, str | None]:
    """(width, height) from the file's header and an EXIF note, or (None, reason it cannot be read).

    Never decodes pixels and never raises; a header claiming more than PIL's safety limit is
    reported as a possible decompression bomb.
    """
    try:
        with Image.open(path) as image:
            size = image.size
            note = orientation_note(exif_orientation(image))
    except FileNotFoundError:
        return None, "image file not found"
    except IsADirectoryError:
        return None, "image path is a folder, not a file"
    except Image.UnidentifiedImageError:
        if os.path.isfile(path) and os.path.getsize(path) == 0:
            return None, "image file is empty (0 bytes)"
        return None, "image file cannot be read (corrupt, or not an image format PIL knows)"
    except Image.DecompressionBombError as exc:
        claimed = re.search(r"\((\d+) pixels\)", str(exc))
        pixels = f"{int(claimed[1]):,} pixels" if claimed else "too many pixels"
        return None, f"image header claims {pixels}, too many to open safely (decompression bomb?)"
    except Exception as exc:  # noqa: BLE001 - PIL plugins raise assorted types on bad headers
        return None, f"image file cannot be read ({type(exc).__name__}: {exc})"
    if size[0] * size[1] > MAX_PIXELS:
        return None, (
            f"image header claims {size[0]}x{size[1]} pixels, more than the "
            f"{MAX_PIXELS // 1_000_000} megapixels LabelFix opens (decompression bomb?)"
        )
    return size, note


JPEG_ENDS_EARLY = "the JPEG data ends early (truncated file?); the missing part shows gray"
PNG_ENDS_EARLY = "the PNG data ends early (truncated file?); the image may not decode"
_TAIL = 4096  # bytes read from a file's end to find its end marker (64 KiB when not found)


def data_ends_early(path: str | os.PathLike[str]) -> str | None:
    """A sentence when a JPEG or PNG file stops before its end marker (a truncated copy or
    download: decoders then fill the rest with gray or fail), else None. Reads only the first
    bytes and the last few KiB, so it is cheap enough for every image at import."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(8)
            size = fh.seek(0, os.SEEK_END)
            if head[:2] == b"\xff\xd8":
                for tail_size in (_TAIL, 16 * _TAIL):
                    fh.seek(max(0, size - tail_size))
                    tail = fh.read(tail_size)
                    if tail.rfind(b"\xff\xd9") > tail.rfind(b"\xff\xda"):
                        return None  # the end-of-image marker follows the last scan
                    if b"\xff\xda" in tail or tail_size >= size:
                        return JPEG_ENDS_EARLY  # a scan starts and no end marker follows
                return JPEG_ENDS_EARLY
            if head == b"\x89PNG\r\n\x1a\n":
                fh.seek(max(0, size - 64))
                return None if b"IEND" in fh.read(64) else PNG_ENDS_EARLY
    except OSError:
        return None  # unreadable files are reported by the header check
    return None


_LIBJPEG_WARNINGS = ("Corrupt JPEG data", "Premature end of JPEG file", "Invalid JPEG file")


def _libjpeg_said(said: list[str]) -> tuple[list[str], list[str]]:
    """Lines a decode wrote to stderr: libjpeg's warnings (stripped), and the other lines."""
    lines = [line.strip() for line in said if line.strip()]
    found = [line for line in lines if line.startswith(_LIBJPEG_WARNINGS)]
    return found, [line for line in lines if not line.startswith(_LIBJPEG_WARNINGS)]


def _damaged(warning: str) -> str:
    """The sentence for a JPEG that decodes with libjpeg's ``warning``."""
    return f"the JPEG data is damaged ({warning}); parts of the image show garbage"


def jpeg_damage(path: str | os.PathLike[str]) -> str | None:
    """A sentence when libjpeg finds the compressed data of a JPEG damaged (it decodes, but
    with garbage: "premature end of data segment", "N extraneous bytes before marker"), else
    None. The image is decoded at 1/8 size in gray (about 1-2 ms); libjpeg only prints these
    warnings, so its stderr is read for the duration of the call. Needs OpenCV (None
    without it: the app bundle does not check)."""
    cv2 = opencv.module()
    if cv2 is None:
        return None
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except OSError:
        return None
    if data.size < 4 or data[0] != 0xFF or data[1] != 0xD8:
        return None
    try:
        with _stderr_text() as said:
            pixels = cv2.imdecode(data, cv2.IMREAD_REDUCED_GRAYSCALE_8)
    except Exception:  # noqa: BLE001 - reported as damage below
        pixels = None
    found, _ = _libjpeg_said(said)
    if pixels is None:
        return "the JPEG data cannot be decoded" + (f" ({found[0]})" if found else "")
    return _damaged(found[0]) if found else None


_STDERR_LOCK = threading.RLock()  # one capture of file descriptor 2 at a time
# a forked child (the import's reader, the analysis's second process) starts with it free
os.register_at_fork(after_in_child=lambda: globals().update(_STDERR_LOCK=threading.RLock()))


@contextlib.contextmanager
def _stderr_text() -> Iterator[list[str]]:
    """The lines written to the process's stderr (file descriptor 2) inside the block; they
    are not shown. For short calls (a C library's warnings); one thread at a time (a lock),
    so two decoding threads never swap the descriptor under each other."""
    lines: list[str] = []
    with _STDERR_LOCK:
        sys.stderr.flush()
        saved = os.dup(2)
        with tempfile.TemporaryFile() as sink:
            os.dup2(sink.fileno(), 2)
            try:
                yield lines
            finally:
                os.dup2(saved, 2)
                os.close(saved)
                sink.seek(0)
                lines.extend(sink.read().decode("utf-8", "replace").splitlines())


def _decode_quietly(cv2: object, data: np.ndarray) -> tuple[np.ndarray | None, str | None]:
    """``cv2.imdecode`` (unchanged depth and channels) with libjpeg's warnings ("Corrupt JPEG
    data: ...", which it prints to stderr at every decode of a damaged JPEG) turned into the
    returned note; anything else written to stderr meanwhile is passed on."""
    if not (data.size > 2 and data[0] == 0xFF and data[1] == 0xD8):  # not a JPEG
        try:
            return cv2.imdecode(data, cv2.IMREAD_UNCHANGED), None
        except cv2.error:
            return None, None
    pixels = None
    with _stderr_text() as said:
        try:
            pixels = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
        except cv2.error:
            pixels = None
    found, others = _libjpeg_said(said)
    if others:
        sys.stderr.write("\n".join(others) + "\n")
        sys.stderr.flush()
    return pixels, _damaged(found[0]) if found and pixels is not None else None


def load_image(path: str | os.PathLike[str]) -> tuple[np.ndarray | None, str | None]:
    """Decode an image as COCO does: (H x W x 3 uint8 RGB pixels or None, a warning or None).

    Never raises: a missing, unreadable, corrupt or oversized file gives (None, the reason).
    """
    try:
        return _load(Path(path))
    except MemoryError:
        return None, f"not enough memory to decode {Path(path).name}"
    except Exception as exc:  # noqa: BLE001 - the promise is "never raises"
        return None, f"cannot decode {Path(path).name} ({type(exc).__name__}: {exc})"


def _load(path: Path) -> tuple[np.ndarray | None, str | None]:
    cv2 = opencv.module()  # looked up here: the COCO reader uses this module for headers only
    size, note = header_size(path)
    if size is None:
        return None, f"{note}: {path}"
    data = np.fromfile(path, dtype=np.uint8)
    rgb = None
    if data.size and cv2 is not None:
        # IMREAD_UNCHANGED never applies EXIF orientation; keeps depth and channels
        pixels, damage = _decode_quietly(cv2, data)
        if damage is not None:
            note = damage if note is None else f"{note}; {damage}"
        if pixels is not None:
            rgb = to_rgb8(pixels, bgr=True)
    if rgb is None:
        rgb = _pil_rgb(path)
    if rgb is None:
        return None, f"image data is corrupt or truncated, cannot decode: {path}"
    if (rgb.shape[1], rgb.shape[0]) != size:
        return None, (
            f"decoded {rgb.shape[1]}x{rgb.shape[0]} pixels but the header says "
            f"{size[0]}x{size[1]}: {path}"
        )
    if _jpeg_truncated(data):
        truncated = JPEG_ENDS_EARLY
        note = truncated if note is None else f"{note}; {truncated}"
    return rgb, None if note is None else f"{note}: {path}"


def _pil_rgb(path: Path) -> np.ndarray | None:
    """Decode with PIL where OpenCV cannot or is absent (no EXIF transpose); None on failure."""
    try:
        with Image.open(path) as image:
            image.load()
            if image.mode.startswith(("I", "F")):  # 16/32-bit gray, float
                return to_rgb8(np.asarray(image), bgr=False)
            return np.ascontiguousarray(np.asarray(image.convert("RGB")))
    except Exception:  # noqa: BLE001 - a corrupt file is reported by the caller
        return None


def to_rgb8(pixels: np.ndarray, *, bgr: bool) -> np.ndarray:
    """A decoded array (gray, gray + alpha, 3 or 4 channels; any depth) as H x W x 3 uint8 RGB."""
    if pixels.dtype == np.uint8:
        out = pixels
    elif pixels.dtype == np.uint16:
        out = (pixels >> 8).astype(np.uint8)
    elif np.issubdtype(pixels.dtype, np.floating):
        out = (np.clip(np.nan_to_num(pixels), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    else:  # other integer depths (PIL's 32-bit "I" mode): 8 or 16 bits used, or scale the range
        top = int(pixels.max(initial=0))
        scale = 1 if top <= 255 else 256 if top <= 65535 else (top + 255) // 256
        out = (np.clip(pixels, 0, None) // scale).astype(np.uint8)
    if out.ndim == 2:
        return np.ascontiguousarray(np.repeat(out[:, :, None], 3, axis=2))
    channels = out.shape[2]
    if channels == 1 or channels == 2:  # gray, gray + alpha
        return np.ascontiguousarray(np.repeat(out[:, :, :1], 3, axis=2))
    out = out[:, :, :3]  # drop alpha
    if not bgr:
        return np.ascontiguousarray(out)
    rgb = np.empty(out.shape, np.uint8)
    for c in range(3):  # channel by channel: 6x faster than copying the reversed view
        rgb[:, :, c] = out[:, :, 2 - c]
    return rgb


def _jpeg_truncated(data: np.ndarray) -> bool:
    """True for a JPEG whose last scan has no end-of-image marker after it."""
    if data.size < 4 or data[0] != 0xFF or data[1] != 0xD8:
        return False
    raw = data.tobytes()
    return raw.rfind(b"\xff\xd9") < raw.rfind(b"\xff\xda")
