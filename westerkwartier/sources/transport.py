"""HTTP to the CBS services: time-outs, bounded retries, page-by-page downloads, reachability.

Both CBS clients (:mod:`~westerkwartier.sources.cbs` for OData v3 on ``opendata.cbs.nl``,
:mod:`~westerkwartier.sources.odata4` for OData v4 on ``datasets.cbs.nl``) fetch through
:func:`get_json` and :func:`pages`:

* every request has a connect time-out (:data:`settings.connect_timeout
  <westerkwartier.settings.connect_timeout>`) and a read time-out (:data:`settings.timeout
  <westerkwartier.settings.timeout>`);
* a broken answer (HTTP 5xx or 429, a reset or cut-off body, a read time-out, JSON that does not
  parse) is retried with exponential back-off, :data:`settings.retries
  <westerkwartier.settings.retries>` attempts in all, honouring ``Retry-After``;
* :func:`pages` follows the feed's next links one page at a time and retries a failed page on
  its own: the pages already received are kept, nothing restarts from page 1;
* a connection that cannot be made at all (no network, name not resolved, refused, connect
  time-out) is not retried: it marks the host **unreachable** for :data:`settings.cbs_cooldown
  <westerkwartier.settings.cbs_cooldown>` seconds, and so do exhausted retries. Every later
  request to that host in the same process fails at once with
  :class:`~westerkwartier.errors.CbsUnreachable`, so the caller goes straight to the cache or
  the snapshot. A process started with ``WESTERKWARTIER_CBS_UNREACHABLE=1`` (a batch sets it for
  its report kernels after one failed check) starts with every host marked unreachable.

:data:`STATS` counts requests, bytes and rows received (for benchmarks and tests).
"""

from __future__ import annotations

import email.utils
import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import requests

from westerkwartier import settings
from westerkwartier.errors import CbsError, CbsSchemaError, CbsUnavailable, CbsUnreachable

_LOG = logging.getLogger(__name__)

#: Longest wait honoured from a ``Retry-After`` header, in seconds.
MAX_RETRY_AFTER = 60.0

#: ``time.sleep``, replaceable in tests to record the back-off waits.
_sleep = time.sleep

#: Requests made, bytes and rows received in this process (reset with ``STATS.clear()``).
STATS: Counter[str] = Counter()

_LOCK = threading.Lock()
_STARTED = time.monotonic()

#: urllib3's errors for a connection that was never made (name not resolved, refused, connect
#: time-out), told apart by name so that urllib3 stays an indirect dependency (via requests).
_NO_CONNECTION = {"NewConnectionError", "NameResolutionError", "ConnectTimeoutError"}


@dataclass(frozen=True)
class Down:
    """Why and until when a host counts as unreachable."""

    host: str
    reason: str
    since: float
    until: float

    def describe(self) -> str:
        """Dutch description: since when, why and until when (local clock time)."""
        start = datetime.fromtimestamp(time.time() - (time.monotonic() - self.since))
        end = datetime.fromtimestamp(time.time() + max(0.0, self.until - time.monotonic()))
        return (
            f"CBS ({self.host}) is sinds {start:%H:%M} niet bereikbaar ({self.reason}); tot "
            f"{end:%H:%M} wordt het niet opnieuw geprobeerd"
        )


_DOWN: dict[str, Down] = {}
_NOTICE = {"shown": False}


def scheme() -> str:
    """``https``, or ``http`` when :data:`settings.cbs_https` is off (loopback tests)."""
    return "https" if settings.cbs_https else "http"


def unreachable(host: str) -> Down | None:
    """Return why ``host`` counts as unreachable now, or ``None`` when it may be tried."""
    now = time.monotonic()
    with _LOCK:
        down = _DOWN.get(host)
        if down is not None and now < down.until:
            return down
        _DOWN.pop(host, None)
    if settings.cbs_unreachable and now - _STARTED < float(settings.cbs_cooldown):
        return Down(
            host,
            "de batch vond CBS bij de start onbereikbaar",
            _STARTED,
            _STARTED + float(settings.cbs_cooldown),
        )
    return None


def mark_unreachable(host: str, reason: str) -> Down:
    """Mark ``host`` unreachable for :data:`settings.cbs_cooldown` seconds."""
    now = time.monotonic()
    down = Down(host, reason, now, now + float(settings.cbs_cooldown))
    with _LOCK:
        _DOWN[host] = down
    _LOG.info("%s.", down.describe())
    return down


def reset() -> None:
    """Forget every unreachable mark, whether the notice was shown, and :data:`STATS`."""
    global _STARTED
    with _LOCK:
        _DOWN.clear()
        _NOTICE["shown"] = False
        STATS.clear()
        _STARTED = time.monotonic()


def first_notice() -> bool:
    """Return ``True`` the first time it is called in a process (after :func:`reset`).

    The caller shows its "CBS is not reachable" notice only then, so a run that serves forty
    tables from the snapshot says so once.
    """
    with _LOCK:
        first = not _NOTICE["shown"]
        _NOTICE["shown"] = True
    return first


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


def _no_connection(err: requests.RequestException) -> bool:
    """Whether no connection could be made at all (as opposed to a broken answer)."""
    if isinstance(err, requests.ConnectTimeout):
        return True
    if not isinstance(err, requests.ConnectionError):
        return False
    cause: Any = err.args[0] if err.args else None
    reason = getattr(cause, "reason", cause)  # urllib3's MaxRetryError carries the cause
    names = {cls.__name__ for cls in type(reason).__mro__}
    return bool(names & _NO_CONNECTION)


def unavailable_message(host: str, table_id: str, what: str, attempts: int, reason: str) -> str:
    """Return the Dutch message of :class:`CbsUnavailable`: what failed and what to do."""
    return (
        f"CBS is niet bereikbaar: {reason} bij het ophalen van {what} van tabel {table_id} "
        f"({attempts} poging{'en' if attempts != 1 else ''}, host {host}); de komende "
        f"{float(settings.cbs_cooldown):g} s wordt CBS niet opnieuw gevraagd en komen tabellen "
        "uit de cache of de snapshot. Zet `westerkwartier.settings.offline = True` (of "
        "WESTERKWARTIER_OFFLINE=1) om zonder netwerk te werken, of probeer het later opnieuw."
    )


def get_json(  # noqa: C901 - over the limit; see tests/test_complexity.py
    url: str,
    params: Mapping[str, str] | None = None,
    *,
    host: str,
    table_id: str,
    what: str,
    session: requests.Session | None = None,
    not_found: Callable[[], CbsError] | None = None,
) -> Any:
    """GET ``url`` and return the parsed JSON, with time-outs, retries and our errors.

    Parameters
    ----------
    url : str
        Full URL.
    params : mapping, optional
        Query parameters (URL-encoded by ``requests``).
    host : str
        The host, for the reachability mark and messages.
    table_id, what : str
        For messages and log lines (``"TypedDataSet, pagina 3"``).
    session : requests.Session, optional
        Reuse one connection for the requests of a table.
    not_found : callable, optional
        Makes the error raised on HTTP 404 (default: a :class:`CbsSchemaError`).

    Raises
    ------
    CbsUnreachable
        The host is marked unreachable; no request was made.
    CbsUnavailable
        No connection could be made (the host is then marked unreachable), or every attempt
        got a broken answer (the host is marked unreachable too).
    CbsSchemaError
        HTTP 4xx other than 404 and 429 (not retried: asking again will not help).
    """
    down = unreachable(host)
    if down is not None:
        raise CbsUnreachable(
            f"{down.describe()} (zet WESTERKWARTIER_OFFLINE=1 om zonder netwerk te werken)"
        )
    attempts = max(1, int(settings.retries))
    timeout = (min(float(settings.connect_timeout), float(settings.timeout)), settings.timeout)
    getter = session.get if session is not None else requests.get
    reason = "onbekende fout"
    last: Exception | None = None
    for attempt in range(1, attempts + 1):
        wait = 0.0
        try:
            response = getter(
                url, params=params, timeout=timeout, headers={"Accept": "application/json"}
            )
            STATS["requests"] += 1
            STATS["bytes"] += len(response.content)
            status = response.status_code
            if status == 404:
                if not_found is not None:
                    raise not_found()
                raise CbsSchemaError(
                    f"CBS kent {what} van tabel {table_id} niet (HTTP 404). Controleer het "
                    "tabelnummer en de gevraagde onderdelen."
                )
            if 400 <= status < 500 and status != 429:
                raise CbsSchemaError(
                    f"CBS weigerde de vraag naar {what} van tabel {table_id} (HTTP {status}). "
                    "Controleer de gevraagde onderwerpen en codes; ververs de cache met "
                    "refresh=True als de tabel is gewijzigd."
                )
            if status >= 500 or status == 429:
                reason, last = f"HTTP-fout {status}", None
                wait = _retry_after(response)
            else:
                return response.json()
        except requests.RequestException as err:
            if _no_connection(err):
                detail = f"geen verbinding met {host}"
                mark_unreachable(host, detail)
                raise CbsUnavailable(
                    unavailable_message(host, table_id, what, attempt, detail)
                ) from err
            if isinstance(err, requests.Timeout):
                reason, last = f"geen antwoord binnen {float(settings.timeout):g} s", err
            elif isinstance(err, requests.JSONDecodeError):
                reason, last = "onleesbaar antwoord (geen volledige JSON)", err
            elif isinstance(err, requests.ConnectionError):
                reason, last = "verbinding mislukt of verbroken", err
            else:  # e.g. ChunkedEncodingError: a cut-off body
                reason, last = f"antwoord afgebroken ({type(err).__name__})", err
        except json.JSONDecodeError as err:  # truncated or HTML answer: transport failure
            reason, last = "onleesbaar antwoord (geen volledige JSON)", err
        _LOG.warning("CBS %s/%s: %s (poging %d van %d)", table_id, what, reason, attempt, attempts)
        if attempt < attempts:
            _sleep(max(float(settings.backoff) * 2 ** (attempt - 1), wait))
    mark_unreachable(host, reason)
    raise CbsUnavailable(unavailable_message(host, table_id, what, attempts, reason)) from last


def pages(
    url: str,
    params: Mapping[str, str] | None,
    *,
    next_key: str,
    host: str,
    table_id: str,
    what: str,
    session: requests.Session | None = None,
    not_found: Callable[[], CbsError] | None = None,
) -> Iterator[list[dict[str, Any]]]:
    """Yield the ``value`` rows of each page of an OData answer, following ``next_key``.

    Each page is fetched with :func:`get_json`; a failed page is retried on its own (the next
    link is kept as it came, never rebuilt), so the pages already yielded stay valid.

    Raises
    ------
    CbsSchemaError
        If a page is valid JSON without a ``value`` list.
    CbsUnavailable, CbsUnreachable
        See :func:`get_json`.
    """
    page_url: str | None = url
    page_params = params
    number = 0
    while page_url:
        number += 1
        label = what if number == 1 else f"{what}, pagina {number}"
        payload = get_json(
            page_url,
            page_params,
            host=host,
            table_id=table_id,
            what=label,
            session=session,
            not_found=not_found,
        )
        rows = payload.get("value") if isinstance(payload, dict) else None
        if not isinstance(rows, list):
            raise CbsSchemaError(
                f"Het antwoord van CBS op {label} van tabel {table_id} heeft niet de "
                "verwachte OData-vorm (geen 'value'). Meld dit als issue."
            )
        STATS["rows"] += len(rows)
        yield rows
        page_url = payload.get(next_key)
        page_params = None  # the next link carries the whole query


def probe(host: str, path: str) -> bool:
    """Ask ``host`` once, quickly, whether it answers; mark it unreachable when it does not.

    One GET of ``path`` with the connect time-out, no retries. Any answer below HTTP 500 counts
    as reachable.
    """
    if unreachable(host) is not None:
        return False
    limit = min(float(settings.connect_timeout), float(settings.timeout))
    try:
        response = requests.get(f"{scheme()}://{host}{path}", timeout=(limit, limit), stream=True)
        response.close()
    except Exception as err:  # noqa: BLE001 - whatever fails, the run must not count on CBS
        mark_unreachable(host, f"geen verbinding met {host} ({type(err).__name__})")
        return False
    STATS["requests"] += 1
    if response.status_code >= 500:
        mark_unreachable(host, f"HTTP-fout {response.status_code}")
        return False
    return True
