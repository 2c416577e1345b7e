"""A loopback stand-in for the CBS OData services (v3 bulk feed and v4), for tests.

:class:`CbsStandin` serves tables in the exact wire format of CBS:

* **OData v3**, ``https://opendata.cbs.nl/ODataFeed/odata/<TABLE>/<Set>?$format=json``: the
  hand-made tables in ``tests/fixtures/odata`` and any :class:`~westerkwartier.table.CbsTable`
  given to :meth:`CbsStandin.add_table` (for instance one read from the CBS mirror's real
  exports), turned into ``TableInfos``, ``DataProperties``, one code list per dimension and
  ``TypedDataSet`` with keys padded to the longest code of their dimension.
  ``/ODataFeed/odata/<TABLE>/`` lists the sets of a table; ``/ODataFeed/odata/<TABLE>/<Set>``
  answers with ``$filter`` (see :func:`parse_filter`; an unpadded key returns 0 rows, as at
  CBS), ``$select`` (an unknown column gives HTTP 400) and paging through ``odata.nextLink``
  (``$skip``); ``/ODataCatalog/Tables`` serves the table index (``Tables.json``).
* **OData v4**, ``https://datasets.cbs.nl/odata/v1/CBS/<table>/<Entity>``: the mirror's real
  captures (:meth:`CbsStandin.add_v4_capture`, files served as captured) and tables given to
  :meth:`CbsStandin.add_table` with ``v4=True``: ``Properties``, ``Dimensions``,
  ``MeasureCodes``, ``<Dimension>Codes`` and ``Observations`` with ``$filter``, ``$select``,
  ``$top``/``$skip``, ``$count=true`` and ``@odata.nextLink``; ``Observations/$count``;
  ``Datasets``. Table ids are case-sensitive, as on v4. A capture holds only the slice that
  was captured: a request outside it comes back empty, never invented.
* an unknown table or set gives HTTP 404.

It counts requests per set, the bytes and data rows it sent, and records every query.

It can misbehave on purpose (:meth:`CbsStandin.fault`): HTTP errors (with ``Retry-After``), a
connection reset, a response slower than the client's time-out, malformed or truncated JSON, an
empty result, JSON without ``value``, a missing column; per set, per page, per request number.

Usage::

    with CbsStandin(page_size=7) as server:
        monkeypatch.setattr(settings, "cbs_host", server.host)
        monkeypatch.setattr(settings, "cbs_https", False)
        server.fault("500", set_name="TypedDataSet", times=1)
        ...
        assert server.counts["TypedDataSet"] == 2
"""

from __future__ import annotations

import json
import re
import socket
import struct
import threading
from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

import numpy as np
import pandas as pd

from westerkwartier.sources.table import CbsTable

FIXTURES = Path(__file__).parent / "fixtures" / "odata"

FEED = "/ODataFeed/odata/"
CATALOG = "/ODataCatalog/Tables"
V4 = "/odata/v1/CBS/"

#: Fault modes understood by :meth:`CbsStandin.fault`.
MODES = {
    "404",  # HTTP 404 (table not found)
    "400",
    "403",
    "429",
    "500",
    "502",
    "503",  # with retry_after= for a Retry-After header
    "reset",  # close the socket without any response (RST)
    "slow",  # wait `delay` seconds before answering normally
    "malformed",  # HTTP 200 with broken JSON (complete body)
    "truncated",  # HTTP 200, Content-Length of the full body, half of it sent, socket closed
    "html",  # HTTP 200 with an HTML maintenance page
    "empty",  # HTTP 200 with value == []
    "no-value",  # HTTP 200 with JSON lacking "value"
    "missing-column",  # drop `column` from every row
    "reset-mid-body",  # HTTP 200 headers and half the body, then a connection reset (RST)
    "renamed-topic",  # schema change: topic key `column` is called `new_name` (props + data)
}


# -- $filter ---------------------------------------------------------------------------------
_TOKEN = re.compile(
    r"\s*(?:(\()|(\))|(,)|'((?:[^']|'')*)'|(-?\d+(?:\.\d+)?)(?![A-Za-z_])|([A-Za-z_][A-Za-z0-9_]*))"
)

#: Comparison operators of ``$filter`` (string comparison for strings, as CBS does).
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "gt": lambda a, b: a is not None and a > b,
    "ge": lambda a, b: a is not None and a >= b,
    "lt": lambda a, b: a is not None and a < b,
    "le": lambda a, b: a is not None and a <= b,
}

#: Functions of ``$filter``: ``startswith(Column,'x')``, ``endswith(Column,'x')``.
_FUNCTIONS: dict[str, Callable[[Any, Any], bool]] = {
    "startswith": lambda a, b: isinstance(a, str) and a.startswith(b),
    "endswith": lambda a, b: isinstance(a, str) and a.endswith(b),
}


def _tokens(text: str) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ValueError(f"cannot parse $filter at {text[pos:]!r}")
        pos = m.end()
        if m.group(1):
            out.append(("(", "("))
        elif m.group(2):
            out.append((")", ")"))
        elif m.group(3):
            out.append((",", ","))
        elif m.group(4) is not None:
            out.append(("str", m.group(4).replace("''", "'")))
        elif m.group(5) is not None:
            out.append(("num", float(m.group(5))))
        else:
            out.append(("name", m.group(6)))
    return out


def parse_filter(text: str) -> Callable[[dict[str, Any]], bool]:  # noqa: C901 - over the limit; see tests/test_complexity.py
    """Parse an OData ``$filter`` into a row predicate.

    Supports ``Column op 'value'`` (``eq ne gt ge lt le``; strings compare as strings, padding
    included, numbers as numbers), ``startswith(Column,'x')`` and ``endswith(Column,'x')``,
    joined by ``and`` / ``or`` / ``not`` with parentheses: what the project's clients send and
    CBS documents for both services.

    Raises
    ------
    ValueError
        On anything else (``substringof``, ``in``, arithmetic).
    """
    tokens = _tokens(text)
    pos = 0

    def peek() -> tuple[str, Any] | None:
        return tokens[pos] if pos < len(tokens) else None

    def take(kind: str, value: Any = None) -> Any:
        nonlocal pos
        tok = peek()
        if tok is None or tok[0] != kind or (value is not None and tok[1] != value):
            raise ValueError(f"unexpected token {tok!r} in $filter {text!r}")
        pos += 1
        return tok[1]

    def expr() -> Callable[[dict], bool]:
        parts = [conj()]
        while peek() == ("name", "or"):
            take("name", "or")
            parts.append(conj())
        return parts[0] if len(parts) == 1 else (lambda row: any(p(row) for p in parts))

    def conj() -> Callable[[dict], bool]:
        parts = [unary()]
        while peek() == ("name", "and"):
            take("name", "and")
            parts.append(unary())
        return parts[0] if len(parts) == 1 else (lambda row: all(p(row) for p in parts))

    def unary() -> Callable[[dict], bool]:
        if peek() == ("name", "not"):
            take("name", "not")
            inner = unary()
            return lambda row: not inner(row)
        return atom()

    def literal() -> Any:
        tok = peek()
        if tok is not None and tok[0] in ("str", "num"):
            return take(tok[0])
        raise ValueError(f"expected a literal, got {tok!r} in $filter {text!r}")

    def atom() -> Callable[[dict], bool]:
        if peek() == ("(", "("):
            take("(")
            inner = expr()
            take(")")
            return inner
        name = take("name")
        if peek() == ("(", "("):
            if name not in _FUNCTIONS:
                raise ValueError(f"function {name!r} is not supported in $filter {text!r}")
            take("(")
            column = take("name")
            take(",")
            value = literal()
            take(")")
            function = _FUNCTIONS[name]
            return lambda row: function(row.get(column), value)
        op = take("name")
        if op not in _COMPARE:
            raise ValueError(f"operator {op!r} is not supported in $filter {text!r}")
        value = literal()
        compare = _COMPARE[op]
        return lambda row: compare(row.get(name), value)

    predicate = expr()
    if pos != len(tokens):
        raise ValueError(f"trailing tokens in $filter {text!r}")
    return predicate


# -- CbsTable -> wire format -------------------------------------------------------------------
#: ``ValueAttribute`` of a missing figure in tables turned into v4 shape (a placeholder: the
#: real captures only show ``None`` and ``Impossible``).
MISSING_ATTRIBUTE = "Missing"

_V3_STATUS = {
    "definitief": "Definitief",
    "voorlopig": "Voorlopig",
    "nader voorlopig": "Nader voorlopig",
}


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _number(value: Any, integral: bool) -> Any:
    """A cell as CBS writes it: ``null``, an integer for whole-number topics, else a float."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, str):
        return value
    return int(value) if integral else float(value)


def _topic_types(table: CbsTable) -> dict[str, tuple[str, int]]:
    """CBS ``Datatype`` and decimals per topic key, from the topics and the figures."""
    out: dict[str, tuple[str, int]] = {}
    for row in table.topics.to_dict("records"):
        key = row["key"]
        decimals = row.get("decimals")
        decimals = (
            int(decimals) if isinstance(decimals, int | float) and decimals == decimals else 0
        )
        column = table.data[key] if key in table.data else pd.Series(dtype=float)
        if not pd.api.types.is_numeric_dtype(column):
            out[key] = ("String", 0)
            continue
        values = column.dropna().to_numpy(dtype=float)
        whole = decimals == 0 and bool(np.all(values == np.round(values)))
        out[key] = ("Long" if whole else "Double", decimals)
    return out


def _kind_v3(table: CbsTable, dim: str) -> str:
    kind = table.dimension_types.get(dim, "Dimension")
    if kind == "GeoDimension" and dim == "WijkenEnBuurten":
        return "GeoDetail"
    return kind


def v3_sets(table: CbsTable) -> dict[str, list[dict[str, Any]]]:
    """A table in OData v3 shape: ``TableInfos``, ``DataProperties``, code lists, data.

    Keys are padded to the longest code of their dimension, topics numbered by their position,
    whole-number topics written as integers, missing figures as ``null``.
    """
    dims = list(table.dimension_types)
    widths = {d: max((len(str(k)) for k in table.dimensions[d]["key"]), default=0) for d in dims}
    info = table.info
    sets: dict[str, list[dict[str, Any]]] = {
        "TableInfos": [
            {
                "ID": 0,
                "Title": table.title,
                "ShortTitle": table.title[:60],
                "Identifier": table.table_id,
                "Summary": "",
                "Modified": info.get("modified") or "2025-01-01T02:00:00",
                "ReasonDelivery": "Actualisering",
                "Frequency": "Perjaar",
                "Period": info.get("period_description") or "",
                "ShortDescription": "",
                "Language": "nl",
                "Catalog": "CBS",
                "OutputStatus": info.get("output_status") or "Regulier",
            }
        ]
    }
    types = _topic_types(table)
    props: list[dict[str, Any]] = []
    for i, dim in enumerate(dims):
        props.append(
            {
                "odata.type": "Cbs.OData.Dimension",
                "ID": i,
                "Position": None,
                "ParentID": None,
                "Type": _kind_v3(table, dim),
                "Key": dim,
                "Title": dim,
                "Description": None,
            }
        )
    for j, row in enumerate(table.topics.to_dict("records"), start=1):
        unit = row.get("unit")
        datatype, decimals = types[row["key"]]
        props.append(
            {
                "odata.type": "Cbs.OData.Topic",
                "ID": len(dims) + j - 1,
                "Position": j,
                "ParentID": None,
                "Type": "Topic",
                "Key": row["key"],
                "Title": str(row.get("title") or row["key"]),
                "Description": None,
                "Datatype": datatype,
                "Unit": unit if isinstance(unit, str) else "",
                "Decimals": decimals,
                "Default": "Impossible",
                "PresentationType": "Absolute",
            }
        )
    sets["DataProperties"] = props
    for dim in dims:
        codes = table.dimensions[dim]
        rows = []
        for record in codes.to_dict("records"):
            entry = {
                "Key": str(record["key"]).ljust(widths[dim]),
                "Title": str(record["title"]),
                "Description": None,
                "CategoryGroupID": None,
            }
            if "status" in codes:
                entry["Status"] = _V3_STATUS.get(str(record["status"]), "Definitief")
            rows.append(entry)
        sets[dim] = rows
    data = table.data
    columns = {d: [str(v).ljust(widths[d]) for v in data[d]] for d in dims}
    topic_values = {
        key: [_number(v, types[key][0] == "Long") for v in data[key]]
        for key in table.topics["key"]
        if key in data
    }
    sets["TypedDataSet"] = [
        {"ID": i, **{d: columns[d][i] for d in dims}, **{k: v[i] for k, v in topic_values.items()}}
        for i in range(len(data))
    ]
    return sets


def v4_sets(table: CbsTable) -> dict[str, Any]:
    """A table in OData v4 shape.

    ``Properties``, ``Dimensions``, ``MeasureCodes``, ``<Dimension>Codes`` and long
    ``Observations`` (unpadded codes, one observation per cell). A missing figure gets
    ``ValueAttribute`` :data:`MISSING_ATTRIBUTE` and an empty ``Value``: an export does not say
    whether a figure is suppressed or impossible, so the placeholder keeps the row, as v3 does.
    """
    dims = list(table.dimension_types)
    types = _topic_types(table)
    measures = []
    for j, row in enumerate(table.topics.to_dict("records"), start=1):
        if types[row["key"]][0] == "String":
            continue
        unit = row.get("unit")
        measures.append(
            {
                "Identifier": f"M{j:06d}",
                "Index": len(dims) + j,
                "Title": str(row.get("title") or row["key"]),
                "Description": "",
                "MeasureGroupId": None,
                "DataType": types[row["key"]][0],
                "Unit": unit if isinstance(unit, str) else "",
                "Decimals": types[row["key"]][1],
                "PresentationType": "Absolute",
                "_key": row["key"],
            }
        )
    sets: dict[str, Any] = {
        "Properties": {
            "Identifier": table.table_id,
            "Title": table.title,
            "Modified": table.info.get("modified") or "2025-01-01T00:00:00+01:00",
            "Status": table.info.get("output_status") or "Regulier",
            "ObservationCount": len(table.data) * len(measures),
        },
        "Dimensions": [
            {
                "Identifier": d,
                "Title": d,
                "Description": "",
                "Kind": table.dimension_types[d],
                "ContainsGroups": False,
                "ContainsCodes": True,
            }
            for d in dims
        ],
        "MeasureCodes": [{k: v for k, v in m.items() if k != "_key"} for m in measures],
    }
    for dim in dims:
        codes = table.dimensions[dim]
        rows = []
        for index, record in enumerate(codes.to_dict("records"), start=1):
            entry = {
                "Identifier": str(record["key"]),
                "Index": index,
                "Title": str(record["title"]),
                "Description": "",
                "DimensionGroupId": None,
            }
            if "status" in codes:
                entry["Status"] = _V3_STATUS.get(str(record["status"]), "Definitief")
            rows.append(entry)
        sets[f"{dim}Codes"] = rows
    observations = []
    data = table.data
    dim_values = {d: [str(v) for v in data[d]] for d in dims}
    next_id = 0
    for m in measures:
        values = data[m["_key"]].to_numpy(dtype=float)
        whole = m["DataType"] == "Long"
        for i, value in enumerate(values):
            missing = bool(np.isnan(value))
            observations.append(
                {
                    "Id": next_id,
                    "Measure": m["Identifier"],
                    "ValueAttribute": MISSING_ATTRIBUTE if missing else "None",
                    "Value": None if missing else (int(value) if whole else float(value)),
                    "StringValue": None,
                    **{d: dim_values[d][i] for d in dims},
                }
            )
            next_id += 1
    sets["Observations"] = observations
    return sets


# -- faults ----------------------------------------------------------------------------------
@dataclass
class Fault:
    """One planned misbehaviour of the stand-in.

    Attributes
    ----------
    mode : str
        One of :data:`MODES`.
    set_name : str or None
        Only requests to this set (``TypedDataSet``, ``TableInfos``, ``Tables`` for the
        catalog, ``""`` for a table's root); ``None`` matches every request.
    table : str or None
        Only requests for this table.
    times : int or None
        How many times the fault fires; ``None`` means always.
    page : int or None
        Only this page (1-based) of a paged answer.
    at : collection of int or None
        Only these request numbers (1-based, counted per set over all pages).
    retry_after : str or None
        Value of a ``Retry-After`` header sent with an HTTP error.
    delay : float
        Seconds to wait in mode ``slow``.
    column : str or None
        Column dropped in mode ``missing-column``; topic key renamed in ``renamed-topic``.
    new_name : str or None
        New name of ``column`` in mode ``renamed-topic`` (e.g. a shifted number suffix).
    """

    mode: str
    set_name: str | None = None
    table: str | None = None
    times: int | None = 1
    page: int | None = None
    at: Collection[int] | None = None
    retry_after: str | None = None
    delay: float = 2.0
    column: str | None = None
    new_name: str | None = None
    fired: int = 0

    def matches(self, table: str | None, set_name: str, page: int, number: int) -> bool:
        """Whether this fault applies to a request."""
        if self.times is not None and self.fired >= self.times:
            return False
        if self.set_name is not None and self.set_name != set_name:
            return False
        if self.table is not None and (table or "").upper() != self.table.upper():
            return False
        if self.page is not None and self.page != page:
            return False
        return self.at is None or number in self.at


@dataclass
class Recorded:
    """One request the stand-in received."""

    table: str | None
    set_name: str
    params: dict[str, str]
    number: int
    page: int
    fault: str | None = None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    standin: CbsStandin

    def handle_error(self, request, client_address) -> None:  # noqa: D102
        pass  # broken pipes from faults are expected; keep test output clean


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def do_GET(self) -> None:  # noqa: N802
        self.server.standin._handle(self)


class CbsStandin:
    """A loopback OData v3 and v4 server imitating CBS; a context manager.

    Parameters
    ----------
    fixtures : Path
        Folder with one sub-folder per table (``<TABLE>/<Set>.json``) and ``Tables.json``.
    page_size : int
        Rows per page of ``TypedDataSet`` and ``Observations`` answers (CBS v3 uses 10,000).
    meta_page_size : int
        Rows per page of the other sets.

    Attributes
    ----------
    counts : collections.Counter
        Requests per set (v3) or entity (v4: ``Properties``, ``Observations``, ...).
    requests : list of Recorded
        Every request, in order.
    bytes_sent : int
        Bytes of all response bodies.
    rows_sent : int
        Data rows sent (``TypedDataSet`` and ``Observations``).
    """

    def __init__(
        self, fixtures: Path = FIXTURES, page_size: int = 10_000, meta_page_size: int = 10_000
    ) -> None:
        self.fixtures = Path(fixtures)
        self.page_size = page_size
        self.meta_page_size = meta_page_size
        self.counts: Counter[str] = Counter()
        self.requests: list[Recorded] = []
        self.faults: list[Fault] = []
        self.bytes_sent = 0
        self.rows_sent = 0
        self._v3: dict[str, dict[str, list[dict[str, Any]]]] = {}
        self._v4: dict[str, dict[str, Any]] = {}
        self._answers: dict[tuple, list[dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- life cycle ------------------------------------------------------------------------
    def start(self) -> CbsStandin:
        """Start serving on 127.0.0.1 on a free port."""
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.standin = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; slow handlers are woken up."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> CbsStandin:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def host(self) -> str:
        """``127.0.0.1:PORT``, to put in ``settings.cbs_host`` and ``settings.odata4_host``."""
        assert self._server is not None, "stand-in not started"
        return f"127.0.0.1:{self._server.server_address[1]}"

    # -- tables ----------------------------------------------------------------------------
    def add_table(self, table: CbsTable, *, v3: bool = True, v4: bool = False) -> None:
        """Serve a table in OData v3 shape (and, with ``v4=True``, in OData v4 shape)."""
        if v3:
            self._v3[table.table_id.upper()] = v3_sets(table)
        if v4:
            self._v4[table.table_id] = v4_sets(table)
        self._answers.clear()

    def add_v4_capture(self, folder: Path) -> str:
        """Serve a captured OData v4 folder as captured; return its table id."""
        folder = Path(folder)
        index = _json(folder / "index.json") if (folder / "index.json").is_file() else {}
        props = _json(folder / "properties.json")
        table_id = str(index.get("tableId") or props.get("Identifier") or folder.name)
        sets: dict[str, Any] = {
            "Properties": {k: v for k, v in props.items() if not k.startswith("@")},
            "Dimensions": _json(folder / "dimensions.json")["value"],
            "MeasureCodes": _json(folder / "measure-codes.json")["value"],
        }
        for dim in sets["Dimensions"]:
            name = dim["Identifier"]
            sets[f"{name}Codes"] = _json(folder / f"codes-{name}.json")["value"]
        pages = index.get("observationPages") or sorted(
            p.name for p in folder.glob("observations-page-*.json")
        )
        sets["Observations"] = [row for page in pages for row in _json(folder / page)["value"]]
        self._v4[table_id] = sets
        self._answers.clear()
        return table_id

    # -- test helpers ----------------------------------------------------------------------
    def fault(self, mode: str, **options: Any) -> Fault:
        """Plan a misbehaviour; see :class:`Fault` for the options."""
        if mode not in MODES:
            raise ValueError(f"unknown fault mode {mode!r}")
        fault = Fault(mode, **options)
        with self._lock:
            self.faults.append(fault)
        return fault

    @property
    def total(self) -> int:
        """Number of requests received."""
        return sum(self.counts.values())

    def filters(self, set_name: str = "TypedDataSet") -> list[str]:
        """The ``$filter`` values received for a set, in order."""
        return [r.params.get("$filter", "") for r in self.requests if r.set_name == set_name]

    def reset(self) -> None:
        """Forget counts, recorded requests, bytes and rows sent, and faults."""
        with self._lock:
            self.counts.clear()
            self.requests.clear()
            self.faults.clear()
            self.bytes_sent = 0
            self.rows_sent = 0

    # -- request handling ------------------------------------------------------------------
    def _handle(self, h: _Handler) -> None:  # noqa: C901 - over the limit; see tests/test_complexity.py
        parts = urlsplit(h.path)
        path = unquote(parts.path)
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        table: str | None
        v4 = False
        if path.startswith(FEED):
            rest = path[len(FEED) :]
            table, _, set_name = rest.partition("/")
            set_name = set_name.strip("/")
        elif path.rstrip("/") == CATALOG:
            table, set_name = None, "Tables"
        elif path.startswith(V4):
            v4 = True
            rest = path[len(V4) :].strip("/")
            if rest == "Datasets":
                table, set_name = None, "Datasets"
            else:
                table, _, set_name = rest.partition("/")
        else:
            self._send(h, 404, b"Not found", "text/plain")
            return

        data_set = set_name in ("TypedDataSet", "Observations", "Observations/$count")
        size = self.page_size if data_set else self.meta_page_size
        skip = int(params.get("$skip", "0") or 0)
        page = skip // size + 1
        with self._lock:
            self.counts[set_name] += 1
            number = self.counts[set_name]
            record = Recorded(table, set_name, params, number, page)
            self.requests.append(record)
            fault = next((f for f in self.faults if f.matches(table, set_name, page, number)), None)
            if fault is not None:
                fault.fired += 1
                record.fault = fault.mode

        if fault is not None and fault.mode not in {
            "slow",
            "empty",
            "missing-column",
            "renamed-topic",
        }:
            self._misbehave(h, fault, table, set_name, v4)
            return
        if fault is not None and fault.mode == "slow":
            if self._stopping.wait(fault.delay):
                return

        loaded = self._load_v4(table, set_name) if v4 else self._load(table, set_name)
        if loaded is None:
            body = {"odata.error": {"code": "", "message": {"lang": "en-US", "value": "No data"}}}
            self._send(h, 404, json.dumps(body).encode(), "application/json")
            return
        if isinstance(loaded, dict):  # v4 Properties: one object
            self._send(h, 200, json.dumps(loaded).encode("utf-8"), "application/json")
            return
        rows = loaded
        if fault is not None and fault.mode == "renamed-topic":
            rows = [self._rename(r, set_name, fault.column, fault.new_name) for r in rows]
        try:
            if "$filter" in params:
                rows = self._filtered(v4, table, set_name, params["$filter"], rows, fault)
            if set_name == "Observations/$count":
                body = str(len(rows)).encode()
                self._send(h, 200, body, "text/plain")
                return
            if "$select" in params:
                columns = [c.strip() for c in params["$select"].split(",") if c.strip()]
                known = set().union(*(r.keys() for r in rows)) if rows else set(columns)
                unknown = [c for c in columns if c not in known]
                if unknown:
                    raise ValueError(f"Could not find a property named '{unknown[0]}'")
                rows = [{c: r[c] for c in columns} for r in rows]
        except ValueError as err:
            body = {"odata.error": {"code": "", "message": {"lang": "en-US", "value": str(err)}}}
            self._send(h, 400, json.dumps(body).encode(), "application/json")
            return
        if fault is not None and fault.mode == "empty":
            rows = []
        if fault is not None and fault.mode == "missing-column":
            rows = [{k: v for k, v in r.items() if k != fault.column} for r in rows]

        top = int(params["$top"]) if "$top" in params else None
        take = size if top is None else min(size, top)
        served = rows[skip : skip + take]
        end = skip + len(served)
        more = end < len(rows) and (top is None or top > take)
        base = f"http://{self.host}{parts.path}"
        query = {k: v for k, v in params.items() if k != "$skip"}
        query["$skip"] = str(end)
        if top is not None:
            query["$top"] = str(top - take)
        next_link = f"{base}?{urlencode(query, quote_via=quote, safe='$,')}"
        if v4:
            payload: dict[str, Any] = {
                "@odata.context": f"http://{self.host}{V4}{table}/$metadata#{set_name}",
                "value": served,
            }
            if params.get("$count") == "true":
                payload["@odata.count"] = len(rows)
            if more:
                payload["@odata.nextLink"] = next_link
        else:
            payload = {
                "odata.metadata": f"http://{self.host}{FEED}{table}/$metadata#Cbs.OData.WebAPI."
                f"{set_name}",
                "value": served,
            }
            if more:
                payload["odata.nextLink"] = next_link
        if data_set:
            with self._lock:
                self.rows_sent += len(served)
        self._send(h, 200, json.dumps(payload).encode("utf-8"), "application/json")

    def _filtered(
        self,
        v4: bool,
        table: str | None,
        set_name: str,
        text: str,
        rows: list[dict[str, Any]],
        fault: Fault | None,
    ) -> list[dict[str, Any]]:
        """Rows passing ``$filter``; remembered per query, as the pages of one answer repeat it."""
        key = (v4, (table or "").upper(), set_name, text)
        if fault is None and key in self._answers:
            return self._answers[key]
        keep = parse_filter(text)
        kept = [r for r in rows if keep(r)]
        if fault is None:
            with self._lock:
                self._answers[key] = kept
        return kept

    def _load(self, table: str | None, set_name: str) -> list[dict[str, Any]] | None:
        if table is None:
            path = self.fixtures / "Tables.json"
            return json.loads(path.read_text(encoding="utf-8"))["value"]
        served = self._v3.get(table.upper())
        if served is not None:
            if set_name == "":
                return [
                    {"name": name, "url": f"http://{self.host}{FEED}{table}/{name}"}
                    for name in served
                ]
            return served.get(set_name)
        folder = next(
            (p for p in self.fixtures.iterdir() if p.is_dir() and p.name.upper() == table.upper()),
            None,
        )
        if folder is None:
            return None
        if set_name == "":
            return [
                {"name": p.stem, "url": f"http://{self.host}{FEED}{table}/{p.stem}"}
                for p in sorted(folder.glob("*.json"))
            ]
        path = folder / f"{set_name}.json"
        if not path.is_file():
            return None
        return json.loads(path.read_text(encoding="utf-8"))["value"]

    def _load_v4(self, table: str | None, set_name: str) -> Any:
        if table is None:
            return [
                {"Identifier": tid, "Title": sets["Properties"].get("Title")}
                for tid, sets in self._v4.items()
            ]
        sets = self._v4.get(table)
        if sets is None:
            if any(t.lower() == table.lower() for t in self._v4) and set_name != "Properties":
                return []  # v4 ids are case-sensitive: a wrong case finds nothing
            return None
        if set_name == "Observations/$count":
            return sets["Observations"]
        return sets.get(set_name)

    @staticmethod
    def _rename(row: dict[str, Any], set_name: str, old: str | None, new: str | None) -> dict:
        """Rename topic ``old`` to ``new`` in a DataProperties row or a data row."""
        if set_name == "DataProperties":
            return {**row, "Key": new} if row.get("Key") == old else row
        return {(new if k == old else k): v for k, v in row.items()}

    def _misbehave(
        self, h: _Handler, fault: Fault, table: str | None, set_name: str, v4: bool = False
    ) -> None:
        mode = fault.mode
        load = self._load_v4 if v4 else self._load
        if mode.isdigit():
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            self._send(h, int(mode), f"Fout {mode}".encode(), "text/plain", headers)
        elif mode == "reset":
            h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            h.close_connection = True
            h.connection.close()
        elif mode == "malformed":
            self._send(
                h, 200, b'{"odata.metadata": "x", "value": [{"ID": 0, "Eig', "application/json"
            )
        elif mode == "html":
            self._send(h, 200, b"<html><body>Onderhoud</body></html>", "text/html")
        elif mode == "no-value":
            self._send(h, 200, b'{"odata.metadata": "x", "error": "weg"}', "application/json")
        elif mode == "truncated":
            rows = load(table, set_name) or []
            body = json.dumps({"odata.metadata": "x", "value": rows}).encode()
            h.send_response(200)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.write(body[: len(body) // 2])
            h.wfile.flush()
            h.close_connection = True
            h.connection.shutdown(socket.SHUT_RDWR)
        elif mode == "reset-mid-body":
            rows = load(table, set_name) or []
            body = json.dumps({"odata.metadata": "x", "value": rows}).encode()
            h.send_response(200)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.write(body[: len(body) // 2])
            h.wfile.flush()
            h.close_connection = True
            h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            h.connection.close()
        else:  # pragma: no cover - guarded by MODES
            raise ValueError(mode)

    def _send(
        self,
        h: _Handler,
        status: int,
        body: bytes,
        content_type: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        try:
            h.send_response(status)
            h.send_header("Content-Type", f"{content_type}; charset=utf-8")
            h.send_header("Content-Length", str(len(body)))
            for key, value in (headers or {}).items():
                h.send_header(key, value)
            h.end_headers()
            h.wfile.write(body)
            h.wfile.flush()
            with self._lock:
                self.bytes_sent += len(body)
        except OSError:
            pass  # the client gave up (time-out): nothing to do
