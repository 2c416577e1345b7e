import socket

import pytest

from conftest import NetworkBlocked


def test_outside_connection_is_blocked():
    with pytest.raises(NetworkBlocked):
        socket.create_connection(("opendata.cbs.nl", 443), timeout=1)


def test_outside_ip_is_blocked():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        with pytest.raises(NetworkBlocked):
            s.connect(("192.0.2.1", 80))
    finally:
        s.close()


def test_loopback_is_allowed():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    try:
        client = socket.create_connection(server.getsockname(), timeout=1)
        client.close()
    finally:
        server.close()
