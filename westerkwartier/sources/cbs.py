"""The CBS client: tables from the CBS OData v3 feed, through the cache.

:func:`fetch_table` downloads a CBS table, or part of it, with **codes** (never titles), its
topics, code lists, period status and table information, and returns a
:class:`~westerkwartier.table.CbsTable`. A repeated request is served from the cache
(:mod:`westerkwartier.sources.cache`) without any network traffic. When the v3 feed fails the
same request goes to the OData v4 service (:mod:`westerkwartier.sources.odata4`), and the other
way round for tables the catalogue marks as v4.

It talks to ``https://opendata.cbs.nl/ODataFeed/odata/<table>/<set>`` itself
(:mod:`westerkwartier.sources.transport`; ``cbsodata`` keeps all pages in memory and restarts a
failed download from page 1, and is only used for the catalogue search) and adds:

* a connect and a read time-out on every request;
* bounded retries with exponential back-off on broken answers, per page: a failed page is
  asked again on its own; a connection that cannot be made marks CBS unreachable for a
  cool-down period instead, so later tables go straight to the cache or the snapshot;
* requests sized to the need: a ``$filter`` with keys padded to their dimension's width, as
  CBS requires (an unpadded key silently returns nothing), region prefixes and a first year,
  a ``$select`` of the topics used, and a row estimate checked against a limit before any data
  is downloaded (:mod:`westerkwartier.sources.need`);
* topics chosen by key *stem*, resolved through ``DataProperties``;
* our own exceptions with actionable Dutch messages.

Errors
------
* HTTP 404 on ``TableInfos`` -> :class:`~westerkwartier.errors.CbsTableNotFound`.
* No connection, or retries exhausted -> :class:`~westerkwartier.errors.CbsUnavailable` (the
  caller may fall back on the snapshot); CBS marked unreachable ->
  :class:`~westerkwartier.errors.CbsUnreachable`, without a request.
* Valid JSON of an unexpected shape (no ``value``, a missing column, a ``DataProperties`` row
  without ``Key``), another 4xx such as 400 -> :class:`~westerkwartier.errors.CbsSchemaError`.
* A request above the row limit -> :class:`~westerkwartier.errors.CbsRequestTooLarge`.
* Offline and not cached -> :class:`~westerkwartier.errors.OfflineDataMissing`.

The parsing steps (``parse_*``, :func:`build_filter`, :func:`pad_key`) are pure functions of the
JSON rows, tested on committed payloads.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import sys
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

import cbsodata
import pandas as pd
import requests

from westerkwartier import settings
from westerkwartier.errors import (
    CbsError,
    CbsSchemaError,
    CbsTableNotFound,
    CbsUnavailable,
    DataIntegrityError,
    InputError,
    OfflineDataMissing,
)
from westerkwartier.sources import cache, transport
from westerkwartier.sources import need as planning
from westerkwartier.sources.need import PAGE_ROWS, Need
from westerkwartier.sources.table import DIMENSION_COLUMNS, TOPIC_COLUMNS, CbsTable

_LOG = logging.getLogger(__name__)

#: ``DataProperties`` types that are dimensions, and the type :class:`CbsTable` records.
DIMENSION_TYPES = {
    "Dimension": "Dimension",
    "TimeDimension": "TimeDimension",
    "GeoDimension": "GeoDimension",
    "GeoDetail": "GeoDimension",
}

#: CBS period ``Status`` -> our lower-case Dutch status.
PERIOD_STATUS = {
    "definitief": "definitief",
    "voorlopig": "voorlopig",
    "nader voorlopig": "nader voorlopig",
}

#: ``TableInfos`` fields renamed beyond plain snake_case.
INFO_RENAMES = {"Period": "period_description"}

_SCHEME_LOCK = threading.Lock()
_TABLE_ID = re.compile(r"^[0-9A-Za-z]{5,12}$")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


# =========================================================================================
# Pure parsing
# =========================================================================================
class Properties(NamedTuple):
    """What :func:`parse_data_properties` finds in ``DataProperties``.

    Attributes
    ----------
    topics : pandas.DataFrame
        ``key``, ``title``, ``unit``, ``decimals`` per topic, in table order.
    dimension_types : dict of str to str
        ``Dimension``, ``TimeDimension`` or ``GeoDimension`` (also for ``GeoDetail``) per
        dimension key, in table order.
    datatypes : dict of str to str
        CBS ``Datatype`` per topic key (``Long``, ``Double``, ``String``, ...).
    """

    topics: pd.DataFrame
    dimension_types: dict[str, str]
    datatypes: dict[str, str]


def _snake(name: str) -> str:
    return _CAMEL.sub("_", name).lower()


def parse_table_info(rows: Sequence[Mapping[str, Any]], table_id: str) -> dict[str, Any]:
    """Turn the ``TableInfos`` rows into the :attr:`CbsTable.info` dict.

    Keys become snake_case (``OutputStatus`` -> ``output_status``, ``Modified`` ->
    ``modified``); ``Period`` becomes ``period_description``; ``ID`` is dropped.

    Raises
    ------
    CbsSchemaError
        If there is no row.

    Examples
    --------
    >>> parse_table_info([{"ID": 0, "Title": "T", "OutputStatus": "Regulier"}], "1NED")
    {'title': 'T', 'output_status': 'Regulier'}
    """
    if not rows or not isinstance(rows[0], Mapping):
        raise CbsSchemaError(
            f"CBS gaf geen TableInfos voor tabel {table_id}; de tabel is mogelijk in "
            "onderhoud. Probeer het later opnieuw."
        )
    return {
        INFO_RENAMES.get(key, _snake(key)): value for key, value in rows[0].items() if key != "ID"
    }


def parse_data_properties(rows: Sequence[Mapping[str, Any]], table_id: str) -> Properties:
    """Find the dimensions and topics of a table in its ``DataProperties`` rows.

    ``TopicGroup`` rows (with an empty ``Key``) are skipped.

    Raises
    ------
    CbsSchemaError
        If a dimension or topic row has no ``Key`` (or no ``Type``), or there is no topic.
    """
    topics: list[dict[str, Any]] = []
    dimension_types: dict[str, str] = {}
    datatypes: dict[str, str] = {}
    for row in rows:
        kind = row.get("Type")
        if kind is None:
            raise CbsSchemaError(
                f"DataProperties van tabel {table_id} heeft een rij zonder 'Type' "
                f"(ID {row.get('ID')}); CBS heeft het formaat gewijzigd. Meld dit als issue."
            )
        if kind not in DIMENSION_TYPES and kind != "Topic":
            continue
        key = row.get("Key")
        if not isinstance(key, str) or not key.strip():
            raise CbsSchemaError(
                f"DataProperties van tabel {table_id}: {kind} {row.get('Title')!r} "
                f"(ID {row.get('ID')}) heeft geen 'Key'; CBS heeft het formaat gewijzigd. "
                "Meld dit als issue."
            )
        key = key.strip()
        if kind == "Topic":
            decimals = row.get("Decimals")
            topics.append(
                {
                    "key": key,
                    "title": str(row.get("Title") or key).strip(),
                    "unit": str(row.get("Unit") or "").strip(),
                    "decimals": int(decimals) if isinstance(decimals, int | float) else 0,
                }
            )
            datatypes[key] = str(row.get("Datatype") or "Double")
        else:
            dimension_types[key] = DIMENSION_TYPES[kind]
    if not topics:
        raise CbsSchemaError(
            f"DataProperties van tabel {table_id} bevat geen onderwerpen (Topic); controleer "
            "het tabelnummer op opendata.cbs.nl."
        )
    return Properties(pd.DataFrame(topics, columns=TOPIC_COLUMNS), dimension_types, datatypes)


def key_width(rows: Sequence[Mapping[str, Any]]) -> int:
    """Return the width CBS pads a dimension's keys to: the longest key in its code list.

    The keys are measured as CBS sends them (already padded).

    Examples
    --------
    >>> key_width([{"Key": "NL01  "}, {"Key": "GM1969"}])
    6
    """
    return max((len(str(r.get("Key") or "")) for r in rows), default=0)


def pad_key(code: str, width: int) -> str:
    """Pad a code with spaces to ``width`` characters, the form CBS filters need.

    Examples
    --------
    >>> pad_key("GM1969", 10)
    'GM1969    '
    """
    return str(code).strip().ljust(width)


def parse_codes(
    rows: Sequence[Mapping[str, Any]], dimension: str, table_id: str, *, time: bool = False
) -> pd.DataFrame:
    """Turn a dimension's code list into a frame of ``key`` (stripped) and ``title``.

    For the time dimension (``time=True``) a ``status`` column holds ``definitief``,
    ``voorlopig`` or ``nader voorlopig`` (from CBS ``Status``; missing means definitief),
    and the ``*``/``**`` marks are removed from titles.

    Raises
    ------
    CbsSchemaError
        If a row has no ``Key``.
    """
    records = []
    for row in rows:
        key = row.get("Key")
        if not isinstance(key, str):
            raise CbsSchemaError(
                f"De code-lijst {dimension} van tabel {table_id} heeft een rij zonder 'Key'; "
                "CBS heeft het formaat gewijzigd. Meld dit als issue."
            )
        title = str(row.get("Title") if row.get("Title") is not None else key).strip()
        record = {"key": key.strip(), "title": title}
        if time:
            record["title"] = title.rstrip("*").strip()
            raw = str(row.get("Status") or "Definitief").strip().lower()
            record["status"] = PERIOD_STATUS.get(raw, raw)
        records.append(record)
    columns = DIMENSION_COLUMNS + (["status"] if time else [])
    return pd.DataFrame(records, columns=columns)


def _literal(value: str) -> str:
    """Quote a string for OData (a quote inside is doubled)."""
    return "'" + value.replace("'", "''") + "'"


def build_filter(selection: Mapping[str, Sequence[str]], widths: Mapping[str, int]) -> str | None:
    """Build an OData ``$filter`` with keys padded to their dimension's width.

    Parameters
    ----------
    selection : mapping of str to sequence of str
        Codes per dimension, as typed (unpadded).
    widths : mapping of str to int
        Key width per dimension (:func:`key_width`).

    Returns
    -------
    str or None
        ``None`` when nothing is selected.

    Examples
    --------
    >>> build_filter({"RegioS": ["GM1969"], "Perioden": ["2022JJ00", "2023JJ00"]},
    ...              {"RegioS": 10, "Perioden": 8})
    "(RegioS eq 'GM1969    ') and ((Perioden eq '2022JJ00') or (Perioden eq '2023JJ00'))"
    """
    parts = []
    for dimension, codes in selection.items():
        width = widths.get(dimension, 0)
        terms = [f"({dimension} eq {_literal(pad_key(code, width))})" for code in codes]
        if not terms:
            continue
        parts.append(terms[0] if len(terms) == 1 else f"({' or '.join(terms)})")
    return " and ".join(parts) or None


def parse_typed_dataset(
    rows: Sequence[Mapping[str, Any]],
    table_id: str,
    dimensions: Sequence[str],
    datatypes: Mapping[str, str],
) -> pd.DataFrame:
    """Turn ``TypedDataSet`` rows into the tidy :attr:`CbsTable.data` frame.

    Dimension columns hold codes with padding stripped; numeric topics become float (``None``
    -> NaN); string topics are stripped. ``ID`` and columns not asked for are dropped.

    Parameters
    ----------
    rows : sequence of dict
        The ``value`` rows of all pages.
    table_id : str
        For messages.
    dimensions : sequence of str
        Dimension keys, in table order.
    datatypes : mapping of str to str
        CBS ``Datatype`` per topic key to keep, in table order.

    Raises
    ------
    CbsSchemaError
        If a dimension or topic column is missing from the rows, or a numeric topic holds
        text.
    """
    columns = list(dimensions) + list(datatypes)
    frame = pd.DataFrame(list(rows))
    if rows:
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise CbsSchemaError(
                f"De gegevens van tabel {table_id} missen kolom {missing[0]!r} "
                f"(ontbrekend: {', '.join(missing)}). CBS heeft de tabel gewijzigd; vraag de "
                "tabel opnieuw op of meld dit als issue."
            )
        frame = frame[columns].copy()
    else:
        frame = pd.DataFrame({c: pd.Series(dtype="str") for c in columns})
    for dim in dimensions:
        frame[dim] = frame[dim].astype("str").str.strip()
    for key, datatype in datatypes.items():
        if datatype.lower() == "string":
            stripped = frame[key].map(lambda v: v.strip() if isinstance(v, str) else v)
            frame[key] = stripped.astype("str")
            continue
        try:
            frame[key] = pd.to_numeric(frame[key], errors="raise").astype("float64")
        except (ValueError, TypeError) as err:
            raise CbsSchemaError(
                f"Onderwerp {key} van tabel {table_id} bevat tekst waar CBS getallen "
                f"({datatype}) belooft ({err}). Meld dit als issue."
            ) from err
    return frame.reset_index(drop=True)


# =========================================================================================
# HTTP: one set of a table, page by page (see westerkwartier.sources.transport)
# =========================================================================================
@contextlib.contextmanager
def _scheme() -> Iterator[None]:
    """Make cbsodata (used for the catalogue search) use http or https as the settings say.

    ``cbsodata.options.use_https`` is global: it is only touched when it differs from the
    setting (never in production, where both are https), under a lock, and restored.
    """
    want = bool(settings.cbs_https)
    if cbsodata.options.use_https == want:
        yield
        return
    with _SCHEME_LOCK:
        old = cbsodata.options.use_https
        cbsodata.options.use_https = want
        try:
            yield
        finally:
            cbsodata.options.use_https = old


def _set_url(table_id: str, name: str) -> str:
    return f"{transport.scheme()}://{settings.cbs_host}/ODataFeed/odata/{table_id}/{name}"


def _not_found(table_id: str):
    def make() -> CbsTableNotFound:
        return CbsTableNotFound(
            f"Tabel {table_id} bestaat niet bij CBS; controleer het nummer op "
            "opendata.cbs.nl of zoek met "
            "`westerkwartier.sources.cbs.search_tables('trefwoord')`."
            " CBS publiceert reeksen soms opnieuw onder een nieuw nummer."
        )

    return make


def _params(select: Sequence[str] | None, filters: str | None) -> dict[str, str]:
    params = {"$format": "json"}
    if select:
        params["$select"] = ",".join(select)
    if filters:
        params["$filter"] = filters
    return params


def _pages(
    table_id: str,
    name: str,
    select: Sequence[str] | None = None,
    filters: str | None = None,
    session: requests.Session | None = None,
) -> Iterator[list[dict[str, Any]]]:
    return transport.pages(
        _set_url(table_id, name),
        _params(select, filters),
        next_key="odata.nextLink",
        host=settings.cbs_host,
        table_id=table_id,
        what=name,
        session=session,
        not_found=_not_found(table_id) if name == "TableInfos" else None,
    )


def get_set(
    table_id: str,
    name: str,
    select: Sequence[str] | None = None,
    filters: str | None = None,
    *,
    session: requests.Session | None = None,
) -> list[dict[str, Any]]:
    """Download one set of a table from the OData v3 bulk feed, all pages.

    Parameters
    ----------
    table_id : str
        CBS table id.
    name : str
        ``TableInfos``, ``DataProperties``, a dimension name or ``TypedDataSet``.
    select : sequence of str, optional
        Columns (``$select``).
    filters : str, optional
        An OData ``$filter`` (see :func:`build_filter`).
    session : requests.Session, optional
        Reuse one connection.

    Returns
    -------
    list of dict
        The raw rows (keys still padded).

    Raises
    ------
    CbsTableNotFound
        HTTP 404 on ``TableInfos``.
    CbsSchemaError
        HTTP 4xx (other than 404 on TableInfos and 429), or JSON without ``value``.
    CbsUnavailable
        See :func:`westerkwartier.sources.transport.get_json`.
    """
    rows: list[dict[str, Any]] = []
    for page in _pages(table_id, name, select, filters, session):
        rows.extend(page)
    return rows


def probe() -> bool:
    """Check once, quickly, whether CBS answers (the v3 catalogue, else the v4 service).

    Returns ``False`` (and marks the hosts unreachable for :data:`settings.cbs_cooldown`)
    when neither answers. Costs one short request, or two when v3 does not answer.
    """
    if transport.probe(settings.cbs_host, "/ODataCatalog/Tables?$top=1&$format=json"):
        return True
    return transport.probe(settings.odata4_host, "/odata/v1/CBS/Datasets?$top=1")


def search_tables(text: str) -> pd.DataFrame:
    """Search the CBS catalogue for tables whose id, title or summary contains ``text``.

    Parameters
    ----------
    text : str
        A word, case-insensitive (``"woz"``).

    Returns
    -------
    pandas.DataFrame
        ``identifier``, ``title``, ``short_title``, ``period``, ``modified``,
        ``output_status`` per table.

    Raises
    ------
    CbsUnavailable
        When CBS cannot be reached (no retries: this is an interactive helper).
    """
    if settings.offline:
        raise CbsUnavailable(
            "Zoeken in de CBS-catalogus kan niet offline; zet "
            "`westerkwartier.settings.offline = False`."
        )
    try:
        with _scheme():
            rows = cbsodata.get_table_list(catalog_url=settings.cbs_host, timeout=settings.timeout)
    except (requests.RequestException, json.JSONDecodeError) as err:
        raise CbsUnavailable(
            transport.unavailable_message(
                settings.cbs_host, "(catalogus)", "de tabellenlijst", 1, type(err).__name__
            )
        ) from err
    needle = text.strip().lower()
    out = []
    for row in rows:
        haystack = " ".join(
            str(row.get(k) or "") for k in ("Identifier", "Title", "ShortTitle", "Summary")
        )
        if needle in haystack.lower():
            out.append(
                {
                    "identifier": row.get("Identifier"),
                    "title": row.get("Title"),
                    "short_title": row.get("ShortTitle"),
                    "period": row.get("Period"),
                    "modified": row.get("Modified"),
                    "output_status": row.get("OutputStatus"),
                }
            )
    columns = ["identifier", "title", "short_title", "period", "modified", "output_status"]
    return pd.DataFrame(out, columns=columns)


# =========================================================================================
# Progress
# =========================================================================================
class Progress:
    """A tqdm bar over the requests of one table when interactive, log lines otherwise."""

    def __init__(self, table_id: str) -> None:
        self.table_id = table_id
        self.bar = None
        if settings.progress and _stderr_is_tty():
            from tqdm.auto import tqdm

            self.bar = tqdm(desc=f"CBS {table_id}", unit=" verzoek", leave=False)

    def total(self, n: int) -> None:
        """Set the number of steps of the bar."""
        if self.bar is not None:
            self.bar.total = n
            self.bar.refresh()

    def step(self, label: str, rows: int) -> None:
        """One more set received (``rows`` rows)."""
        if self.bar is not None:
            self.bar.set_postfix_str(f"{label}: {rows} rijen", refresh=False)
            self.bar.update(1)
        else:
            _LOG.info("CBS %s: %s opgehaald (%d rijen)", self.table_id, label, rows)

    def page(self, label: str, number: int, rows: int) -> None:
        """One more page of data received (``rows`` so far)."""
        if self.bar is not None:
            self.bar.set_postfix_str(f"{label} pagina {number}: {rows} rijen", refresh=False)
            self.bar.update(1)
        else:
            _LOG.debug("CBS %s: %s pagina %d (%d rijen)", self.table_id, label, number, rows)

    def close(self) -> None:
        """Remove the bar."""
        if self.bar is not None:
            self.bar.close()


def _stderr_is_tty() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


# =========================================================================================
# download and fetch_table
# =========================================================================================
def download(table_id: str, query: Mapping[str, Any]) -> CbsTable:
    """Download a table (or the part a query selects) from the OData v3 feed, without cache.

    The metadata come first (``TableInfos``, ``DataProperties``, one code list per
    dimension); the query is then planned in codes (:func:`westerkwartier.sources.need.plan`),
    its rows estimated and checked against :data:`settings.max_rows`, and the data fetched
    page by page with a padded ``$filter`` and a ``$select`` of the topics needed.

    Parameters
    ----------
    table_id : str
        CBS table id.
    query : dict
        From :func:`westerkwartier.sources.cache.normalise_query`.

    Returns
    -------
    CbsTable
        With ``source="cbs"``; ``info["retrieved"]`` holds the UTC time of the download and
        ``info["api"]`` is ``odata-v3``.

    Raises
    ------
    CbsTableNotFound, CbsUnavailable, CbsSchemaError, TopicNotFound, CbsRequestTooLarge
        See :func:`get_set`, :func:`westerkwartier.sources.need.plan` and
        :meth:`westerkwartier.sources.need.Plan.check_limit`.
    """
    progress = Progress(table_id)
    session = requests.Session()
    try:
        info_rows = get_set(table_id, "TableInfos", session=session)
        progress.step("TableInfos", len(info_rows))
        info = parse_table_info(info_rows, table_id)
        prop_rows = get_set(table_id, "DataProperties", session=session)
        progress.step("DataProperties", len(prop_rows))
        props = parse_data_properties(prop_rows, table_id)
        progress.total(3 + len(props.dimension_types))

        dimensions: dict[str, pd.DataFrame] = {}
        widths: dict[str, int] = {}
        for dim, kind in props.dimension_types.items():
            rows = get_set(table_id, dim, session=session)
            progress.step(dim, len(rows))
            dimensions[dim] = parse_codes(rows, dim, table_id, time=kind == "TimeDimension")
            widths[dim] = key_width(rows)

        request = planning.plan(query, table_id, props.topics, props.dimension_types, dimensions)
        request.check_limit(table_id)
        topic_keys = request.topics
        select = None
        if "topics" in query or "need" in query:
            select = list(props.dimension_types) + topic_keys
        filter_text = planning.filter_text(
            request, lambda dim, code: _literal(pad_key(code, widths.get(dim, 0)))
        )
        _LOG.debug("CBS %s: $filter=%s $select=%s", table_id, filter_text, select)
        progress.total(3 + len(props.dimension_types) + max(1, -(-request.rows // PAGE_ROWS)))
        rows = []
        for number, page in enumerate(
            _pages(table_id, "TypedDataSet", select, filter_text, session), start=1
        ):
            rows.extend(page)
            progress.page("TypedDataSet", number, len(rows))
        progress.step("TypedDataSet", len(rows))
    finally:
        progress.close()
        session.close()

    datatypes = {k: props.datatypes[k] for k in topic_keys}
    data = parse_typed_dataset(rows, table_id, list(props.dimension_types), datatypes)
    if data.empty:
        _LOG.warning(
            "Tabel %s leverde 0 rijen voor %s; controleer de codes en perioden.",
            table_id,
            json.dumps(dict(query), ensure_ascii=False),
        )
    topics = props.topics.loc[props.topics["key"].isin(topic_keys)].reset_index(drop=True)
    info["retrieved"] = datetime.now(UTC).replace(microsecond=0).isoformat()
    info["api"] = "odata-v3"
    return CbsTable(
        table_id=table_id,
        data=data,
        topics=topics,
        dimensions=dimensions,
        dimension_types=dict(props.dimension_types),
        info=info,
        source="cbs",
    )


#: The live sources a table can come from, by catalogue name.
APIS = ("v3", "v4")


def download_live(table_id: str, query: Mapping[str, Any], api: str | None = None) -> CbsTable:
    """Download from the preferred CBS service; when it fails, from the other one.

    Parameters
    ----------
    api : {"v3", "v4"}, optional
        The preferred service (the catalogue's ``api`` of the table); default ``v3``. OData v4
        (``datasets.cbs.nl``) is the fallback of v3 and the other way round, when the first
        raises :class:`CbsUnavailable` or :class:`CbsTableNotFound`.

    Raises
    ------
    CbsUnavailable, CbsTableNotFound
        The first service's error, when the other failed too.
    """
    from westerkwartier.sources import odata4

    api = api or "v3"
    if api not in APIS:
        raise InputError(f"Onbekende CBS-dienst {api!r}; kies {' of '.join(APIS)}.")
    clients = {"v3": download, "v4": odata4.download}
    first, second = (api, "v4" if api == "v3" else "v3")
    try:
        return clients[first](table_id, query)
    except (CbsUnavailable, CbsTableNotFound) as err:
        try:
            table = clients[second](table_id, query)
        except CbsError as other:
            _LOG.debug("Tabel %s ook niet via OData %s: %s", table_id, second, other)
            raise err from None
        _LOG.info(
            "Tabel %s via OData %s opgehaald (OData %s faalde: %s)", table_id, second, first, err
        )
        return table


def _cached(table_id: str, query: cache.Query) -> CbsTable | None:
    """Return the cached table for a query; for a need, else the cached whole table."""
    cached = cache.load(table_id, query)
    if cached is None and "need" in query:
        cached = cache.load(table_id, {})
    return cached


def fetch_table(
    table_id: str,
    regions: str | Iterable[str] | None = None,
    periods: str | int | Iterable[str | int] | None = None,
    topics: str | Iterable[str] | None = None,
    *,
    filters: Mapping[str, str | Iterable[str]] | None = None,
    need: Need | None = None,
    refresh: bool = False,
    api: str | None = None,
) -> CbsTable:
    """Return a CBS table, or part of it, from the cache or else from CBS.

    Parameters
    ----------
    table_id : str
        CBS table id (``85036NED``).
    regions : str or iterable of str, optional
        Region codes as typed (``"GM1969"``, ``["GM1969", "NL01"]``); they are padded to the
        width of the table's region dimension. ``None``: all regions.
    periods : str, int or iterable, optional
        Period codes (``2023JJ00``) or years (``2023``). ``None``: all periods.
    topics : str or iterable of str, optional
        Topic key stems (``"GemiddeldeWOZWaardeVanWoningen"``) or full keys. ``None``: all
        topics. :attr:`CbsTable.topics` then lists only the chosen topics.
    filters : mapping of str to codes, optional
        Other dimensions, e.g. ``{"Geslacht": ["T001038"]}``.
    need : Need, optional
        Instead of the four selections above: what the indicators need from the table
        (:class:`westerkwartier.sources.need.Need`); the indicator panel passes it.
    refresh : bool
        Download again even when the request is cached (ignored when offline).
    api : {"v3", "v4"}, optional
        The CBS service to ask first (default ``v3``); the other one is the fallback.

    Returns
    -------
    CbsTable
        Dimension columns hold codes without padding; numeric topics are float with NaN for
        missing values; ``source`` is ``"cbs"``.

    Raises
    ------
    OfflineDataMissing
        Offline (:data:`settings.offline`) and the request is not cached.
    DataIntegrityError
        Offline and the cached copy is damaged. (Online, a damaged copy is downloaded again.)
    CbsTableNotFound
        CBS does not know the table.
    CbsUnavailable
        CBS could not be reached (or counts as unreachable after an earlier failure); the
        caller may use the snapshot.
    CbsRequestTooLarge
        The request would bring more rows than :data:`settings.max_rows`.
    TopicNotFound
        A topic stem is not in the table.
    CbsSchemaError
        The table does not have the expected shape, or a selection names a dimension the table
        lacks.
    InputError
        An empty selection, an unreadable period, or a need together with other selections.

    Examples
    --------
    This asks CBS (or reads the cache), so it is not run as a doctest; offline,
    :func:`westerkwartier.sources.data.get_table` also serves the snapshot::

        woz = fetch_table(
            "85036NED", regions=["GM1969", "NL01"], topics=["GemiddeldeWOZWaardeVanWoningen"]
        )
        woz.data.head()
    """
    table_id = str(table_id).strip()
    if not _TABLE_ID.match(table_id):
        raise CbsTableNotFound(
            f"{table_id!r} is geen geldig CBS-tabelnummer (verwacht iets als 85036NED); "
            "zoek het nummer op opendata.cbs.nl of met `westerkwartier.sources.cbs.search_tables`."
        )
    if need is not None and any(x is not None for x in (regions, periods, topics, filters)):
        raise InputError(
            "Geef een tabelvraag óf als need óf als regions/periods/topics/filters, niet allebei."
        )
    query = cache.normalise_query(regions, periods, topics, filters, need=need)
    if settings.offline or not refresh:
        try:
            cached = _cached(table_id, query)
        except DataIntegrityError as err:
            if settings.offline:
                raise DataIntegrityError(
                    f"De cache-kopie van tabel {table_id} ({cache.entry_name(table_id, query)}) "
                    f"is beschadigd en offline-modus staat aan, dus hij kan niet opnieuw worden "
                    f"opgehaald. Zet `westerkwartier.settings.offline = False` om hem opnieuw te "
                    f"downloaden, of verwijder hem met `westerkwartier.sources.cache.clear"
                    f"({table_id!r})`. ({err})"
                ) from err
            _LOG.warning(
                "Cache-kopie van tabel %s is beschadigd (%s); opnieuw ophalen bij CBS.",
                table_id,
                err,
            )
            cached = None
        if cached is not None:
            if refresh:
                _LOG.warning("Offline: refresh genegeerd, tabel %s uit de cache.", table_id)
            return cached
    if settings.offline:
        raise OfflineDataMissing(
            f"Tabel {table_id} staat niet in de cache ({settings.cache_dir}) voor deze selectie "
            "en offline-modus staat aan. Haal hem één keer online op (zet "
            "`westerkwartier.settings.offline = False` of WESTERKWARTIER_OFFLINE=0 en vraag "
            "dezelfde selectie opnieuw), of gebruik de snapshot."
        )
    table = download_live(table_id, query, api)
    if not table.data.empty:  # an empty answer may be a CBS glitch: never cache it
        cache.save(table, query)
    return table
