"""The watchdog behind the client-side database time limit (ipt_clinic/postgresql/base.py),
on a pair of connected sockets: a call that outlives its deadline has its socket shut down
(the waiting read returns at once), one that ends in time keeps its socket, and a deadline
earlier than the one the watchdog sleeps towards is still kept."""

import socket
import threading
import time

import pytest

from ipt_clinic.postgresql.base import Watchdog


@pytest.fixture
def sockets():
    ours, server = socket.socketpair()
    yield ours, server
    ours.close()
    server.close()


def test_it_shuts_down_the_socket_of_a_call_past_its_deadline(sockets):
    ours, _server = sockets
    started = time.monotonic()
    with Watchdog().bounded(ours.fileno(), 0.3):
        received = ours.recv(10)  # a server that never answers
    assert received == b""
    assert 0.25 < time.monotonic() - started < 2


def test_it_leaves_a_call_that_ended_in_time_alone(sockets):
    ours, server = sockets
    with Watchdog().bounded(ours.fileno(), 0.2):
        server.sendall(b"answer")
        assert ours.recv(10) == b"answer"
    time.sleep(0.4)
    server.sendall(b"still open")
    assert ours.recv(10) == b"still open"


def test_it_keeps_an_earlier_deadline_that_comes_later(sockets):
    ours, _server = sockets
    watchdog = Watchdog()
    other_ours, other_server = socket.socketpair()
    try:
        long_call = threading.Thread(
            target=lambda: _wait_within(watchdog, other_ours, 30), daemon=True
        )
        long_call.start()
        time.sleep(0.1)  # the watchdog now sleeps towards the long call's deadline
        started = time.monotonic()
        with watchdog.bounded(ours.fileno(), 0.3):
            assert ours.recv(10) == b""
        assert time.monotonic() - started < 2
    finally:
        other_server.close()  # ends the long call
        long_call.join(5)
        other_ours.close()


def _wait_within(watchdog: Watchdog, sock: socket.socket, seconds: float) -> None:
    with watchdog.bounded(sock.fileno(), seconds):
        sock.recv(10)
