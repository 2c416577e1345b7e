"""The CBS client: tables from the CBS OData v3 feed, through the cache.

:func:`fetch_table` downloads a CBS table, or part of it, with **codes** (never titles), its
topics, code lists, period status and table information, and returns a
:class:`~westerkwartier.table.CbsTable`. A repeated request is served from the cache
(:mod:`westerkwartier.sources.cache`) without any network traffic.

It is built on ``cbsodata`` (``get_meta``, never ``get_data``, which replaces codes by titles)
and adds what ``cbsodata`` lacks:

* a time-out on every request (:data:`settings.timeout <westerkwartier.settings.timeout>`);
* bounded retries with exponential back-off (:data:`~westerkwartier.settings.retries`
  attempts in total, waits of ``backoff * 2**n`` seconds or the server's ``Retry-After``)
  on connection errors, time-outs, HTTP 5xx and 429, and on unreadable (truncated, non-JSON)
  answers, which are transport failures;
* filters with keys padded to their dimension's width, as CBS requires (an unpadded key
  silently returns nothing);
* topics chosen by key *stem*, resolved through ``DataProperties``;
* our own exceptions with actionable Dutch messages.

Errors
------
* HTTP 404 on ``TableInfos`` -> :class:`~westerkwartier.errors.CbsTableNotFound`.
* Retries exhausted -> :class:`~westerkwartier.errors.CbsUnavailable` (the caller may fall
  back on the snapshot).
* Valid JSON of an unexpected shape (no ``value``, a missing column, a ``DataProperties`` row
  without ``Key``), another 4xx such as 400 -> :class:`~westerkwartier.errors.CbsSchemaError`.
* Offline and not cached -> :class:`~westerkwartier.errors.OfflineDataMissing`.

The parsing steps (``parse_*``, :func:`build_filter`, :func:`pad_key`) are pure functions of the
JSON rows, tested on committed payloads.
"""

from __future__ import annotations

import contextlib
import email.utils
import json
import logging
import re
import sys
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

import cbsodata
import pandas as pd
import requests

from westerkwartier import settings
from westerkwartier.errors import (
    CbsSchemaError,
    CbsTableNotFound,
    CbsUnavailable,
    DataIntegrityError,
    OfflineDataMissing,
)
from westerkwartier.sources import cache
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

#: Longest wait honoured from a ``Retry-After`` header, in seconds.
MAX_RETRY_AFTER = 60.0

#: ``time.sleep``, replaceable in tests to record the waits.
_sleep = time.sleep

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
# HTTP (through cbsodata) with time-out, retries and our errors
# =========================================================================================
@contextlib.contextmanager
def _scheme() -> Iterator[None]:
    """Make cbsodata use http or https as :data:`settings.cbs_https` says.

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


def _status(err: requests.HTTPError) -> tuple[int | None, requests.Response | None]:
    response = err.response
    if response is None and isinstance(err.__cause__, requests.HTTPError):
        response = err.__cause__.response
    return (response.status_code if response is not None else None), response


def _retry_after(response: requests.Response | None) -> float:
    """Seconds from a ``Retry-After`` header (seconds or HTTP date), 0 when absent."""
    if response is None:
        return 0.0
    value = (response.headers.get("Retry-After") or "").strip()
    if not value:
        return 0.0
    try:
        seconds = float(value)
    except ValueError:
        try:
            moment = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return 0.0
        seconds = (moment - datetime.now(UTC)).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def _unavailable(table_id: str, name: str, attempts: int, reason: str) -> CbsUnavailable:
    return CbsUnavailable(
        f"CBS is niet bereikbaar: {reason} bij het ophalen van {name} van tabel {table_id} "
        f"({attempts} poging{'en' if attempts != 1 else ''}, host {settings.cbs_host}). "
        "Gegevens in de cache of de snapshot blijven bruikbaar: zet "
        "`westerkwartier.settings.offline = True` (of WESTERKWARTIER_OFFLINE=1) om zonder "
        "netwerk te werken, of probeer het later opnieuw."
    )


def get_set(
    table_id: str,
    name: str,
    *,
    select: Sequence[str] | None = None,
    filters: str | None = None,
) -> list[dict[str, Any]]:
    """Download one set of a table (all pages) with time-out and retries.

    Parameters
    ----------
    table_id : str
        CBS table id.
    name : str
        ``TableInfos``, ``DataProperties``, ``TypedDataSet`` or a dimension key.
    select : sequence of str, optional
        Columns (``$select``).
    filters : str, optional
        ``$filter`` (see :func:`build_filter`).

    Returns
    -------
    list of dict
        The rows (``value``) of all pages.

    Raises
    ------
    CbsTableNotFound
        HTTP 404 on ``TableInfos`` (the first request for a table).
    CbsSchemaError
        HTTP 404 on another set, another 4xx (400: the query does not fit the table), or a
        JSON answer without ``value``.
    CbsUnavailable
        When all :data:`settings.retries` attempts failed on connection errors, time-outs,
        HTTP 5xx/429 or unreadable answers.
    """
    attempts = max(1, int(settings.retries))
    kwargs: dict[str, Any] = {"timeout": settings.timeout}
    if select:
        kwargs["select"] = list(select)
    if filters:
        kwargs["filters"] = filters
    reason = "onbekende fout"
    last: BaseException | None = None
    for attempt in range(1, attempts + 1):
        wait = 0.0
        try:
            with _scheme():
                return cbsodata.get_meta(table_id, name, catalog_url=settings.cbs_host, **kwargs)
        except requests.HTTPError as err:
            status, response = _status(err)
            if status == 404 and name == "TableInfos":
                raise CbsTableNotFound(
                    f"Tabel {table_id} bestaat niet bij CBS; controleer het nummer op "
                    "opendata.cbs.nl of zoek met "
                    "`westerkwartier.sources.cbs.search_tables('trefwoord')`."
                    " CBS publiceert reeksen soms opnieuw onder een nieuw nummer."
                ) from err
            if status is not None and 400 <= status < 500 and status != 429:
                raise CbsSchemaError(
                    f"CBS weigerde de vraag naar {name} van tabel {table_id} (HTTP {status}). "
                    "Controleer de gevraagde onderwerpen en codes; ververs de cache met "
                    "refresh=True als de tabel is gewijzigd."
                ) from err
            reason, last = f"HTTP-fout {status}", err
            wait = _retry_after(response)
        except requests.Timeout as err:
            reason, last = f"geen antwoord binnen {settings.timeout:g} s", err
        except requests.ConnectionError as err:
            reason, last = "verbinding mislukt of verbroken", err
        except requests.RequestException as err:  # e.g. ChunkedEncodingError: cut-off body
            reason, last = f"antwoord afgebroken ({type(err).__name__})", err
        except json.JSONDecodeError as err:  # truncated or HTML answer: transport failure
            reason, last = "onleesbaar antwoord (geen volledige JSON)", err
        except (KeyError, TypeError) as err:  # valid JSON without "value"
            raise CbsSchemaError(
                f"Het antwoord van CBS op {name} van tabel {table_id} heeft niet de "
                f"verwachte OData-vorm (geen 'value'). Meld dit als issue."
            ) from err
        _LOG.warning("CBS %s/%s: %s (poging %d van %d)", table_id, name, reason, attempt, attempts)
        if attempt < attempts:
            _sleep(max(float(settings.backoff) * 2 ** (attempt - 1), wait))
    raise _unavailable(table_id, name, attempts, reason) from last


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
        raise _unavailable("(catalogus)", "de tabellenlijst", 1, type(err).__name__) from err
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
class _Progress:
    """A tqdm bar over the requests of one table when interactive, log lines otherwise."""

    def __init__(self, table_id: str) -> None:
        self.table_id = table_id
        self.bar = None
        if settings.progress and _stderr_is_tty():
            from tqdm.auto import tqdm

            self.bar = tqdm(desc=f"CBS {table_id}", unit=" verzoek", leave=False)

    def total(self, n: int) -> None:
        if self.bar is not None:
            self.bar.total = n
            self.bar.refresh()

    def step(self, label: str, rows: int) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(f"{label}: {rows} rijen", refresh=False)
            self.bar.update(1)
        else:
            _LOG.info("CBS %s: %s opgehaald (%d rijen)", self.table_id, label, rows)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _stderr_is_tty() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


# =========================================================================================
# fetch_table
# =========================================================================================
def _selection(
    query: Mapping[str, Any],
    dimension_types: Mapping[str, str],
    dimensions: Mapping[str, pd.DataFrame],
    table_id: str,
) -> dict[str, list[str]]:
    """Map a normalised query onto the table's dimensions."""

    def only(kind: str, label: str) -> str:
        names = [d for d, t in dimension_types.items() if t == kind]
        if len(names) != 1:
            raise CbsSchemaError(
                f"Tabel {table_id} heeft {'geen' if not names else 'meer dan één'} "
                f"{label} ({', '.join(dimension_types)}); gebruik filters={{dimensie: codes}}."
            )
        return names[0]

    selection: dict[str, list[str]] = {}
    if "regions" in query:
        selection[only("GeoDimension", "regiodimensie")] = list(query["regions"])
    if "periods" in query:
        selection[only("TimeDimension", "periodedimensie")] = list(query["periods"])
    for dim, codes in (query.get("filters") or {}).items():
        if dim not in dimension_types:
            raise CbsSchemaError(
                f"Tabel {table_id} heeft geen dimensie {dim!r}; wel: {', '.join(dimension_types)}."
            )
        selection[dim] = sorted(set(selection.get(dim, [])) | set(codes))
    for dim, codes in selection.items():
        known = set(dimensions[dim]["key"])
        unknown = [c for c in codes if c not in known]
        if unknown:
            _LOG.warning(
                "Tabel %s, dimensie %s kent %s niet; daarvoor komen geen rijen terug. "
                "Controleer de codes (regio-indeling van deze tabelversie?).",
                table_id,
                dim,
                ", ".join(unknown),
            )
    return selection


def _resolve_topics(topics: pd.DataFrame, stems: Iterable[str], table_id: str) -> list[str]:
    probe = CbsTable(table_id, pd.DataFrame(), topics, {})
    wanted = {probe.topic(s) for s in stems}  # raises TopicNotFound naming table and stem
    return [k for k in topics["key"] if k in wanted]


def download(table_id: str, query: Mapping[str, Any]) -> CbsTable:
    """Download a table (or the part a query selects) from CBS, without the cache.

    Parameters
    ----------
    table_id : str
        CBS table id.
    query : dict
        From :func:`westerkwartier.sources.cache.normalise_query`.

    Returns
    -------
    CbsTable
        With ``source="cbs"``; ``info["retrieved"]`` holds the UTC time of the download.

    Raises
    ------
    CbsTableNotFound, CbsUnavailable, CbsSchemaError, TopicNotFound
        See :func:`get_set` and :func:`fetch_table`.
    """
    progress = _Progress(table_id)
    try:
        info_rows = get_set(table_id, "TableInfos")
        progress.step("TableInfos", len(info_rows))
        info = parse_table_info(info_rows, table_id)
        prop_rows = get_set(table_id, "DataProperties")
        progress.step("DataProperties", len(prop_rows))
        props = parse_data_properties(prop_rows, table_id)
        progress.total(3 + len(props.dimension_types))

        dimensions: dict[str, pd.DataFrame] = {}
        widths: dict[str, int] = {}
        for dim, kind in props.dimension_types.items():
            rows = get_set(table_id, dim)
            progress.step(dim, len(rows))
            dimensions[dim] = parse_codes(rows, dim, table_id, time=kind == "TimeDimension")
            widths[dim] = key_width(rows)

        selection = _selection(query, props.dimension_types, dimensions, table_id)
        topic_keys = list(props.topics["key"])
        select = None
        if "topics" in query:
            topic_keys = _resolve_topics(props.topics, query["topics"], table_id)
            select = list(props.dimension_types) + topic_keys
        filter_text = build_filter(selection, widths)
        _LOG.debug("CBS %s: $filter=%s $select=%s", table_id, filter_text, select)
        rows = get_set(table_id, "TypedDataSet", select=select, filters=filter_text)
        progress.step("TypedDataSet", len(rows))
    finally:
        progress.close()

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
    return CbsTable(
        table_id=table_id,
        data=data,
        topics=topics,
        dimensions=dimensions,
        dimension_types=dict(props.dimension_types),
        info=info,
        source="cbs",
    )


def fetch_table(
    table_id: str,
    regions: str | Iterable[str] | None = None,
    periods: str | int | Iterable[str | int] | None = None,
    topics: str | Iterable[str] | None = None,
    *,
    filters: Mapping[str, str | Iterable[str]] | None = None,
    refresh: bool = False,
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
    refresh : bool
        Download again even when the request is cached (ignored when offline).

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
        CBS could not be reached after :data:`settings.retries` attempts; the caller may use
        the snapshot.
    TopicNotFound
        A topic stem is not in the table.
    CbsSchemaError
        The table does not have the expected shape, or a selection names a dimension the table
        lacks.
    InputError
        An empty selection or an unreadable period.

    Examples
    --------
    >>> woz = fetch_table("85036NED", regions=["GM1969", "NL01"],
    ...                   topics=["GemiddeldeWOZWaardeVanWoningen"])  # doctest: +SKIP
    >>> woz.data.head()  # doctest: +SKIP
    """
    table_id = str(table_id).strip()
    if not _TABLE_ID.match(table_id):
        raise CbsTableNotFound(
            f"{table_id!r} is geen geldig CBS-tabelnummer (verwacht iets als 85036NED); "
            "zoek het nummer op opendata.cbs.nl of met `westerkwartier.sources.cbs.search_tables`."
        )
    query = cache.normalise_query(regions, periods, topics, filters)
    if settings.offline or not refresh:
        try:
            cached = cache.load(table_id, query)
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
    table = download(table_id, query)
    if not table.data.empty:  # an empty answer may be a CBS glitch: never cache it
        cache.save(table, query)
    return table
