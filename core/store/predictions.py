"""Prediction sets, and the numpy columns (``arrays``) they and the analyses are stored as.

A set's id, image_id, category_id, score and box live as numpy blobs (owner
``predictions:<set id>``; a set too large for memory in parts by image, see
:mod:`.prediction_parts`), its segmentations and unknown keys, where there are any, in
``prediction_shapes``, except the compressed RLEs of a set read whole (schema version 6 on):
those are kept as they came, their counts strings in one blob (owner ``masks:<set id>``, see
:func:`rle_columns`) instead of a row each. Prediction ids are 1-based positions in the
results file.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from itertools import repeat
from pathlib import Path
from typing import Any

import numpy as np

from .. import jsonio
from ..coco import PredictionFile
from ..timing import phase, timed
from .base import ProjectError, Repository, now
from .cache_files import CacheFileRepository
from .prediction_parts import PredictionSetWriter, part_owner, set_owner
from .records import shape_rows

MASK_COLUMNS = ("id", "image_id", "height", "width", "end", "counts")
COUNTS_PIECE = 1 << 24
"""Bytes of counts strings per blob (``counts:00000``, ``counts:00001``, ...): writing one
blob of all of them held three copies at once (the strings, the ``.npy`` bytes, SQLite's)."""


def masks_owner(set_id: int) -> str:
    """The ``arrays`` owner of a set's compressed RLEs (:func:`rle_columns`)."""
    return f"masks:{set_id}"


class ArrayRepository(Repository):
    """Named numpy columns stored under an owner (the ``arrays`` table)."""

    def put_arrays(self, owner: str, arrays: dict[str, np.ndarray]) -> None:
        """Store named numpy columns under ``owner`` (replacing what was there)."""
        self.delete_arrays(owner)
        self.add_arrays(owner, arrays)

    def add_arrays(self, owner: str, arrays: dict[str, np.ndarray]) -> None:
        """Store more named numpy columns under ``owner`` (names not used there yet), one blob
        in memory at a time."""
        rows = ((owner, name, npy_blob(arr)) for name, arr in arrays.items())
        self._db.copy_rows("arrays", ("owner", "name", "data"), rows)

    def add_blob(self, owner: str, name: str, blob: bytearray) -> None:
        """Store one column already made into ``.npy`` bytes (:func:`npy_blob`)."""
        self._db.copy_rows("arrays", ("owner", "name", "data"), [(owner, name, blob)])

    def delete_arrays(self, owner: str) -> None:
        """Forget the columns stored under ``owner``."""
        self._db.execute("DELETE FROM arrays WHERE owner = ?", [owner])

    def has_arrays(self, owner: str) -> bool:
        """True if numpy columns are stored under ``owner``."""
        owner_is = f"{self._db.unindexed('owner')} = ?"  # see Database.unindexed
        return self._db.one(f"SELECT 1 FROM arrays WHERE {owner_is} LIMIT 1", [owner]) is not None

    def get_arrays(
        self, owner: str, name: str | None = None, *, writable: bool = True
    ) -> dict[str, np.ndarray]:
        """The numpy columns stored under ``owner`` (only ``name`` if given; empty if none).
        ``writable=False``: read-only views of the fetched bytes (no copy)."""
        # a scan, not a seek through the key: see Database.unindexed
        sql = f"SELECT name, data FROM arrays WHERE {self._db.unindexed('owner')} = ?"
        params = [owner]
        if name is not None:
            sql, params = sql + f" AND {self._db.unindexed('name')} = ?", [owner, name]
        rows = self._db.rows(sql, params)
        return {n: npy_array(data, writable) for n, data in rows}


def _part_file(set_id: int, part: int) -> str:
    """The cache file of a part of a set the window read (~130 MB each)."""
    return f"predictions-{set_id}-{part}.columns"


def npy_blob(arr: np.ndarray) -> bytearray:
    """An array as ``.npy`` bytes (what ``np.save`` writes) in one copy: ``np.save`` into a
    BytesIO and ``getvalue`` made two or three, 0.5 GB for a 160 MB column."""
    arr = np.ascontiguousarray(arr)
    if arr.dtype.hasobject:
        raise ValueError("object arrays are not stored")
    head = io.BytesIO()
    header = np.lib.format.header_data_from_array_1_0(arr)
    try:
        np.lib.format.write_array_header_1_0(head, header)
    except ValueError:  # a header over 64 KiB (a very long shape or dtype)
        head = io.BytesIO()
        np.lib.format.write_array_header_2_0(head, header)
    out = bytearray(head.tell() + arr.nbytes)
    out[: head.tell()] = head.getvalue()
    if arr.nbytes:
        np.frombuffer(out, np.uint8, offset=head.tell())[:] = arr.reshape(-1).view(np.uint8)
    return out


def npy_array(data: bytes | memoryview, writable: bool = True) -> np.ndarray:
    """The array of a ``.npy`` blob: a view of ``data`` (read-only), or one copy of it.

    ``np.load`` of a BytesIO reads the data in 256 MB pieces into a new array (two copies,
    ~1.6 s for a 500 MB suspect cache); this parses the header and wraps the bytes."""
    head = io.BytesIO(bytes(memoryview(data)[:65_536]))
    version = np.lib.format.read_magic(head)
    if version not in ((1, 0), (2, 0)):
        return np.load(io.BytesIO(data), allow_pickle=False)
    read_header = np.lib.format.read_array_header_1_0
    if version == (2, 0):
        read_header = np.lib.format.read_array_header_2_0
    shape, fortran, dtype = read_header(head)
    if dtype.hasobject:
        return np.load(io.BytesIO(data), allow_pickle=False)  # refuses, with numpy's message
    count = int(np.prod(shape, dtype=np.int64))
    arr = np.frombuffer(data, dtype=dtype, count=count, offset=head.tell())
    arr = arr.reshape(shape[::-1]).T if fortran else arr.reshape(shape)
    return arr.copy(order="K") if writable else arr


def _is_compressed_rle(seg: object) -> bool:
    """A segmentation that is exactly {"size": [h, w], "counts": "<string>"} (in either key
    order), as the reader checked it: kept in :func:`rle_columns`."""
    return (
        type(seg) is dict
        and len(seg) == 2
        and type(seg.get("counts")) is str
        and type(seg.get("size")) is list
    )


def rle_columns(
    records: list[dict], indices: np.ndarray, order: np.ndarray, image_id: np.ndarray
) -> tuple[dict[str, np.ndarray] | None, np.ndarray]:
    """The compressed RLEs among the segmentations of ``records[indices]`` as columns, in the
    set's order (``order``: file index of each place, by image then id), and the indices
    whose segmentation is something else (for :func:`mask_rows`).

    Columns: ``id``, ``image_id``, ``height``, ``width`` per RLE, ``end`` (where its counts
    end in ``counts``) and ``counts``, the ASCII counts strings one after another as they
    came (the reader checked them: only '0'..'o'), as a list of pieces (:func:`joined` makes
    them one array). None when there is no such RLE."""
    if not indices.size:
        return None, indices
    segs = [records[i]["segmentation"] for i in indices.tolist()]
    compressed = np.fromiter(map(_is_compressed_rle, segs), bool, len(segs))
    rest = indices[~compressed]
    if not compressed.any():
        return None, rest
    chosen = np.zeros(len(records), bool)
    chosen[indices[compressed]] = True
    places = order[chosen[order]]  # file indices in the set's order
    picked = [records[i]["segmentation"] for i in places.tolist()]
    sizes = [seg["size"] for seg in picked]
    strings = [seg["counts"] for seg in picked]
    step = 50_000
    try:
        hw = np.array(sizes, dtype=np.int64).reshape(len(picked), 2)
        counts = [
            np.frombuffer("".join(strings[k : k + step]).encode("ascii"), np.uint8)
            for k in range(0, len(strings), step)
        ]
    except (ValueError, OverflowError, UnicodeEncodeError):  # not as the reader lets through
        return None, indices
    columns = {
        "id": places + 1,
        "image_id": image_id[places],
        "height": hw[:, 0].copy(),
        "width": hw[:, 1].copy(),
        "end": np.cumsum(np.fromiter(map(len, strings), np.int64, len(strings))),
        "counts": counts,
    }
    return columns, rest


def read_rle_columns(
    pf: PredictionFile, masked: np.ndarray, image_id: np.ndarray
) -> tuple[dict[str, np.ndarray] | None, np.ndarray]:
    """:func:`rle_columns` from the strings as the reader's check read them
    (:attr:`PredictionFile.rles`), without a pass over the records: when its RLEs are exactly
    the plain ones of ``masked`` (put in the set's order when the file is not by image id). Else
    (None, masked): :func:`rle_columns` does it."""
    rles, cols = pf.rles, pf.columns
    if rles is None or cols is None or not masked.size:
        return None, masked
    place = rles["place"]
    plain = np.zeros(len(image_id), bool)
    plain[masked] = cols["plain_rle"][masked]
    if place.size != np.count_nonzero(plain) or not plain[place].all():
        return None, masked
    columns = {
        "id": place + 1,
        "image_id": image_id[place],
        "height": rles["height"],
        "width": rles["width"],
        "end": rles["end"],
        "counts": list(rles["counts"]),
    }
    if place.size > 1 and (np.diff(columns["image_id"]) < 0).any():
        columns = _in_set_order(columns)
    return columns, masked[~plain[masked]]


def _in_set_order(columns: dict[str, Any]) -> dict[str, Any]:
    """:func:`read_rle_columns`' columns of RLEs given in file order, in the set's order (by
    image, then file order), as results files whose images are not listed by id come: each
    counts string copied once into its new place, in pieces of about ``step`` strings (not
    one copy of all the counts joined). Every string lies within one piece of ``counts``."""
    order = np.argsort(columns["image_id"], kind="stable")
    end = columns["end"]
    start = end - np.diff(end, prepend=0)
    pieces = columns["counts"]
    piece_start = np.cumsum([0] + [p.size for p in pieces])[:-1]
    which = np.searchsorted(piece_start, start, side="right") - 1
    offset = start - piece_start[which]
    length = end - start
    views = [memoryview(p) for p in pieces]
    counts, step = [], 50_000
    for k in range(0, order.size, step):
        at = order[k : k + step]
        parts = [
            views[w][o : o + n]
            for w, o, n in zip(
                which[at].tolist(), offset[at].tolist(), length[at].tolist(), strict=True
            )
        ]
        counts.append(np.frombuffer(b"".join(parts), np.uint8))
    out = {name: column[order] for name, column in columns.items() if name != "counts"}
    out["end"] = np.cumsum(length[order])
    out["counts"] = counts
    return out


def joined(counts: np.ndarray | list[np.ndarray]) -> np.ndarray:
    """The counts of :func:`rle_columns` as one array (given as pieces or already one)."""
    if isinstance(counts, np.ndarray):
        return counts
    return np.concatenate([np.zeros(0, np.uint8), *counts])


def _counts_blobs(counts: list[np.ndarray]) -> Iterator[bytearray]:
    """The counts pieces regrouped into ``.npy`` blobs of about :data:`COUNTS_PIECE` bytes
    (:func:`npy_blob` of each group joined, copied once: not joined first, then copied)."""
    group: list[np.ndarray] = []
    size = 0
    for piece in counts:
        group.append(piece)
        size += piece.size
        if size >= COUNTS_PIECE:
            yield bytes_blob(group, size)
            group, size = [], 0
    if group or not counts:
        yield bytes_blob(group, size)


def bytes_blob(pieces: list[np.ndarray], size: int) -> bytearray:
    """:func:`npy_blob` of the uint8 ``pieces`` (``size`` bytes in all) joined into one array,
    made in one copy."""
    head = io.BytesIO()
    header = {"descr": "|u1", "fortran_order": False, "shape": (size,)}
    np.lib.format.write_array_header_1_0(head, header)
    at = head.tell()
    out = bytearray(at + size)
    out[:at] = head.getvalue()
    view = np.frombuffer(out, np.uint8, offset=at) if size else None
    for piece in pieces:
        if piece.size:
            view[: piece.size] = piece  # type: ignore[index]
            view = view[piece.size :]  # type: ignore[index]
    return out


def rle_counts(columns: dict[str, np.ndarray], lo: int = 0, hi: int | None = None) -> list[bytes]:
    """The counts strings (as bytes, as pycocotools takes them) of the RLEs ``lo`` ... ``hi``
    of :func:`rle_columns`."""
    end = columns["end"]
    hi = len(end) if hi is None else hi
    if hi <= lo:
        return []
    first = int(end[lo - 1]) if lo else 0
    data = joined(columns["counts"])[first : int(end[hi - 1])].tobytes()
    bounds = (end[lo:hi] - first).tolist()
    return [data[a:b] for a, b in zip([0, *bounds[:-1]], bounds, strict=True)]


def rle_texts(columns: dict[str, np.ndarray], lo: int = 0, hi: int | None = None) -> list[str]:
    """The segmentation JSON texts of the RLEs ``lo`` ... ``hi`` of :func:`rle_columns`, as
    ``prediction_shapes`` would hold them for a record whose segmentation has size first."""
    hi = len(columns["end"]) if hi is None else hi
    # '\\' is the one character of '0'..'o' that JSON escapes
    strings = [c.decode("ascii").replace("\\", "\\\\") for c in rle_counts(columns, lo, hi)]
    heights, widths = columns["height"][lo:hi].tolist(), columns["width"][lo:hi].tolist()
    return [
        f'{{"size":[{h},{w}],"counts":"{c}"}}'
        for h, w, c in zip(heights, widths, strings, strict=True)
    ]


def mask_rows(
    set_id: int, records: list[dict], indices: np.ndarray, image_id: np.ndarray
) -> Iterable[tuple]:
    """prediction_shapes rows of the records (of these indices, ascending) whose one key
    beyond the columns is their segmentation: the segmentations encoded in one call (one JSON
    text a line), the rows zipped in C; the same rows as :func:`.records.shape_rows`."""
    if not indices.size:
        return ()
    with phase("build rows"):
        picked = indices.tolist()
        segs = [records[i]["segmentation"] for i in picked]
        if None in segs:
            return shape_rows(set_id, records, picked)
        try:
            texts = jsonio.encode_many(segs)
        except (TypeError, ValueError, OverflowError):  # what only json can say: row by row
            return shape_rows(set_id, records, picked)
        return zip(
            repeat(set_id),
            (indices + 1).tolist(),
            image_id[indices].tolist(),
            texts,
            repeat(None),
        )


class PredictionRepository(ArrayRepository, CacheFileRepository):
    """The ``prediction_sets`` and ``prediction_shapes`` tables and the sets' columns."""

    def add_predictions(self, pf: PredictionFile, name: str, *, activate: bool = True) -> int:
        """Store a validated prediction file as a new named set; returns its id.

        Prediction ids are 1-based positions in the file, as pycocotools ``loadRes`` numbers them.
        """
        if self._db.one("SELECT 1 FROM prediction_sets WHERE name = ?", [name]):
            raise ProjectError(f"{self.location} already has a prediction set named {name!r}")
        records = pf.records
        n = len(records)
        with phase("build columns"):
            ids = np.arange(1, n + 1, dtype=np.int64)
            cols = pf.columns
            if cols is not None:  # built by the reader
                image_id, category_id = cols["image_id"], cols["category_id"]
                score, box = cols["score"], cols["box"].reshape(n, 4)
                shaped = np.flatnonzero(cols["extra_keys"]).tolist()
                masked = np.flatnonzero(cols["has_segmentation"] & ~cols["extra_keys"])
            else:
                image_id = np.fromiter((r["image_id"] for r in records), np.int64, count=n)
                category_id = np.fromiter((r["category_id"] for r in records), np.int64, count=n)
                score = np.fromiter((r["score"] for r in records), dtype=np.float64, count=n)
                box = np.array([r["bbox"] for r in records], dtype=np.float64).reshape(n, 4)
                shaped, masked = range(n), np.zeros(0, np.int64)
            arrays = {
                "id": ids,
                "image_id": image_id,
                "category_id": category_id,
                "score": score,
                "box": np.ascontiguousarray(box),
            }
            if n > 1 and (image_id[1:] < image_id[:-1]).any():  # else in order already
                order = np.argsort(image_id, kind="stable")  # by image, then file order
                arrays = {name: column[order] for name, column in arrays.items()}
            else:
                order = ids - 1
        with phase("write SQLite"), self._db.atomic():
            set_id = self._db.insert_id(
                "INSERT INTO prediction_sets (name, source_path, imported_at, has_segmentation, count) "
                "VALUES (?, ?, ?, ?, ?)",
                [name, str(Path(pf.path).resolve()), now(), int(pf.has_segmentation), n],
            )
            self.put_arrays(f"predictions:{set_id}", arrays)
            with phase("build rows"):
                rles, masked = read_rle_columns(pf, masked, image_id)
                if rles is None:
                    rles, masked = rle_columns(records, masked, order, image_id)
            if rles is not None:
                counts = rles.pop("counts")
                self.put_arrays(masks_owner(set_id), rles)
                for k, blob in enumerate(_counts_blobs(counts)):  # one blob at a time
                    self.add_blob(masks_owner(set_id), f"counts:{k:05d}", blob)
            names = ("set_id", "id", "image_id", "segmentation", "extra")
            self._db.copy_rows(
                "prediction_shapes", names, mask_rows(set_id, records, masked, image_id)
            )
            self._db.copy_rows(
                "prediction_shapes", names, timed(shape_rows(set_id, records, shaped), "build rows")
            )
            if activate or self.active_set_id() is None:
                self.set_meta("active_prediction_set", set_id)
                self.delete_meta("active_prediction_sets")  # review the new set on its own
            self.add_warnings(pf.warnings)
        return set_id

    def prediction_sets(self) -> list[dict]:
        """All prediction sets."""
        return self._db.dicts("SELECT * FROM prediction_sets ORDER BY id")

    def prediction_set(self, set_id: int) -> dict | None:
        """One prediction set (id, name, source_path, imported_at, has_segmentation, count)."""
        rows = self._db.dicts("SELECT * FROM prediction_sets WHERE id = ?", [set_id])
        return rows[0] if rows else None

    def active_set_id(self) -> int | None:
        """The id of the active prediction set, or None."""
        value = self.get_meta("active_prediction_set")
        return None if value is None else int(value)

    def resolve_set(self, name: str | None) -> int:
        """The id of the named prediction set (the active one for None)."""
        if name is None:
            set_id = self.active_set_id()
            if set_id is None:
                raise ProjectError(
                    f"{self.location} has no predictions; add some with add-predictions"
                )
            return set_id
        found = self._db.scalar("SELECT id FROM prediction_sets WHERE name = ?", [name])
        if found is None:
            names = ", ".join(s["name"] for s in self.prediction_sets()) or "none"
            raise ProjectError(
                f"{self.location} has no prediction set named {name!r} (it has: {names})"
            )
        return int(found)

    def resolve_sets(self, spec: str | None) -> list[int]:
        """The ids of the sets a ``--predictions`` value names: one name, names separated by
        commas ("A,B"), ``all``, or None for the sets reviewed by default (the active ones)."""
        if spec is None:
            ids = self.active_sets()
            if not ids:
                raise ProjectError(
                    f"{self.location} has no predictions; add some with add-predictions"
                )
            return ids
        exact = self._db.scalar("SELECT id FROM prediction_sets WHERE name = ?", [spec])
        if exact is not None:  # a set whose name has a comma (or is "all")
            return [int(exact)]
        if spec.strip().lower() == "all":
            ids = [int(s["id"]) for s in self.prediction_sets()]
            if not ids:
                raise ProjectError(
                    f"{self.location} has no predictions; add some with add-predictions"
                )
            return ids
        names = [n.strip() for n in spec.split(",") if n.strip()]
        if not names:
            raise ProjectError("--predictions names no prediction set")
        return sorted({self.resolve_set(n) for n in names})

    def set_active(self, name: str) -> None:
        """Make the named prediction set the active one (reviewed on its own)."""
        set_id = self.resolve_set(name)
        with self._db.atomic():
            self.set_meta("active_prediction_set", set_id)
            self.delete_meta("active_prediction_sets")

    @contextmanager
    def prediction_writer(
        self, name: str, source: str | Path, image_ids: np.ndarray, expected: int
    ) -> Iterator[PredictionSetWriter]:
        """A new set written chunk by chunk (:class:`.prediction_parts.PredictionSetWriter`),
        in one transaction; the caller calls ``finish`` before the block ends."""
        if self._db.one("SELECT 1 FROM prediction_sets WHERE name = ?", [name]):
            raise ProjectError(f"{self.location} already has a prediction set named {name!r}")
        with self._db.atomic():
            yield PredictionSetWriter(self, name, source, image_ids, expected)

    def prediction_parts(self, set_id: int) -> np.ndarray:
        """The lower image-id bounds of a set's parts (one part: the set is stored whole).
        Kept once read, as the sets' columns are (a set never changes; the window asks for
        them with every image it shows)."""
        cache = self.__dict__.setdefault("_prediction_bounds", {})
        if set_id not in cache:
            bounds = self.get_arrays(set_owner(set_id), "image_bounds").get("image_bounds")
            cache[set_id] = np.zeros(1, np.int64) if bounds is None else bounds
        return cache[set_id].copy()

    def prediction_part(self, set_id: int, part: int) -> dict[str, np.ndarray]:
        """The columns of one part of a set (as :meth:`prediction_arrays`; part 0 of a set
        stored whole is the whole set). The last part read is kept in memory."""
        cache = self.__dict__.setdefault("_prediction_part_cache", {})
        if (set_id, part) not in cache:
            if len(self.prediction_parts(set_id)) == 1:
                arrays = self.prediction_arrays(set_id)
            else:
                arrays = self.get_arrays(part_owner(set_id, part))
            cache.clear()
            cache[(set_id, part)] = arrays
        return cache[(set_id, part)]

    def prediction_arrays(self, set_id: int) -> dict[str, np.ndarray]:
        """A prediction set as columns (id, image_id, category_id, score, box), sorted by image
        then id. Prediction sets never change, so the columns are kept in memory once read."""
        cache = self.__dict__.setdefault("_prediction_cache", {})
        if set_id not in cache:
            arrays = self.get_arrays(set_owner(set_id))
            if not arrays:
                raise ProjectError(f"{self.location} has no prediction set {set_id}")
            if "image_bounds" in arrays:  # stored in parts: all of them, in image order
                pieces = [
                    self.get_arrays(part_owner(set_id, k))
                    for k in range(len(arrays["image_bounds"]))
                ]
                arrays = {c: np.concatenate([p[c] for p in pieces]) for c in pieces[0]}
            cache.clear()  # keep one set in memory
            cache[set_id] = arrays
        return cache[set_id]

    def _part_of_image(self, set_id: int, image_id: int) -> dict[str, np.ndarray]:
        """The part of a set that holds an image's predictions (what the window reads for the
        image it shows): of a set stored in parts, from the part's cache file when there is
        one, else read and written to one for the next time (:func:`_part_file`)."""
        bounds = self.prediction_parts(set_id)
        part = max(int(np.searchsorted(bounds, image_id, side="right")) - 1, 0)
        if len(bounds) == 1:
            return self.prediction_part(set_id, part)
        cache = self.__dict__.setdefault("_prediction_part_cache", {})
        if (set_id, part) not in cache:
            check = self._part_check(set_id, part, len(bounds))
            name = _part_file(set_id, part)
            mapped = None if check is None else self._read_cache_file(name, check)
            if mapped is not None:
                cache.clear()
                cache[(set_id, part)] = mapped
            else:
                arrays = self.prediction_part(set_id, part)
                if not self.readonly and self.cache_folder() is not None:
                    with self._db.atomic():
                        self._cache_token(create=True)
                    check = self._part_check(set_id, part, len(bounds))
                    if check is not None and self._write_cache_file(name, check, arrays):
                        self._drop_part_files()
        return cache[(set_id, part)]

    def _drop_part_files(self) -> None:
        """Delete the part cache files of sets that are gone."""
        folder = self.cache_folder()
        sets = {int(i) for (i,) in self._db.rows("SELECT id FROM prediction_sets")}
        for path in [] if folder is None else folder.glob("predictions-*-*.columns"):
            set_part = path.name.split("-")[1]
            if set_part.isdigit() and int(set_part) not in sets:
                path.unlink(missing_ok=True)

    def _part_check(self, set_id: int, part: int, parts: int) -> dict | None:
        """What a part's cache file must name: the project's token, the set (its id, name,
        import time and size: a set never changes, but a deleted one's id can come back) and
        the part. None without a token."""
        token = self._cache_token()
        row = self._db.one(
            "SELECT name, imported_at, count FROM prediction_sets WHERE id = ?", [set_id]
        )
        if token is None or row is None:
            return None
        name, imported_at, count = row
        return {
            "token": token,
            "set_id": int(set_id),
            "name": str(name),
            "imported_at": str(imported_at),
            "count": int(count),
            "part": int(part),
            "parts": int(parts),
        }

    def prediction_segmentations(
        self, set_id: int, image_range: tuple[int, int] | None = None
    ) -> dict[int, str]:
        """Prediction id -> its segmentation as JSON text, for the predictions that have one
        (on the images with ``lo <= id < hi`` for ``image_range``)."""
        out = self._segmentation_rows(set_id, image_range)
        span = self._rle_span(set_id, image_range)
        if span is not None:
            rles, lo, hi = span
            out.update(zip(rles["id"][lo:hi].tolist(), rle_texts(rles, lo, hi), strict=True))
        return out

    def prediction_mask_inputs(
        self, set_id: int, image_range: tuple[int, int] | None = None
    ) -> tuple[dict[int, str], dict[int, bytes]]:
        """What an analysis of masks reads of a set's segmentations: prediction id -> JSON text
        for the segmentations kept as rows, and prediction id -> the counts string as bytes
        for the compressed RLEs kept as columns (:func:`rle_columns`; no JSON text made to be
        parsed again), on the images with ``lo <= id < hi`` for ``image_range``."""
        texts = self._segmentation_rows(set_id, image_range)
        span = self._rle_span(set_id, image_range)
        if span is None:
            return texts, {}
        rles, lo, hi = span
        return texts, dict(zip(rles["id"][lo:hi].tolist(), rle_counts(rles, lo, hi), strict=True))

    def _segmentation_rows(
        self, set_id: int, image_range: tuple[int, int] | None
    ) -> dict[int, str]:
        """Prediction id -> segmentation JSON text of the set's ``prediction_shapes`` rows."""
        sql = (
            "SELECT id, segmentation FROM prediction_shapes "
            "WHERE set_id = ? AND segmentation IS NOT NULL"
        )
        params: list[int] = [set_id]
        if image_range is not None:
            sql += " AND image_id >= ? AND image_id < ?"
            params += [int(image_range[0]), int(image_range[1])]
        return dict(self._db.rows(sql, params))

    def _rle_span(
        self, set_id: int, image_range: tuple[int, int] | None
    ) -> tuple[dict[str, np.ndarray], int, int] | None:
        """The set's RLE columns and the positions ``lo`` ... ``hi`` of those on the images in
        ``image_range`` (all without one); None if the set keeps none."""
        rles = self.prediction_rles(set_id)
        if rles is None:
            return None
        if image_range is None:
            return rles, 0, len(rles["id"])
        lo, hi = np.searchsorted(rles["image_id"], image_range).tolist()
        return rles, lo, hi

    def prediction_rles(self, set_id: int) -> dict[str, np.ndarray] | None:
        """The compressed RLEs a set keeps as columns (:func:`rle_columns`; None if it keeps
        none: every segmentation of a set read in chunks, or imported before schema version 6,
        is a ``prediction_shapes`` row). Kept in memory once read, like the set's columns."""
        cache = self.__dict__.setdefault("_prediction_rles", {})
        if set_id not in cache:
            cache.clear()  # keep one set's in memory
            arrays = self.get_arrays(masks_owner(set_id), writable=False)
            pieces = sorted(name for name in arrays if name.startswith("counts:"))
            if arrays:
                arrays["counts"] = joined([arrays.pop(name) for name in pieces])
            cache[set_id] = arrays or None
        return cache[set_id]

    def prediction_column(self, set_id: int, name: str) -> np.ndarray:
        """One column of a whole set (e.g. its classes and scores, a calibration's reference),
        in image then id order, without reading the others."""
        parts = len(self.prediction_parts(set_id))
        if parts == 1:
            return self.prediction_arrays(set_id)[name]
        return np.concatenate(
            [self.get_arrays(part_owner(set_id, k), name)[name] for k in range(parts)]
        )

    def predictions_in_range(self, set_id: int, lo: int, hi: int) -> dict[str, np.ndarray]:
        """The columns of a set's predictions on the images with ``lo <= id < hi``, reading only
        the parts that hold them."""
        bounds = self.prediction_parts(set_id)
        first = max(int(np.searchsorted(bounds, lo, side="right")) - 1, 0)
        last = max(int(np.searchsorted(bounds, hi - 1, side="right")) - 1, first)
        pieces = []
        for k in range(first, last + 1):
            arr = self.prediction_part(set_id, k)
            a, b = np.searchsorted(arr["image_id"], [lo, hi])
            pieces.append({c: v[a:b] for c, v in arr.items()})
        return {c: np.concatenate([p[c] for p in pieces]) for c in pieces[0]}

    def predictions_for_image(self, set_id: int, image_id: int) -> list[dict]:
        """The predictions of one set on one image, in file order."""
        arr = self._part_of_image(set_id, image_id)
        lo, hi = np.searchsorted(arr["image_id"], [image_id, image_id + 1])
        return self._prediction_dicts(set_id, arr, np.arange(lo, hi))

    def prediction(
        self, set_id: int, prediction_id: int, image_id: int | None = None
    ) -> dict | None:
        """One prediction by its 1-based id in its results file. ``image_id``: the image it is
        on, if known: a set stored in parts is then looked up in that image's part (the one the
        canvas reads too) before its id-to-part column (8 bytes a prediction) is read."""
        part = 0
        if image_id is not None and len(self.prediction_parts(set_id)) > 1:
            arr = self._part_of_image(set_id, int(image_id))
            found = self._prediction_dicts(set_id, arr, np.flatnonzero(arr["id"] == prediction_id))
            if found:
                return found[0]
        if len(self.prediction_parts(set_id)) > 1:
            id_part = self.get_arrays(set_owner(set_id), "id_part")["id_part"]
            if not 1 <= prediction_id <= len(id_part):
                return None
            part = int(id_part[prediction_id - 1])
        arr = self.prediction_part(set_id, part)
        pos = np.flatnonzero(arr["id"] == prediction_id)
        found = self._prediction_dicts(set_id, arr, pos)
        return found[0] if found else None

    def _prediction_dicts(
        self, set_id: int, arr: dict[str, np.ndarray], positions: np.ndarray
    ) -> list[dict]:
        ids = [int(arr["id"][p]) for p in positions]
        shapes: dict[int, tuple] = {}
        if ids:
            for pid, seg, extra in self._db.rows(
                "SELECT id, segmentation, extra FROM prediction_shapes "
                f"WHERE set_id = ? AND id IN ({self._db.marks(len(ids))})",
                [set_id, *ids],
            ):
                shapes[pid] = (seg, extra)
            rles = self.prediction_rles(set_id)
            if rles is not None and len(shapes) < len(ids):
                at = np.flatnonzero(np.isin(rles["id"], ids))
                for k in at.tolist():
                    shapes[int(rles["id"][k])] = (rle_texts(rles, k, k + 1)[0], None)
        out = []
        for p, pid in zip(positions, ids, strict=True):
            seg, extra = shapes.get(pid, (None, None))
            rec = {
                "set_id": set_id,
                "id": pid,
                "image_id": int(arr["image_id"][p]),
                "category_id": int(arr["category_id"][p]),
                "score": float(arr["score"][p]),
                "bbox": [float(v) for v in arr["box"][p]],
                "segmentation": None if seg is None else json.loads(seg),
            }
            if extra:
                rec["extra"] = json.loads(extra)
            out.append(rec)
        return out
