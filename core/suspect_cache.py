"""The suspect index of a large analysis, built and cached right after it is written.

After a large analysis of a project file, :func:`cache_after_analysis` builds its
:class:`~.suspects.SuspectIndex` (and the file names) from the columns the analysis's writer
kept and saves them to the cache files, so that the window's next open maps them instead of
reading every suspect; :func:`cache_orders` makes the index's sort orders in a thread while the
analysis writes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from . import suspects
from .store import Store
from .suspects import SuspectIndex, project_file_names


def cache_after_analysis(store: Store, set_ids: Sequence[int], found: int) -> bool:
    """After a large analysis of a project file: its suspect index (and the file names) built
    and saved to the cache files, so that the window's next open maps them (< 2 s at 10M
    labels) instead of reading every suspect row (~30 s at 5M suspects). ``found``: the
    analysis's suspects. Returns whether the index was built (a team project, or an analysis
    with fewer suspects than :data:`.suspects.CACHE_MIN_ROWS`, loads fast enough without).

    The index is built from the columns the analysis's writer kept of the rows it wrote
    (``store.take_written_suspects``), the same values a read of the rows gives; read from
    the rows when they are not there (another analysis's, or rewritten since)."""
    written = store.take_written_suspects()
    try:
        if store.path is None or store.readonly or not set_ids or found < suspects.CACHE_MIN_ROWS:
            return False
        scope = set_ids[0] if len(set_ids) == 1 else list(set_ids)
        analysis = store.current_analysis(scope)
        if analysis is None or store.suspect_cache_is_current(analysis["id"]):
            return False
        columns = None
        if written is not None:
            columns = store.written_suspect_columns(written, analysis["id"])
            written.close()  # the columns are in memory now
        if columns is None or written is None:
            SuspectIndex.load(store, scope)
        else:
            _cache_index(store, analysis, columns, written.generation, written.orders())
        return store.suspect_cache_is_current(analysis["id"])
    finally:
        if written is not None:
            written.close()


def cache_orders(columns: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The :data:`CACHED_ORDERS` an index of these columns (its score, group and group_rank;
    as :func:`.store.suspects.index_columns` gives them) builds for its cache: the writer of a
    full analysis sorts them in a thread while it writes (they depend on nothing else)."""
    idx = SuspectIndex(
        None,
        None,
        ids=np.arange(len(columns["score"]), dtype=np.int64),
        score=columns["score"],
        group=columns["group"],
        group_rank=columns["group_rank"],
    )
    if len(idx) >= suspects.CACHE_MIN_ROWS:
        idx.warm("score", True)
        idx._by_group()
    return idx._orders_to_cache()


def _cache_index(
    store: Store,
    analysis: dict,
    columns: dict[str, np.ndarray],
    generation: int,
    orders: Mapping[str, np.ndarray] | None = None,
) -> None:
    """Cache an analysis's index from its columns (:data:`SUSPECT_INDEX_COLUMNS`) as
    :meth:`SuspectIndex.load` of a large analysis caches it: with the score and group orders
    (``orders``: :func:`cache_orders` of these very rows, if sorted already; used when there
    are as many rows), and the file names. (Statuses, support and names are not cached: not
    read here.)"""
    idx = SuspectIndex(analysis["id"], analysis["set_id"], set_ids=list(analysis["set_ids"]))
    idx._set_columns(columns)
    if orders:
        idx._set_orders(dict(orders))
    project_file_names(store)
    if len(idx) >= suspects.CACHE_MIN_ROWS:
        idx.warm("score", True)
        idx._by_group()
        idx.save_cache(store, generation)
