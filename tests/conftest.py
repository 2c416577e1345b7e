"""Shared test fixtures.

* An autouse guard makes every connection other than loopback fail: no test reaches CBS.
* ``mirror`` gives the CBS mirror folder. In CI (``WESTERKWARTIER_REQUIRE_MIRROR=1``, set by
  ``.ci/run``) a missing mirror fails loudly; elsewhere the tests that need it skip with a reason.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from pathlib import Path

import pytest

from westerkwartier import settings

pytest_plugins = ["reliability_plugin"]

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_create_connection = socket.create_connection
_real_getaddrinfo = socket.getaddrinfo


class NetworkBlocked(RuntimeError):
    """Raised when a test tries to reach anything but loopback."""


def _is_loopback(address) -> bool:
    if isinstance(address, (str, bytes)):  # AF_UNIX socket path
        return True
    host = address[0]
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _guarded_connect(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address):
        raise NetworkBlocked(f"test tried to connect to {address!r}: only loopback is allowed")
    return _real_connect(self, address)


def _guarded_connect_ex(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address):
        raise NetworkBlocked(f"test tried to connect to {address!r}: only loopback is allowed")
    return _real_connect_ex(self, address)


def _guarded_getaddrinfo(host, *args, **kwargs):
    if host not in (None, "localhost") and not _is_loopback((host, 0)):
        raise NetworkBlocked(f"test tried to resolve {host!r}: only loopback is allowed")
    return _real_getaddrinfo(host, *args, **kwargs)


@pytest.fixture(autouse=True)
def _block_network(monkeypatch):
    """Fail any connection to a non-loopback address."""
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", _guarded_connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", _guarded_getaddrinfo)
    yield


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    """Give every test its own empty cache, online mode, no retry back-off delay and CBS not
    marked unreachable.

    Settings changed by a test (also through the CLI's ``--offline``) are restored after it.
    """
    from westerkwartier.sources import transport

    monkeypatch.setattr(settings, "cache_dir", tmp_path / "cache")
    monkeypatch.setattr(settings, "offline", False)
    monkeypatch.setattr(settings, "backoff", 0.0)
    monkeypatch.setattr(settings, "cbs_unreachable", False)
    # the OData v4 fallback of a test that points only the v3 host somewhere: refused at once
    monkeypatch.setattr(settings, "odata4_host", "127.0.0.1:9")
    transport.reset()  # no host marked unreachable, the notice not yet shown
    yield
    transport.reset()


def _mirror_path() -> Path:
    return Path(os.environ.get("WESTERKWARTIER_MIRROR", settings.mirror_dir))


@pytest.fixture(scope="session")
def mirror() -> Path:
    """Folder of the CBS mirror; skip (locally) or fail (CI) when it is missing."""
    path = _mirror_path()
    if (path / "MANIFEST.md").is_file():
        return path
    message = (
        f"CBS mirror not found at {path}: set WESTERKWARTIER_MIRROR to the folder holding "
        "MANIFEST.md"
    )
    if os.environ.get("WESTERKWARTIER_REQUIRE_MIRROR") == "1":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def population_2023(mirror: Path):
    """The raw 37259eng of 2023, both sexes, by region code, and the average population.

    CBS's relative figures of 37259 divide by the average population of the year
    ((1 January + 31 December) / 2); the tests divide the raw counts by it likewise.
    """
    import pandas as pd

    raw = pd.read_csv(mirror / "coded" / "37259eng_bevolkingsontwikkeling_2012_2023.csv")
    raw = raw[(raw["Sex"] == "T001038") & (raw["Periods"] == "2023JJ00")]
    raw = raw.assign(code=raw["Regions"].str.strip()).set_index("code")
    return raw, (raw["PopulationOn1January_1"] + raw["PopulationOn31December_20"]) / 2


@pytest.fixture
def standin_server(monkeypatch):
    """The loopback CBS stand-in (tests/cbs_standin.py), with both clients pointed at it.

    Pages of 7 rows, 3 attempts per request, a 5 s time-out, online, no progress bars; a test
    module may tighten settings further in its own ``server`` fixture.
    """
    from cbs_standin import CbsStandin

    with CbsStandin(page_size=7) as standin:
        monkeypatch.setattr(settings, "cbs_host", standin.host)
        monkeypatch.setattr(settings, "odata4_host", standin.host)
        monkeypatch.setattr(settings, "cbs_https", False)
        monkeypatch.setattr(settings, "retries", 3)
        monkeypatch.setattr(settings, "timeout", 5.0)
        monkeypatch.setattr(settings, "offline", False)
        monkeypatch.setattr(settings, "progress", False)
        yield standin


@pytest.fixture
def waits(monkeypatch):
    """Record the client's back-off waits instead of sleeping."""
    from westerkwartier.sources import transport

    recorded: list[float] = []
    monkeypatch.setattr(transport, "_sleep", recorded.append)
    return recorded
