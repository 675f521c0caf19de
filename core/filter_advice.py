"""Whether the review filter's confidence cut hides almost everything, and the cut that would not.

A detector whose scores rarely pass the default ``conf >= 0.75`` leaves a table of spurious
labels and "0 missing, 0 wrong class": an empty-looking review that is really a filter
problem. :func:`advise` says so when the cut hides more than :data:`MOST` of the suspects the
rest of the filter lists, or every suspect of some kind, and proposes the highest cut (in
steps of :data:`STEP`) that lists at least :data:`PER_KIND` of every kind's best suspects and
hides no more than :data:`MOST`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .errors import KINDS
from .suspects import SuspectFilter, SuspectIndex

MOST = 0.9
STEP = 0.05
PER_KIND = 5


@dataclass(frozen=True)
class FilterAdvice:
    """What the confidence cut hides, and the cut that would show every kind."""

    min_confidence: float  # the current cut
    listed: int  # suspects listed with it
    total: int  # suspects listed without it (the rest of the filter as it is)
    hidden_kinds: tuple[tuple[str, int], ...]  # kinds it hides entirely, with their counts
    suggested: float  # the cut to offer

    @property
    def hidden_share(self) -> float:
        """The share of the suspects the cut hides."""
        return 1.0 - self.listed / self.total if self.total else 0.0


def _floor_step(value: float) -> float:
    return max(0.0, round(math.floor(value / STEP + 1e-9) * STEP, 2))


def advise(index: SuspectIndex, flt: SuspectFilter) -> FilterAdvice | None:
    """Advice when the filter's confidence cut hides > MOST of the suspects or a whole kind."""
    if flt.min_confidence <= 0 or len(index) == 0:
        return None
    base = index.mask(flt.with_(min_confidence=0.0))
    total = int(base.sum())
    if total == 0:
        return None
    shown = index.mask(flt)
    listed = int(shown.sum())
    hidden_kinds = []
    for code, kind in enumerate(KINDS):
        of_kind = base & (index.kind == code)
        n = int(of_kind.sum())
        if n and not (shown & of_kind).any():
            hidden_kinds.append((kind, n))
    if listed > (1.0 - MOST) * total and not hidden_kinds:
        return None
    # the highest cut that lists PER_KIND of every kind's most confident and > 1 - MOST of all
    conf = index.confidence
    limit = flt.min_confidence
    for code in range(len(KINDS)):
        values = np.sort(conf[base & (index.kind == code) & ~np.isnan(conf)])[::-1]
        if len(values):
            limit = min(limit, float(values[min(PER_KIND, len(values)) - 1]))
    no_conf = int((base & np.isnan(conf)).sum())
    need = math.floor((1.0 - MOST) * total) + 1 - no_conf
    with_conf = np.sort(conf[base & ~np.isnan(conf)])[::-1]
    if need > 0 and len(with_conf):
        limit = min(limit, float(with_conf[min(need, len(with_conf)) - 1]))
    suggested = _floor_step(limit)
    if suggested >= flt.min_confidence:
        return None
    return FilterAdvice(flt.min_confidence, listed, total, tuple(hidden_kinds), suggested)


def sentence(advice: FilterAdvice) -> str:
    """The advice in words, for the window."""
    from .describe import kind_words

    parts = [
        f"conf ≥ {advice.min_confidence:.2f} hides {advice.hidden_share:.0%} of the "
        f"{advice.total} suspects"
    ]
    if advice.hidden_kinds:
        kinds = ", ".join(
            f"all {kind_words(k, n)}" if n > 1 else f"the one {kind_words(k)}"
            for k, n in advice.hidden_kinds
        )
        parts.append(f" ({kinds})")
    parts.append(": this detector's confidences rarely reach it.")
    return "".join(parts)
