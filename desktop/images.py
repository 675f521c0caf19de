"""Image loading for the canvas: decode in a worker (raw pixel orientation, no EXIF rotation),
keep recent images in a bounded LRU cache and prefetch the next ones."""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

from PySide6.QtCore import QObject, QThreadPool, Signal
from PySide6.QtGui import QImage

from labelfix.core.images import load_image

from . import workers

NOTE_KEY = "labelfix-note"  # a decoded image's note (QImage text): what is wrong with it, no name


class ImageError(RuntimeError):
    """An image that cannot be shown, with a message for the placeholder."""


def decode_image(path: Path | None) -> QImage:
    """Decode an image file into a QImage that owns its pixels (raises ImageError); a note
    on the image (damaged data, an EXIF rotation not applied) is its text ``NOTE_KEY``.

    Core's :func:`~labelfix.core.images.load_image` decodes, so the canvas shows exactly the
    pixels COCO tools see (raw orientation, 8-bit RGB), with or without OpenCV.
    """
    if path is None:
        raise ImageError("the project has no image folder")
    pixels, warning = load_image(path)
    if pixels is None:
        reason = (warning or "cannot be decoded").replace(f": {path}", "")
        raise ImageError(f"{path.name}: {reason}")
    h, w = pixels.shape[:2]
    image = QImage(pixels.data, w, h, int(pixels.strides[0]), QImage.Format.Format_RGB888)
    image = image.copy()  # detach from the numpy buffer
    if warning:  # e.g. damaged JPEG data: the canvas says so on the image while it is shown
        image.setText(NOTE_KEY, warning.replace(f": {path}", ""))
    return image


class ImageLoader(QObject):
    """Loads images by id; emits ``loaded(image_id, QImage)`` or ``failed(image_id, message)``."""

    loaded = Signal(int, QImage)
    failed = Signal(int, str)

    def __init__(self, capacity: int = 16, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.capacity = capacity
        self._cache: OrderedDict[int, QImage] = OrderedDict()
        self._errors: dict[int, str] = {}
        self._pending: dict[int, workers.Worker] = {}
        self._wanted: int | None = None
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(2)

    def cached(self, image_id: int) -> QImage | None:
        """The decoded image if it is in the cache (marks it recently used)."""
        image = self._cache.get(image_id)
        if image is not None:
            self._cache.move_to_end(image_id)
        return image

    def request(self, image_id: int, path: Path | None) -> None:
        """Show this image as soon as it is decoded (at once when cached)."""
        self._wanted = image_id
        image = self.cached(image_id)
        if image is not None:
            self.loaded.emit(image_id, image)
        elif image_id in self._errors:
            self.failed.emit(image_id, self._errors[image_id])
        else:
            self._start(image_id, path)

    def prefetch(self, items: list[tuple[int, Path | None]]) -> None:
        """Decode these images in the background so switching to them is instant."""
        for image_id, path in items[: max(self.capacity // 2, 1)]:
            if image_id not in self._cache and image_id not in self._errors:
                self._start(image_id, path)

    def clear(self) -> None:
        """Forget every cached image (e.g. when another project opens)."""
        self._cache.clear()
        self._errors.clear()
        self._wanted = None

    def _start(self, image_id: int, path: Path | None) -> None:
        if image_id in self._pending:
            return
        worker = workers.Worker(decode_image, path, takes_progress=False)
        worker.signals.finished.connect(lambda image, i=image_id: self._done(i, image))
        worker.signals.failed.connect(lambda exc, i=image_id: self._error(i, exc))
        self._pending[image_id] = worker
        workers.start(worker, self.pool)

    def _done(self, image_id: int, image: QImage) -> None:
        self._pending.pop(image_id, None)
        self._cache[image_id] = image
        self._cache.move_to_end(image_id)
        while len(self._cache) > self.capacity:
            oldest = next(iter(self._cache))
            if oldest == self._wanted:
                self._cache.move_to_end(oldest)
                if len(self._cache) <= 1:
                    break
                oldest = next(iter(self._cache))
            del self._cache[oldest]
        if image_id == self._wanted:
            self.loaded.emit(image_id, image)

    def _error(self, image_id: int, exc: object) -> None:
        self._pending.pop(image_id, None)
        message = str(exc) if isinstance(exc, ImageError) else f"cannot show this image: {exc}"
        self._errors[image_id] = message
        if image_id == self._wanted:
            self.failed.emit(image_id, message)
