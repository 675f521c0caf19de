"""Model runs in progress: each finished image's predictions staged under the run (keyed by the
run's id) until the whole prediction set is published in one transaction.

A run is named after the prediction set it will become and carries a fingerprint of the model
file and the options, so a rerun with the same model, options and name finds the images it
already finished; the staged rows are never seen by the analysis, the review or an export.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from ..coco import PredictionFile
from .base import ProjectError, Repository, now
from .records import dumps


class PredictionRunRepository(Repository):
    """The ``prediction_runs`` and ``prediction_run_images`` tables."""

    # implemented by the prediction repository; declared here for this one
    def add_predictions(
        self, pf: PredictionFile, name: str, *, activate: bool = True
    ) -> int:  # pragma: no cover
        raise NotImplementedError

    def prediction_runs(self) -> list[dict[str, Any]]:
        """Every unfinished run: id, name, fingerprint, settings (decoded), started_at, images
        (the run's total) and done (images staged so far)."""
        rows = self._db.dicts(
            "SELECT r.id, r.name, r.fingerprint, r.settings, r.started_at, r.images, "
            "(SELECT COUNT(*) FROM prediction_run_images s WHERE s.run_id = r.id) AS done "
            "FROM prediction_runs r ORDER BY r.id"
        )
        for row in rows:
            row["settings"] = json.loads(row["settings"])
        return rows

    def prediction_run(self, name: str) -> dict[str, Any] | None:
        """The unfinished run that will become the prediction set ``name``, or None."""
        return next((r for r in self.prediction_runs() if r["name"] == name), None)

    def start_prediction_run(
        self, name: str, fingerprint: str, settings: dict[str, Any], images: int
    ) -> int:
        """A new run for the set ``name`` (an older unfinished run of that name is dropped);
        returns its id."""
        if self._db.one("SELECT 1 FROM prediction_sets WHERE name = ?", [name]):
            raise ProjectError(f"{self.location} already has a prediction set named {name!r}")
        with self._db.atomic():
            self._db.execute("DELETE FROM prediction_runs WHERE name = ?", [name])
            return self._db.insert_id(
                "INSERT INTO prediction_runs (name, fingerprint, settings, started_at, images) "
                "VALUES (?, ?, ?, ?, ?)",
                [name, fingerprint, dumps(settings), now(), images],
            )

    def staged_image_ids(self, run_id: int) -> set[int]:
        """The images a run has finished (their predictions are staged)."""
        return {
            r[0]
            for r in self._db.rows(
                "SELECT image_id FROM prediction_run_images WHERE run_id = ?", [run_id]
            )
        }

    def stage_predictions(self, run_id: int, images: Iterable[tuple[int, list[dict]]]) -> None:
        """Stage finished images' result records (image id, records), in one transaction."""
        with self._db.atomic():
            self._db.executemany(
                "INSERT INTO prediction_run_images (run_id, image_id, records) VALUES (?, ?, ?)",
                ((run_id, image_id, dumps(records)) for image_id, records in images),
            )

    def staged_predictions(self, run_id: int) -> Iterator[tuple[int, list[dict]]]:
        """(image id, records) of every finished image of a run, in the project's image order."""
        for image_id, records in self._db.rows(
            "SELECT s.image_id, s.records FROM prediction_run_images s "
            "JOIN images i ON i.id = s.image_id WHERE s.run_id = ? ORDER BY i.position",
            [run_id],
        ):
            yield image_id, json.loads(records)

    def discard_prediction_run(self, run_id: int) -> None:
        """Forget a run and what it staged."""
        with self._db.atomic():
            self._db.execute("DELETE FROM prediction_run_images WHERE run_id = ?", [run_id])
            self._db.execute("DELETE FROM prediction_runs WHERE id = ?", [run_id])

    def publish_prediction_run(
        self, run_id: int, pf: PredictionFile, name: str, *, activate: bool = True
    ) -> int:
        """Store a run's records as the prediction set ``name`` and forget the run, in one
        transaction (the set appears whole or not at all); returns the set's id."""
        with self._db.atomic():
            set_id = self.add_predictions(pf, name, activate=activate)
            self.discard_prediction_run(run_id)
        return set_id
