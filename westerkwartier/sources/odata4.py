"""CBS OData v4 (``datasets.cbs.nl``): a live client and a reader for captured responses.

CBS is moving its open data from the v3 feed (``opendata.cbs.nl``) to OData v4
(``https://datasets.cbs.nl/odata/v1/CBS/<table>/...``). Both give the same
:class:`~westerkwartier.table.CbsTable` as the v3 client, so nothing downstream can tell them
apart:

* :func:`download` asks the live service: ``Properties``, ``Dimensions``, ``MeasureCodes`` and
  ``<Dimension>Codes`` first, then ``Observations`` with a ``$filter`` planned from the request
  (:mod:`westerkwartier.sources.need`: codes, region prefixes, a first period and the measures
  used), page by page through ``@odata.nextLink`` (:mod:`westerkwartier.sources.transport`: a failed
  page is asked again on its own). Table ids are case-sensitive on v4 (``03759ned``).
* :func:`read_v4_capture` reads a folder of captured responses (``properties.json``,
  ``dimensions.json``, ``measure-codes.json``, ``codes-<Dimension>.json``,
  ``observations-page-N.json``).

v4 answers in long form (one row per cell: ``Measure``, ``ValueAttribute``, ``Value`` and the
dimension codes, unpadded); the table gets one column per measure. Measures are keyed the way
OData v3 keys topics, so catalogue entries find them by the same stem online, offline and on
either service: the title in CamelCase plus ``_<n>``, where ``n`` is the measure's rank by
``Index`` (``Bevolking op 1 januari``, Index 5 of measures 5 and 6 -> ``BevolkingOp1Januari_1``,
as in v3). The v4 ``Index`` itself is not the v3 number (it counts the dimensions too); the rank
equals the v3 number in the tables checked so far. The measure code is kept in the topics'
``measure`` column. ``ValueAttribute`` ``Impossible`` (CBS has no figure) becomes NaN, never
zero; a combination with only ``Impossible`` cells gets no row. Units and decimals come from
``MeasureCodes``, period status from the time dimension's codes, as in v3.
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import requests

from westerkwartier import settings
from westerkwartier.errors import CbsSchemaError, CbsTableNotFound, ExportFormatError
from westerkwartier.sources import need as planning
from westerkwartier.sources import transport
from westerkwartier.sources.table import CbsTable, stem

_LOG = logging.getLogger(__name__)

#: Path of the CBS catalogue on the v4 host.
V4_PATH = "/odata/v1/CBS"

#: v4 ``Status`` of a period (lower case, spaces removed) -> our status.
_STATUS = {
    "definitief": "definitief",
    "voorlopig": "voorlopig",
    "nadervoorlopig": "nader voorlopig",
}

_VALUE_COLUMNS = ["Measure", "ValueAttribute", "Value"]


def camel_key(title: str) -> str:
    """Turn a CBS title into an OData-v3-style key stem.

    Examples
    --------
    >>> camel_key("Bevolking op 1 januari")
    'BevolkingOp1Januari'
    """
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    words = re.findall(r"[A-Za-z0-9]+", ascii_title)
    return "".join(w[:1].upper() + w[1:] for w in words)


# -- pure conversion of v4 rows ------------------------------------------------------------------
def topics_frame(measures: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Topics (``key``, ``title``, ``unit``, ``decimals``, ``measure``) from ``MeasureCodes``.

    Ordered by ``Index``; the key is the CamelCase title plus the rank (see module docstring).

    Examples
    --------
    >>> topics_frame([{"Identifier": "M000365", "Index": 6, "Title": "Gemiddelde bevolking ",
    ...                "Unit": "aantal", "Decimals": 1},
    ...               {"Identifier": "M000352", "Index": 5, "Title": "Bevolking op 1 januari",
    ...                "Unit": "aantal", "Decimals": 0}])["key"].tolist()
    ['BevolkingOp1Januari_1', 'GemiddeldeBevolking_2']
    """
    ordered = sorted(
        measures, key=lambda m: (m.get("Index") is None, m.get("Index") or 0, m["Identifier"])
    )
    records = []
    for rank, m in enumerate(ordered, start=1):
        title = str(m.get("Title") or m["Identifier"])
        decimals = m.get("Decimals")
        records.append(
            {
                "key": f"{camel_key(title)}_{rank}",
                "title": title.strip(),
                "unit": str(m.get("Unit") or "").strip(),
                "decimals": int(decimals) if isinstance(decimals, int | float) else 0,
                "measure": str(m["Identifier"]),
            }
        )
    return pd.DataFrame(records, columns=["key", "title", "unit", "decimals", "measure"])


def _plain(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def align_keys(topics: pd.DataFrame, names: Sequence[str]) -> pd.DataFrame:
    """Give measures the v3 stems asked for where CamelCasing their title does not.

    v3 keys are not always the title in CamelCase: numbers get a ``k_`` prefix
    (``k_15Tot25Jaar`` for "15 tot 25 jaar") and long keys are cut short
    (``EmigratieInclusiefAdministratieveC``). For each asked stem (or full key) that no measure
    key has, a measure whose title equals the stem letter for letter (ignoring case, spaces,
    punctuation and a leading ``k_``), or for a stem of 30 or more letters starts with it, takes
    the stem; its number stays the rank. A stem that fits no measure, or several, is left alone.

    Examples
    --------
    >>> frame = topics_frame([{"Identifier": "M1", "Index": 3, "Title": "15 tot 25 jaar"}])
    >>> align_keys(frame, ["k_15Tot25Jaar"])["key"].tolist()
    ['k_15Tot25Jaar_1']
    """
    keys = [str(k) for k in topics["key"]]
    stems = {stem(k) for k in keys}
    titles = [_plain(str(t)) for t in topics["title"]]
    for name in names:
        base = stem(name)
        if base in stems or name in keys:
            continue
        target = _plain(re.sub(r"^k_(?=\d)", "", base))
        hits = [i for i, t in enumerate(titles) if t == target]
        if not hits and len(target) >= 30:
            hits = [i for i, t in enumerate(titles) if t.startswith(target)]
        if len(hits) == 1:
            rank = keys[hits[0]].rsplit("_", 1)[1]
            keys[hits[0]] = f"{base}_{rank}"
            stems.add(base)
    return topics.assign(key=keys)


def dimension_kind(kind: Any) -> str:
    """``Dimension``, ``TimeDimension`` or ``GeoDimension`` for a v4 ``Kind``."""
    text = str(kind or "")
    if "Time" in text:
        return "TimeDimension"
    if "Geo" in text:
        return "GeoDimension"
    return "Dimension"


def period_status(value: Any) -> str:
    """Our status of a v4 period ``Status`` (missing: definitief; unknown: voorlopig)."""
    if value is None or (isinstance(value, float) and value != value):
        return "definitief"
    return _STATUS.get(str(value).replace(" ", "").lower(), "voorlopig")


def codes_frame(rows: Sequence[Mapping[str, Any]], *, time: bool = False) -> pd.DataFrame:
    """Return a code list (``key``, ``title``; ``status`` for the time dimension)."""
    frame = pd.DataFrame(
        {
            "key": [str(r["Identifier"]).strip() for r in rows],
            "title": [str(r.get("Title") or r["Identifier"]).strip() for r in rows],
        },
        columns=["key", "title"],
    )
    if time:
        frame["status"] = [period_status(r.get("Status")) for r in rows]
    return frame


def observations_frame(
    rows: Sequence[Mapping[str, Any]], dimensions: Sequence[str], topics: pd.DataFrame
) -> pd.DataFrame:
    """Turn long ``Observations`` rows into the wide :attr:`CbsTable.data` frame.

    One row per combination of dimension codes, sorted by the codes; one float column per
    topic, NaN where CBS has no figure (an empty ``Value``). A combination whose every cell is
    ``Impossible`` (a municipality in a year it did not exist) gets no row: CBS says it cannot
    have figures, which v3 does not tell apart from a missing figure.
    """
    dims = list(dimensions)
    keys = list(topics["key"])
    frame = pd.DataFrame(list(rows), columns=dims + _VALUE_COLUMNS)
    if frame.empty:
        empty = {d: pd.Series(dtype=object) for d in dims}
        return pd.DataFrame({**empty, **{k: pd.Series(dtype=float) for k in keys}})
    key_of = dict(zip(topics["measure"], topics["key"], strict=True))
    possible = frame["ValueAttribute"] != "Impossible"
    frame = frame.assign(
        Value=pd.to_numeric(frame["Value"].where(possible), errors="coerce").astype("float64"),
        Measure=frame["Measure"].map(key_of),
        possible=possible,
    )
    frame = frame.dropna(subset=["Measure"]).drop_duplicates(dims + ["Measure"])
    for dim in dims:
        frame[dim] = frame[dim].astype(str).str.strip()
    stacked = frame.set_index(dims + ["Measure"])
    keep = stacked["possible"].groupby(level=dims).any()
    wide = stacked["Value"].unstack("Measure").loc[keep[keep].index]
    wide = wide.reindex(columns=keys).reset_index()
    wide.columns.name = None
    wide = wide.sort_values(dims).reset_index(drop=True)
    for dim in dims:
        wide[dim] = wide[dim].astype(object)
    for key in keys:
        wide[key] = wide[key].astype("float64")
    return wide


def _table(
    table_id: str,
    props: Mapping[str, Any],
    dims: Sequence[Mapping[str, Any]],
    topics: pd.DataFrame,
    codes: Mapping[str, Sequence[Mapping[str, Any]]],
    observations: Sequence[Mapping[str, Any]],
    info: dict[str, Any],
    source: str,
) -> CbsTable:
    dimension_types = {str(d["Identifier"]): dimension_kind(d.get("Kind")) for d in dims}
    dimensions = {
        name: codes_frame(codes[name], time=kind == "TimeDimension")
        for name, kind in dimension_types.items()
    }
    data = observations_frame(observations, list(dimension_types), topics)
    return CbsTable(
        table_id=str(props.get("Identifier") or table_id),
        data=data,
        topics=topics.reset_index(drop=True),
        dimensions=dimensions,
        dimension_types=dimension_types,
        info=info,
        source=source,
    )


def _info(props: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "title": props.get("Title"),
        "identifier": props.get("Identifier"),
        "modified": props.get("Modified"),
        "output_status": props.get("Status"),
        "api": "odata-v4",
    }


# -- the live service --------------------------------------------------------------------------
def _base(table_id: str) -> str:
    return f"{transport.scheme()}://{settings.odata4_host}{V4_PATH}/{table_id}"


def _not_found(table_id: str) -> Callable[[], CbsTableNotFound]:
    def make() -> CbsTableNotFound:
        return CbsTableNotFound(
            f"Tabel {table_id} bestaat niet in OData v4 bij CBS (datasets.cbs.nl). Let op "
            "hoofdletters: oude tabellen heten daar met kleine letters (03759ned)."
        )

    return make


def download(table_id: str, query: Mapping[str, Any]) -> CbsTable:
    """Download a table (or the part a query selects) from CBS OData v4, without cache.

    Parameters
    ----------
    table_id : str
        CBS table id, case as CBS spells it (``03759ned``, ``83625NED``).
    query : dict
        From :func:`westerkwartier.sources.cache.normalise_query`.

    Returns
    -------
    CbsTable
        ``source="cbs"``; ``info["api"]`` is ``odata-v4`` and ``info["retrieved"]`` the UTC
        time of the download.

    Raises
    ------
    CbsTableNotFound
        The service does not know the table.
    CbsUnavailable, CbsSchemaError, TopicNotFound, CbsRequestTooLarge
        As for the v3 client (:func:`westerkwartier.sources.cbs.download`).
    """
    from westerkwartier.sources.cbs import Progress

    host = settings.odata4_host
    base = _base(table_id)
    session = requests.Session()
    progress = Progress(table_id)

    def collect(entity: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for page in transport.pages(
            f"{base}/{entity}",
            None,
            next_key="@odata.nextLink",
            host=host,
            table_id=table_id,
            what=entity,
            session=session,
        ):
            rows.extend(page)
        progress.step(entity, len(rows))
        return rows

    try:
        props = transport.get_json(
            f"{base}/Properties",
            None,
            host=host,
            table_id=table_id,
            what="Properties",
            session=session,
            not_found=_not_found(table_id),
        )
        if not isinstance(props, dict) or not props.get("Identifier"):
            raise _not_found(table_id)()
        dims = collect("Dimensions")
        topics = topics_frame(collect("MeasureCodes"))
        asked = query.get("need", {}).get("topics") or query.get("topics") or []
        topics = align_keys(topics, asked)
        if topics.empty:
            raise CbsSchemaError(
                f"Tabel {table_id} heeft in OData v4 geen MeasureCodes; meld dit als issue."
            )
        progress.total(3 + len(dims))
        codes = {str(d["Identifier"]): collect(f"{d['Identifier']}Codes") for d in dims}
        dimension_types = {str(d["Identifier"]): dimension_kind(d.get("Kind")) for d in dims}
        code_lists = {
            name: codes_frame(codes[name], time=kind == "TimeDimension")
            for name, kind in dimension_types.items()
        }
        request = planning.plan(query, table_id, topics, dimension_types, code_lists)
        request.check_limit(table_id, cells_per_row=len(request.topics))
        measures = topics.set_index("key").loc[request.topics, "measure"].tolist()
        extra = []
        if len(measures) < len(topics):
            terms = [f"Measure eq {planning.quote(m)}" for m in measures]
            extra.append(f"({' or '.join(terms)})")
        filter_text = planning.filter_text(request, lambda _d, c: planning.quote(c), extra=extra)
        params = {"$select": ",".join(["Id", *_VALUE_COLUMNS, *dimension_types])}
        if filter_text:
            params["$filter"] = filter_text
        _LOG.debug("CBS v4 %s: $filter=%s", table_id, filter_text)
        observations: list[dict[str, Any]] = []
        for number, page in enumerate(
            transport.pages(
                f"{base}/Observations",
                params,
                next_key="@odata.nextLink",
                host=host,
                table_id=table_id,
                what="Observations",
                session=session,
            ),
            start=1,
        ):
            observations.extend(page)
            progress.page("Observations", number, len(observations))
        progress.step("Observations", len(observations))
    finally:
        progress.close()
        session.close()

    info = _info(props)
    info["retrieved"] = datetime.now(UTC).replace(microsecond=0).isoformat()
    chosen = topics.loc[topics["key"].isin(request.topics)]
    table = _table(table_id, props, dims, chosen, codes, observations, info, "cbs")
    if table.data.empty:
        _LOG.warning(
            "Tabel %s (OData v4) leverde 0 rijen voor %s; controleer de codes en perioden.",
            table_id,
            json.dumps(dict(query), ensure_ascii=False),
        )
    return table


# -- captured responses ------------------------------------------------------------------------
def _read(folder: Path, name: str) -> Any:
    path = folder / name
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise ExportFormatError(
            f"{path.name} ontbreekt in de OData-v4-opname {folder.name}/; "
            "een opname bevat properties.json, dimensions.json, measure-codes.json en "
            "observations-page-N.json."
        ) from err
    except json.JSONDecodeError as err:
        raise ExportFormatError(f"{path.name} in {folder.name}/ is geen geldige JSON.") from err


def read_v4_capture(folder: Path) -> CbsTable:
    """Read an OData v4 capture folder into a :class:`CbsTable`.

    Parameters
    ----------
    folder : Path
        Folder with the capture files (see module docstring).

    Raises
    ------
    ExportFormatError
        If a required file is missing or not valid JSON.
    """
    folder = Path(folder)
    props = _read(folder, "properties.json")
    dims = _read(folder, "dimensions.json")["value"]
    topics = topics_frame(_read(folder, "measure-codes.json")["value"])
    index = _read(folder, "index.json") if (folder / "index.json").is_file() else {}
    pages = index.get("observationPages") or sorted(
        p.name for p in folder.glob("observations-page-*.json")
    )
    rows: list[dict[str, Any]] = []
    for page in pages:
        rows.extend(_read(folder, page)["value"])
    codes = {
        str(d["Identifier"]): _read(folder, f"codes-{d['Identifier']}.json")["value"] for d in dims
    }
    info = _info(props) | {
        "captured_at": index.get("capturedAt"),
        "slice": index.get("sliceFilter"),
    }
    return _table(folder.name, props, dims, topics, codes, rows, info, "odata-v4")
