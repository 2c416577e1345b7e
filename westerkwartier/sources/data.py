"""One way to get a CBS table, online or offline.

:func:`get_table` is what the indicator layer calls. Online it asks the CBS client (which serves
repeated requests from the cache); when CBS cannot be reached it falls back to the committed
offline snapshot with a visible warning. Offline (``settings.offline``) it reads the cache and
then the snapshot and never touches the network. Either way the caller gets the same
:class:`~westerkwartier.table.CbsTable`.
"""

from __future__ import annotations

import json
import logging
import warnings
from functools import lru_cache
from pathlib import Path
from typing import Any

from westerkwartier import settings
from westerkwartier.errors import CbsUnavailable, OfflineDataMissing, SnapshotMissing
from westerkwartier.sources import store
from westerkwartier.sources.table import CbsTable

log = logging.getLogger(__name__)

#: Name of the snapshot's table folder and its provenance file.
TABLES_DIR = "tables"
PROVENANCE = "provenance.json"


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


def get_table(table_id: str, *, refresh: bool = False) -> CbsTable:
    """Return a whole CBS table from live CBS, the cache or the offline snapshot.

    Parameters
    ----------
    table_id : str
        CBS table id, e.g. ``86088NED``.
    refresh : bool
        Download again even when the cache holds the table (online only).

    Returns
    -------
    CbsTable
        ``source`` says where the figures came from (``cbs``, ``snapshot``, ...).

    Raises
    ------
    OfflineDataMissing
        Offline, or CBS unreachable, and the table is in neither cache nor snapshot.
    """
    from westerkwartier.sources import cbs

    if settings.offline:
        try:
            return cbs.fetch_table(table_id)  # offline: served from the cache or raises
        except OfflineDataMissing:
            return snapshot_table(table_id)
    try:
        table = cbs.fetch_table(table_id, refresh=refresh)
    except CbsUnavailable as err:
        return _fallback(table_id, f"CBS is niet bereikbaar ({err})", err)
    if table.data.empty:  # CBS never publishes an empty table: a glitch, not news
        try:
            return _fallback(table_id, f"CBS gaf tabel {table_id} zonder rijen terug", None)
        except OfflineDataMissing:
            log.warning("CBS gaf tabel %s zonder rijen terug en er is geen kopie.", table_id)
    return table


def _fallback(table_id: str, why: str, err: CbsUnavailable | None) -> CbsTable:
    """Serve a table from the cache, else the snapshot, with a visible warning."""
    from westerkwartier.errors import DataIntegrityError
    from westerkwartier.sources import cache

    try:
        cached = cache.load(table_id, cache.normalise_query())
    except DataIntegrityError:
        cached = None
    if cached is not None:
        message = (
            f"{why}; tabel {table_id} komt uit de cache, opgehaald op "
            f"{cached.info.get('retrieved', 'onbekende datum')}."
        )
        log.warning(message)
        warnings.warn(message, CacheFallbackWarning, stacklevel=3)
        return cached
    try:
        table = snapshot_table(table_id)
    except OfflineDataMissing:
        if err is None:
            raise
        raise err from None
    message = (
        f"{why}; tabel {table_id} komt uit de offline snapshot "
        f"van {provenance().get('built_from', 'de CBS-spiegel')}."
    )
    log.warning(message)
    warnings.warn(message, SnapshotFallbackWarning, stacklevel=3)
    return table
