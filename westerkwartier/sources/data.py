"""One way to get a CBS table, online or offline.

:func:`get_table` is what the indicator layer (and ``westerkwartier fetch``) calls. Online it
asks the CBS client, which serves repeated requests from the cache and otherwise asks CBS (OData
v3, or v4 as the catalogue says, each the other's fallback) for the slice the indicators need;
when CBS cannot be reached it falls back to the cache and then the committed offline snapshot,
with one visible notice. Offline (``settings.offline``) it reads the cache and then the snapshot
and never touches the network. Either way the caller gets the same
:class:`~westerkwartier.table.CbsTable`.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import warnings
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any, TypedDict

import pandas as pd

from westerkwartier import settings
from westerkwartier.errors import CbsUnavailable, OfflineDataMissing, SnapshotMissing
from westerkwartier.sources import store
from westerkwartier.sources.need import Need
from westerkwartier.sources.table import CbsTable

log = logging.getLogger(__name__)

#: Name of the snapshot's table folder and its provenance file.
TABLES_DIR = "tables"
PROVENANCE = "provenance.json"


#: Tables served from a copy (cache or snapshot) because CBS failed, in this process.
_FALLBACKS = {"count": 0}


def fallbacks_served() -> int:
    """Return how many tables this process served from a copy because CBS failed.

    A result built while the count rose is not the online answer: callers that keep results
    for later (the panel's disk cache) should not keep it.
    """
    return _FALLBACKS["count"]


class SnapshotFallbackWarning(UserWarning):
    """CBS could not be reached; figures come from the offline snapshot instead."""


class CacheFallbackWarning(UserWarning):
    """CBS could not be reached on a refresh; figures come from the (older) cache copy."""


def snapshot_tables_dir() -> Path:
    """Folder of the snapshot's tables."""
    return Path(settings.snapshot_dir) / TABLES_DIR


@lru_cache(maxsize=4)
def _provenance(snapshot_dir: str) -> dict[str, Any]:
    path = Path(snapshot_dir) / PROVENANCE
    if not path.is_file():
        raise SnapshotMissing(
            f"De offline snapshot ontbreekt ({path.parent.name}/{PROVENANCE} niet gevonden). "
            "Bouw hem met `westerkwartier snapshot --mirror PAD` of haal de repository "
            "opnieuw op."
        )
    return json.loads(path.read_text(encoding="utf-8"))


def provenance() -> dict[str, Any]:
    """Return the snapshot's provenance: build date, sources and one entry per table."""
    return _provenance(str(settings.snapshot_dir))


def snapshot_table_ids() -> list[str]:
    """Return the ids of the tables in the offline snapshot."""
    return sorted(provenance()["tables"])


@lru_cache(maxsize=64)
def _snapshot_table(snapshot_dir: str, table_id: str) -> CbsTable:
    return store.read_table(Path(snapshot_dir) / TABLES_DIR, table_id, source="snapshot")


def snapshot_table(table_id: str) -> CbsTable:
    """Read one table from the offline snapshot.

    Raises
    ------
    OfflineDataMissing
        If the snapshot does not hold the table (it is only available from live CBS).
    """
    ids = {t.lower(): t for t in snapshot_table_ids()}
    if table_id.lower() not in ids:
        raise OfflineDataMissing(
            f"Tabel {table_id} zit niet in de offline snapshot; hij is alleen online bij CBS "
            "beschikbaar. Zet offline-modus uit (WESTERKWARTIER_OFFLINE=0) en zorg voor een "
            "internetverbinding om hem op te halen."
        )
    return _snapshot_table(str(settings.snapshot_dir), ids[table_id.lower()])


class _Selection(TypedDict):
    """Which part of a table a request asks for (see :func:`get_table`)."""

    regions: str | Iterable[str] | None
    periods: str | int | Iterable[str | int] | None
    topics: str | Iterable[str] | None
    filters: Mapping[str, str | Iterable[str]] | None


def get_table(
    table_id: str,
    regions: str | Iterable[str] | None = None,
    periods: str | int | Iterable[str | int] | None = None,
    topics: str | Iterable[str] | None = None,
    *,
    filters: Mapping[str, str | Iterable[str]] | None = None,
    refresh: bool = False,
    need: Need | None = None,
    api: str | None = None,
) -> CbsTable:
    """Return a CBS table from the cache, live CBS or the offline snapshot, in that order.

    Parameters
    ----------
    table_id : str
        CBS table id, e.g. ``86088NED``.
    regions, periods, topics, filters : optional
        Only part of the table, as in :func:`westerkwartier.sources.cbs.fetch_table` (region
        codes, periods or years, topic stems, other dimensions' codes). A copy from the
        snapshot is narrowed the same way.
    refresh : bool
        Download again even when the cache holds the table (online only).
    need : Need, optional
        Only what the indicators need from the table (topics, categories, region levels,
        first year; :class:`westerkwartier.sources.need.Need`). Default: the whole table.
    api : {"v3", "v4"}, optional
        The CBS service to ask first (the catalogue's ``api``); the other is the fallback.

    Returns
    -------
    CbsTable
        ``source`` says where the figures came from (``cbs``, ``snapshot``, ...).

    Raises
    ------
    OfflineDataMissing
        Offline, and the table is in neither cache nor snapshot.
    CbsUnavailable
        CBS is unreachable and the table is in neither cache nor snapshot.
    CbsRequestTooLarge
        The request would exceed the row limit (:data:`settings.max_rows`).

    Notes
    -----
    When CBS cannot be reached, the table comes from the cache (the same request, else the
    whole table) or else from the snapshot, with a visible warning. After the first failed
    connection CBS counts as unreachable for a while (:data:`settings.cbs_cooldown`): later
    tables go straight to cache or snapshot and only the first one is announced with a warning
    (the others are logged), so a run that needs forty tables says it once.
    """
    from westerkwartier.sources import cache, cbs

    selection: _Selection = {
        "regions": regions,
        "periods": periods,
        "topics": topics,
        "filters": filters,
    }
    query = cache.normalise_query(**selection, need=need)
    if settings.offline:
        try:  # offline: served from the cache or raises
            return cbs.fetch_table(table_id, **selection, need=need)
        except OfflineDataMissing:
            return narrow(snapshot_table(table_id), query)
    try:
        table = cbs.fetch_table(table_id, **selection, need=need, refresh=refresh, api=api)
    except CbsUnavailable as err:
        return _fallback(table_id, query, str(err).rstrip("."), err)
    if table.data.empty:  # CBS never publishes an empty table: a glitch, not news
        try:
            return _fallback(table_id, query, f"CBS gaf tabel {table_id} zonder rijen terug", None)
        except OfflineDataMissing:
            log.warning("CBS gaf tabel %s zonder rijen terug en er is geen kopie.", table_id)
    return table


def narrow(table: CbsTable, query: Mapping[str, Any]) -> CbsTable:
    """Apply an explicit selection (regions, periods, topics, filters) to a whole table.

    Used for copies from the snapshot, so that a narrowed request gets the same part of the
    table whether CBS or the snapshot answers. A need (``{"need": ...}``) leaves the table
    whole: the indicator layer selects from it.

    Raises
    ------
    TopicNotFound
        A topic stem is not in the table.
    CbsSchemaError
        A filter names a dimension the table lacks.
    """
    if not query or "need" in query:
        return table
    data = table.data
    mask = pd.Series(True, index=data.index)
    wanted: dict[str | None, list[str]] = {
        table.region_dimension: list(query.get("regions") or []),
        table.period_dimension: list(query.get("periods") or []),
    }
    for dim, codes in (query.get("filters") or {}).items():
        wanted[dim] = [table.dimension_key(dim, c) for c in codes]  # raises for a wrong dim
    for dim, codes in wanted.items():
        if dim is not None and codes:
            mask &= data[dim].isin(codes)
    topics = table.topics
    columns = list(data.columns)
    if query.get("topics"):
        keys = {table.topic(s) for s in query["topics"]}
        topics = topics.loc[topics["key"].isin(keys)].reset_index(drop=True)
        columns = [c for c in columns if c in table.dimensions or c in keys]
    return dataclasses.replace(
        table, data=data.loc[mask, columns].reset_index(drop=True), topics=topics
    )


def _announce(message: str, category: type[UserWarning], err: CbsUnavailable | None) -> None:
    """Warn visibly, except for tables skipped because CBS already counts as unreachable.

    The first table served from a copy because CBS cannot be reached is announced with a
    warning; later ones in the same process are only logged (at INFO), so forty tables from
    the snapshot give one notice.
    """
    from westerkwartier.sources import transport

    log.info(message)
    if err is not None and not transport.first_notice():
        return
    warnings.warn(message, category, stacklevel=4)


def _fallback(
    table_id: str, query: Mapping[str, Any], why: str, err: CbsUnavailable | None
) -> CbsTable:
    """Serve a table from the cache (this request, else the whole table) or the snapshot.

    A whole table (cache or snapshot) is narrowed to the request (:func:`narrow`); the
    notice is a warning (:func:`_announce`).
    """
    from westerkwartier.errors import DataIntegrityError
    from westerkwartier.sources import cache

    cached = None
    for candidate, whole in ((query, False), ({}, True)):
        try:
            cached = cache.load(table_id, dict(candidate))
        except DataIntegrityError:
            cached = None
        if cached is not None:
            cached = narrow(cached, query) if whole else cached
            break
    _FALLBACKS["count"] += 1
    if cached is not None:
        message = (
            f"{why}; tabel {table_id} komt uit de cache, opgehaald op "
            f"{cached.info.get('retrieved', 'onbekende datum')}."
        )
        _announce(message, CacheFallbackWarning, err)
        return cached
    try:
        table = narrow(snapshot_table(table_id), query)
    except OfflineDataMissing:
        if err is None:
            raise
        raise err from None
    message = (
        f"{why}; tabel {table_id} komt uit de offline snapshot "
        f"(CBS-gegevens van {provenance().get('data_date', 'onbekende datum')})."
    )
    _announce(message, SnapshotFallbackWarning, err)
    return table
