"""Settings for the doctests in ``westerkwartier/`` (``tests/conftest.py`` holds the tests' own).

The examples in the docstrings run as part of ``python -m pytest`` (``--doctest-modules``). They
run offline on the committed snapshot, with a cache of their own, and any connection other than
loopback fails, so they never reach CBS and never touch a user's cache.
"""

from __future__ import annotations

import ipaddress
import socket

import pytest
from _pytest.doctest import DoctestItem

from westerkwartier import settings


def _refuse_remote(connect):
    def guarded(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6):
            host = address[0]
            try:
                local = host == "localhost" or ipaddress.ip_address(host).is_loopback
            except ValueError:
                local = False
            if not local:
                raise RuntimeError(f"a doctest tried to connect to {address!r}")
        return connect(self, address)

    return guarded


@pytest.fixture(scope="session")
def _doctest_cache(tmp_path_factory) -> object:
    """One cache for all doctests, so the national panel is built once."""
    return tmp_path_factory.mktemp("doctest-cache")


@pytest.fixture(autouse=True)
def _doctest_offline(request, monkeypatch):
    """Run a docstring example offline, on the snapshot, with the doctests' own cache."""
    if not isinstance(request.node, DoctestItem):
        yield
        return
    monkeypatch.setattr(settings, "offline", True)
    monkeypatch.setattr(settings, "progress", False)
    monkeypatch.setattr(settings, "cache_dir", request.getfixturevalue("_doctest_cache"))
    monkeypatch.setattr(socket.socket, "connect", _refuse_remote(socket.socket.connect))
    monkeypatch.setattr(socket.socket, "connect_ex", _refuse_remote(socket.socket.connect_ex))
    yield
