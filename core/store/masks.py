"""The mask cache: compressed RLEs of labels and predictions, encoded once by an analysis.

Owner ``gt`` holds labels (valid while the label's revision is unchanged; a geometry edit or a
delete drops the entry), owner ``pred:<set id>`` those of a prediction set's segmentations that
it does not keep as compressed RLE columns (the analysis reads those from the columns; caching
them too only copied them; projects analysed before may still hold such rows, the same counts).
"""

from __future__ import annotations

from collections.abc import Iterable

from .base import Repository

LABELS_OWNER = "gt"
MASK_COLUMNS = ("owner", "id", "revision", "height", "width", "counts")


def predictions_owner(set_id: int) -> str:
    """The mask-cache owner of a prediction set's RLEs."""
    return f"pred:{set_id}"


class MaskRepository(Repository):
    """The ``mask_cache`` table."""

    def cached_masks(self, owner: str) -> dict[int, tuple[int, int, int, bytes]]:
        """Id -> (revision, height, width, RLE counts) of every cached mask of an owner."""
        return {
            r[0]: (r[1], r[2], r[3], r[4])
            for r in self._db.rows(
                "SELECT id, revision, height, width, counts FROM mask_cache WHERE owner = ?",
                [owner],
            )
        }

    def save_masks(self, rows: Iterable[tuple]) -> None:
        """Cache encoded masks given as :data:`MASK_COLUMNS` rows (replacing older entries)."""
        self._db.upsert("mask_cache", MASK_COLUMNS, ("owner", "id"), rows)

    def forget_label_mask(self, annotation_id: int) -> None:
        """Drop a label's cached mask (its geometry changed or it was deleted)."""
        self._db.execute(
            "DELETE FROM mask_cache WHERE owner = ? AND id = ?", [LABELS_OWNER, annotation_id]
        )
