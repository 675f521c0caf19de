"""How much of its image the detector found: the weight of a spurious_label (score version 11).

A spurious_label says no prediction of any class overlaps a label. That is evidence against the
label only as far as the detector finds the objects on that image at all. Score version 10
weighed every spurious_label by one recall per prediction set (true positives over labels);
where a detector misses most of an image's labels (a dark or colour-filtered photo, a crowd of
small people, classes it hardly sees, a file cut at a score), a label it leaves alone there is
mostly one more miss. Version 11 weighs it by the share of the image's *other* regular labels
a true positive matched, shrunk towards the set's recall with :data:`PRIOR_LABELS` labels'
worth of it (an image of one or two labels says little): a ratio of counts on the image, the
same on any detector and score scale, and local to the image (the same however the analysis is
chunked or split into passes, and in a re-analysis of some images).

Bench (quality_log.md, session of 2026-11-30 20:30): the clean labels of coco_real81 with
CenterNet's scores cut at 0.25 listed 23 spurious_labels among the 180 groups above the default
cut with version 10 (three baseball players in a blue-filtered photo, a dark diner, goats
labelled sheep, sinks, laptops: right labels the detector missed), 3 with this weight. The
recall of the label's size instead (16 / 32 / 64 / 128 px bins, shrunk alike) listed 35: the
small unsupported labels are below the cut already (the size factor) and the medium and large
ones are found more often than the average label; the recall of the label's class, 13.

Pure functions over numpy arrays: no Qt, no store.
"""

from __future__ import annotations

import numpy as np

from .errors import ChunkFacts, kind_rows
from .matching import TP

PRIOR_LABELS = 10.0
"""Labels' worth of the set's recall an image's own share is shrunk towards."""


def image_found(facts: ChunkFacts, labels: np.ndarray) -> np.ndarray:
    """For labels of a chunk (indices into its labels), (k, 2): how many of the other regular
    labels of the label's image a true positive matched, and how many there are."""
    labels = np.asarray(labels, dtype=np.int64)
    f = facts
    regular = ~np.asarray(f.l_crowd, bool)
    found = regular & np.isin(f.l_id, f.p_match[f.outcome == TP])
    n_images = len(f.image_id)
    per_image = np.bincount(f.l_img[regular], minlength=n_images)
    found_image = np.bincount(f.l_img[found], minlength=n_images)
    img = f.l_img[labels]
    out = np.empty((len(labels), 2))
    out[:, 0] = found_image[img] - found[labels]
    out[:, 1] = per_image[img] - regular[labels]
    return out


def row_image_found(facts: ChunkFacts, raw: np.ndarray) -> np.ndarray:
    """Per suspect row of the chunk (errors.chunk_suspects), (n, 2): for spurious_label rows
    their label's :func:`image_found`; nan for the other rows."""
    out = np.full((len(raw), 2), np.nan)
    if len(raw):
        sel, lab = kind_rows(facts, raw, "spurious_label")
        if len(sel):
            out[sel] = image_found(facts, lab)
    return out


def weight(found: np.ndarray, recall: float) -> np.ndarray:
    """The factor of spurious_labels whose images' other labels were found ``found`` ((k, 2)
    rows of :func:`image_found`) by a detector of set recall ``recall``: their share shrunk
    towards it; ``recall`` where not known (nan)."""
    found = np.asarray(found, np.float64).reshape(-1, 2)
    share = (found[:, 0] + PRIOR_LABELS * recall) / (found[:, 1] + PRIOR_LABELS)
    return np.clip(np.where(np.isnan(share), recall, share), 0.0, 1.0)
