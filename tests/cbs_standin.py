"""A loopback stand-in for the CBS OData v3 bulk feed, for tests.

:class:`CbsStandin` serves the hand-made tables in ``tests/fixtures/odata`` in the exact wire
format of ``https://opendata.cbs.nl/ODataFeed/odata/<TABLE>/<Set>?$format=json``:

* ``/ODataFeed/odata/<TABLE>/`` lists the sets of a table; ``/ODataFeed/odata/<TABLE>/<Set>``
  serves ``<Set>.json`` with ``$filter`` (the ``eq``/``and``/``or`` form, exact padded string
  comparison: an unpadded key returns 0 rows, as at CBS), ``$select`` (an unknown column gives
  HTTP 400) and paging through ``odata.nextLink``;
* ``/ODataCatalog/Tables`` serves the table index (``Tables.json``);
* an unknown table or set gives HTTP 404.

It counts requests per set and records every query, and it can misbehave on purpose
(:meth:`CbsStandin.fault`): HTTP errors (with ``Retry-After``), a connection reset, a response
slower than the client's time-out, malformed or truncated JSON, an empty result, JSON without
``value``, a missing column; per set, per page, per request number.

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

FIXTURES = Path(__file__).parent / "fixtures" / "odata"

FEED = "/ODataFeed/odata/"
CATALOG = "/ODataCatalog/Tables"

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
_TOKEN = re.compile(r"\s*(?:(\()|(\))|'((?:[^']|'')*)'|([A-Za-z_][A-Za-z0-9_]*))")


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
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
        elif m.group(3) is not None:
            out.append(("str", m.group(3).replace("''", "'")))
        else:
            out.append(("name", m.group(4)))
    return out


def parse_filter(text: str) -> Callable[[dict[str, Any]], bool]:
    """Parse the simple OData ``$filter`` form into a row predicate.

    Supports ``Name eq 'value'`` joined by ``and`` / ``or`` with parentheses; the comparison
    is an exact string comparison (padding included).

    Raises
    ------
    ValueError
        On anything else.
    """
    tokens = _tokens(text)
    pos = 0

    def peek() -> tuple[str, str] | None:
        return tokens[pos] if pos < len(tokens) else None

    def take(kind: str, value: str | None = None) -> str:
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
        return lambda row: any(p(row) for p in parts)

    def conj() -> Callable[[dict], bool]:
        parts = [atom()]
        while peek() == ("name", "and"):
            take("name", "and")
            parts.append(atom())
        return lambda row: all(p(row) for p in parts)

    def atom() -> Callable[[dict], bool]:
        if peek() == ("(", "("):
            take("(")
            inner = expr()
            take(")")
            return inner
        column = take("name")
        take("name", "eq")
        value = take("str")
        return lambda row: row.get(column) == value

    predicate = expr()
    if pos != len(tokens):
        raise ValueError(f"trailing tokens in $filter {text!r}")
    return predicate


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
    """A loopback OData v3 server imitating CBS; a context manager.

    Parameters
    ----------
    fixtures : Path
        Folder with one sub-folder per table (``<TABLE>/<Set>.json``) and ``Tables.json``.
    page_size : int
        Rows per page of ``TypedDataSet`` answers (CBS uses 10,000).
    meta_page_size : int
        Rows per page of the other sets.
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
        """``127.0.0.1:PORT``, to put in ``settings.cbs_host``."""
        assert self._server is not None, "stand-in not started"
        return f"127.0.0.1:{self._server.server_address[1]}"

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
        """Forget counts, recorded requests and faults."""
        with self._lock:
            self.counts.clear()
            self.requests.clear()
            self.faults.clear()

    # -- request handling ------------------------------------------------------------------
    def _handle(self, h: _Handler) -> None:
        parts = urlsplit(h.path)
        path = unquote(parts.path)
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        table: str | None
        if path.startswith(FEED):
            rest = path[len(FEED) :]
            table, _, set_name = rest.partition("/")
            set_name = set_name.strip("/")
        elif path.rstrip("/") == CATALOG:
            table, set_name = None, "Tables"
        else:
            self._send(h, 404, b"Not found", "text/plain")
            return

        size = self.page_size if set_name == "TypedDataSet" else self.meta_page_size
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
            self._misbehave(h, fault, table, set_name)
            return
        if fault is not None and fault.mode == "slow":
            if self._stopping.wait(fault.delay):
                return

        rows = self._load(table, set_name)
        if rows is None:
            body = {"odata.error": {"code": "", "message": {"lang": "en-US", "value": "No data"}}}
            self._send(h, 404, json.dumps(body).encode(), "application/json")
            return
        if fault is not None and fault.mode == "renamed-topic":
            rows = [self._rename(r, set_name, fault.column, fault.new_name) for r in rows]
        try:
            if "$filter" in params:
                keep = parse_filter(params["$filter"])
                rows = [r for r in rows if keep(r)]
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

        payload: dict[str, Any] = {
            "odata.metadata": f"http://{self.host}{FEED}{table}/$metadata#Cbs.OData.WebAPI."
            f"{set_name}",
            "value": rows[skip : skip + size],
        }
        if skip + size < len(rows):
            query = {k: v for k, v in params.items() if k != "$skip"}
            query["$skip"] = str(skip + size)
            base = f"http://{self.host}{parts.path}"
            payload["odata.nextLink"] = f"{base}?{urlencode(query, quote_via=quote, safe='$,')}"
        self._send(h, 200, json.dumps(payload).encode("utf-8"), "application/json")

    def _load(self, table: str | None, set_name: str) -> list[dict[str, Any]] | None:
        if table is None:
            path = self.fixtures / "Tables.json"
            return json.loads(path.read_text(encoding="utf-8"))["value"]
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

    @staticmethod
    def _rename(row: dict[str, Any], set_name: str, old: str | None, new: str | None) -> dict:
        """Rename topic ``old`` to ``new`` in a DataProperties row or a data row."""
        if set_name == "DataProperties":
            return {**row, "Key": new} if row.get("Key") == old else row
        return {(new if k == old else k): v for k, v in row.items()}

    def _misbehave(self, h: _Handler, fault: Fault, table: str | None, set_name: str) -> None:
        mode = fault.mode
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
            rows = self._load(table, set_name) or []
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
            rows = self._load(table, set_name) or []
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

    @staticmethod
    def _send(
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
        except OSError:
            pass  # the client gave up (time-out): nothing to do
