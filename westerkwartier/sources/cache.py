"""Cache of tables downloaded from CBS, in :data:`westerkwartier.settings.cache_dir`.

Every request (a table id plus a query: regions, periods, topics, other dimension filters) is
stored once, as ``<TABLE>_<hash>.parquet`` + ``<TABLE>_<hash>.json`` written with
:func:`westerkwartier.sources.store.write_table` (atomic, with the sha256 of the data). The hash is
taken
over the *normalised* query, so ``regions=["GM1969", "NL01"]`` and ``regions=["NL01 ",
"GM1969"]`` share an entry.

``manifest.json`` indexes the entries: per entry the source, the query, when it was fetched
(UTC, ISO 8601), CBS's ``Modified`` stamp of the table, the number of rows and the sha256 of the
data. The manifest is rewritten atomically under an exclusive lock (``fcntl.flock`` on
``.manifest.lock``), so concurrent writers (two notebooks, a scheduled run) never corrupt it.
The pair of files is the truth; the manifest is an index for people and the command line.

Examples
--------
The cache is the user's own, so this is not run as a doctest::

    from westerkwartier.sources import cache

    cache.entries()  # what is cached: one row per request
    cache.clear()  # remove every entry
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from westerkwartier import settings
from westerkwartier.errors import CbsSchemaError, InputError
from westerkwartier.sources.periods import code_from_title
from westerkwartier.sources.store import dumps_json, read_table, write_bytes_atomic, write_table
from westerkwartier.sources.table import DIMENSION_COLUMNS, TOPIC_COLUMNS, CbsTable

_LOG = logging.getLogger(__name__)

#: Name of the index file in the cache folder.
MANIFEST = "manifest.json"

#: Lock file guarding manifest updates.
LOCK = ".manifest.lock"

#: Format version of the manifest.
MANIFEST_FORMAT = 1

#: Columns of :func:`entries`.
ENTRY_COLUMNS = [
    "name",
    "table_id",
    "source",
    "query",
    "fetched_at",
    "modified",
    "rows",
    "sha256",
]

_ENTRY_FILE = re.compile(r"^[A-Za-z0-9]+_[0-9a-f]{12}\.(parquet|json)$")

Query = dict[str, Any]


def _codes(name: str, values: str | Iterable[str] | None) -> list[str] | None:
    if values is None:
        return None
    if isinstance(values, str):
        values = [values]
    cleaned = sorted({str(v).strip() for v in values if str(v).strip()})
    if not cleaned:
        raise InputError(
            f"Lege selectie voor {name}: geef minstens één code, of laat {name} weg om alles "
            "op te halen."
        )
    return cleaned


def normalise_query(
    regions: str | Iterable[str] | None = None,
    periods: str | int | Iterable[str | int] | None = None,
    topics: str | Iterable[str] | None = None,
    filters: Mapping[str, str | Iterable[str]] | None = None,
    *,
    need: Any = None,
) -> Query:
    """Return the canonical form of a request, used as cache key and by the downloader.

    Codes are stripped of spaces, de-duplicated and sorted; regions and periods are upper-cased;
    periods may be given as years (``2023`` -> ``2023JJ00``). Arguments that are ``None`` are
    left out, so the whole table has the query ``{}``.

    Parameters
    ----------
    regions : str or iterable of str, optional
        Region codes as typed (``GM1969``).
    periods : str, int or iterable, optional
        Period codes (``2023JJ00``) or years (``2023``).
    topics : str or iterable of str, optional
        Topic key stems (``GemiddeldeWOZWaardeVanWoningen``) or full keys.
    filters : mapping of str to codes, optional
        Other dimensions and their codes, e.g. ``{"Geslacht": ["T001038"]}``.
    need : westerkwartier.sources.need.Need, optional
        What the indicator panel needs from the table; the query is then ``{"need": ...}``
        (:meth:`~westerkwartier.sources.need.Need.as_query`) and the other arguments are not
        used.

    Returns
    -------
    dict
        JSON-ready query.

    Raises
    ------
    InputError
        If a selection is an empty list, or a period is not a year or period code.

    Examples
    --------
    >>> normalise_query(regions=["gm1969 ", "NL01"], periods=[2023])
    {'regions': ['GM1969', 'NL01'], 'periods': ['2023JJ00']}
    """
    if need is not None:
        return {"need": need.as_query()}
    query: Query = {}
    if (codes := _codes("regions", regions)) is not None:
        query["regions"] = sorted({c.upper() for c in codes})
    if periods is not None:
        if isinstance(periods, str | int):
            periods = [periods]
        raw = _codes("periods", [str(p) for p in periods]) or []
        try:
            query["periods"] = sorted({code_from_title(p.upper()) for p in raw})
        except CbsSchemaError as err:  # raised by periods; here a person typed it
            raise InputError(
                f"Onbekende periode in {raw}: gebruik een jaar (2023) of een CBS-periodecode "
                "(2023JJ00, 2023KW01, 2023MM01)."
            ) from err
    if (codes := _codes("topics", topics)) is not None:
        query["topics"] = codes
    if filters:
        query["filters"] = {
            str(dim).strip(): _codes(f"filters[{dim!r}]", values)
            for dim, values in sorted(filters.items())
        }
    return query


def entry_name(table_id: str, query: Query) -> str:
    """Return the file stem of a cache entry: table id + 12 hex digits of the query's hash.

    Examples
    --------
    >>> entry_name("85036NED", {})
    '85036NED_44136fa355b3'
    """
    text = json.dumps(query, sort_keys=True, separators=(",", ":"))
    return f"{table_id}_{hashlib.sha256(text.encode('utf-8')).hexdigest()[:12]}"


def _dir() -> Path:
    return Path(settings.cache_dir)


@contextlib.contextmanager
def _locked() -> Iterator[Path]:
    directory = _dir()
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / LOCK, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield directory
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _read_manifest(directory: Path) -> dict[str, Any]:
    path = directory / MANIFEST
    if not path.is_file():
        return {"format": MANIFEST_FORMAT, "entries": {}}
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(manifest.get("entries"), dict):
            raise ValueError("entries ontbreekt")
        return manifest
    except (ValueError, AttributeError) as err:
        _LOG.warning(
            "Cache-index %s is onleesbaar (%s); hij wordt opnieuw opgebouwd. De tabellen zelf "
            "blijven bruikbaar.",
            path,
            err,
        )
        return {"format": MANIFEST_FORMAT, "entries": {}}


def load(table_id: str, query: Query) -> CbsTable | None:
    """Return the cached table for a request, or ``None`` when it is not cached.

    Parameters
    ----------
    table_id : str
        CBS table id.
    query : dict
        A query from :func:`normalise_query`.

    Raises
    ------
    DataIntegrityError
        If the entry exists but its data does not match its checksum, or its files are damaged.
    """
    directory = _dir()
    name = entry_name(table_id, query)
    if not (directory / f"{name}.json").is_file():
        return None
    try:
        table = read_table(directory, name)
    except FileNotFoundError:  # metadata without data: an interrupted write
        return None
    # store's JSON sorts keys: put the columns back in their documented order
    table.topics = _ordered(table.topics, TOPIC_COLUMNS)
    table.dimensions = {
        dim: _ordered(codes, DIMENSION_COLUMNS + ["status"])
        for dim, codes in table.dimensions.items()
    }
    return table


def _ordered(frame: pd.DataFrame, first: list[str]) -> pd.DataFrame:
    head = [c for c in first if c in frame.columns]
    return frame[head + [c for c in frame.columns if c not in head]]


def save(table: CbsTable, query: Query) -> dict[str, Any]:
    """Store a downloaded table under its request and record it in the manifest.

    Parameters
    ----------
    table : CbsTable
        The table as returned by the downloader.
    query : dict
        A query from :func:`normalise_query`.

    Returns
    -------
    dict
        The manifest entry (``source``, ``query``, ``fetched_at``, ``modified``, ``rows``,
        ``sha256``, ``files``).
    """
    name = entry_name(table.table_id, query)
    with _locked() as directory:
        written = write_table(table, directory, name)
        entry = {
            "table_id": table.table_id,
            "source": table.source,
            "query": query,
            "fetched_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
            "modified": table.info.get("modified"),
            "rows": written["rows"],
            "sha256": written["sha256"],
            "files": written["files"],
        }
        manifest = _read_manifest(directory)
        manifest["entries"][name] = entry
        manifest["format"] = MANIFEST_FORMAT
        write_bytes_atomic(directory / MANIFEST, dumps_json(manifest))
    _LOG.debug("Tabel %s opgeslagen in de cache als %s", table.table_id, name)
    return entry


def entries() -> pd.DataFrame:
    """Return the manifest as a frame, one row per cached request.

    Returns
    -------
    pandas.DataFrame
        Columns ``name``, ``table_id``, ``source``, ``query`` (compact JSON), ``fetched_at``,
        ``modified``, ``rows``, ``sha256``; sorted by table id and name.
    """
    manifest = _read_manifest(_dir())
    rows = []
    for name, entry in manifest["entries"].items():
        rows.append(
            {
                "name": name,
                "table_id": entry.get("table_id"),
                "source": entry.get("source"),
                "query": json.dumps(entry.get("query", {}), sort_keys=True, ensure_ascii=False),
                "fetched_at": entry.get("fetched_at"),
                "modified": entry.get("modified"),
                "rows": entry.get("rows"),
                "sha256": entry.get("sha256"),
            }
        )
    frame = pd.DataFrame(rows, columns=ENTRY_COLUMNS)
    return frame.sort_values(["table_id", "name"], ignore_index=True)


def clear(table_id: str | None = None) -> int:
    """Remove cached tables (all, or those of one table id) and update the manifest.

    Parameters
    ----------
    table_id : str, optional
        Only remove the entries of this table.

    Returns
    -------
    int
        Number of entries removed.
    """
    directory = _dir()
    if not directory.is_dir():
        return 0
    with _locked() as directory:
        manifest = _read_manifest(directory)
        names = {p.name.rsplit(".", 1)[0] for p in directory.iterdir() if _ENTRY_FILE.match(p.name)}
        names |= set(manifest["entries"])
        if table_id is not None:
            names = {n for n in names if n.rsplit("_", 1)[0] == table_id}
        for name in names:
            for suffix in (".parquet", ".json"):
                (directory / f"{name}{suffix}").unlink(missing_ok=True)
            manifest["entries"].pop(name, None)
        for stale in directory.glob(".*.tmp"):  # left by a killed writer
            stale.unlink(missing_ok=True)
        if manifest["entries"]:
            write_bytes_atomic(directory / MANIFEST, dumps_json(manifest))
        else:
            (directory / MANIFEST).unlink(missing_ok=True)
    return len(names)
