"""The default cut of the suspect list: what to show a reviewer first, from the score distribution.

Scores read as "how likely is this a real label error", so the sum of the scores above a cut is
the number of real errors a reviewer can expect to find there. The default cut:

- shows every suspect with score >= ``likely`` (0.5: more likely an error than not);
- if those are fewer than an hour of review (``per_hour`` suspects), goes down the ranking to
  an hour's worth, but never below ``floor`` (0.2: below it four of five suspects cost a review
  for nothing).

Constants are probabilities and a count of reviews, so they mean the same on any detector.
Pure function: no Qt, no store.
"""

from __future__ import annotations

import numpy as np

LIKELY = 0.5
FLOOR = 0.2
PER_HOUR = 360  # suspects a reviewer decides in an hour (10 s each)


def default_cut(
    scores: np.ndarray, likely: float = LIKELY, floor: float = FLOOR, per_hour: int = PER_HOUR
) -> float:
    """The least score shown by default (see the module docstring); ``likely`` if no suspect."""
    s = np.sort(np.asarray(scores, dtype=np.float64)[~np.isnan(scores)])[::-1]
    if not len(s) or (s >= likely).sum() >= per_hour:
        return likely
    hour = float(s[min(per_hour, len(s)) - 1])
    return float(min(likely, max(floor, hour)))


def expected_errors(scores: np.ndarray, cut: float) -> float:
    """The number of real errors expected among the suspects scored >= ``cut``."""
    s = np.asarray(scores, dtype=np.float64)
    return float(np.nansum(np.where(s >= cut, s, 0.0)))
