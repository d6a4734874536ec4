"""Network failures told apart (issue 10): refused connection, association rejected with the
peer's reason, aborted at once, real time-out, and status meanings from pynetdicom's tables.
Each against a real peer: nothing listening, a pynetdicom SCP that only knows one calling AE
title, a TCP listener that never answers."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from ports import LOCALHOST, bound_port, reserve_port
from pynetdicom import AE
from pynetdicom.sop_class import Verification  # type: ignore[attr-defined]  # names made at run time

from mediatool.cli import main
from mediatool.net.association import Network, Peer, echo
from mediatool.net.failure import Kind, status_failure, status_text


def test_status_meanings_come_from_pynetdicom() -> None:
    assert status_text(0xA801, "move") == "0xA801 (Move destination unknown)"
    assert status_text(0xC000, "move") == "0xC000 (Unable to Process)"
    assert status_text(0x0122, "store") == "0x0122 (Refused: SOP Class Not Supported)"
    assert status_text(0xA700, "store") == "0xA700 (Refused: Out of Resources)"
    failure = status_failure(Peer("P", "h", 1), 0xA801, "move", "the C-MOVE")
    assert failure.kind is Kind.STATUS
    assert "must be configured on the PACS" in failure.action


def test_nothing_listening_is_a_refused_connection() -> None:
    result = echo(Peer("PACS", LOCALHOST, reserve_port()), Network(timeout=2))
    assert not result.ok and result.failure is not None
    assert result.failure.kind is Kind.REFUSED
    assert "connection refused" in result.message


@pytest.fixture
def picky() -> Iterator[Peer]:
    """A pynetdicom Verification SCP that accepts only the calling AE title KNOWN."""
    ae = AE(ae_title="PICKY")
    ae.add_supported_context(Verification)
    ae.require_calling_aet = ["KNOWN"]
    server = ae.start_server((LOCALHOST, 0), block=False)
    assert server is not None
    try:
        yield Peer("PICKY", LOCALHOST, bound_port(server))
    finally:
        server.shutdown()


def test_rejected_association_names_the_reason(picky: Peer) -> None:
    start = time.monotonic()
    result = echo(picky, Network(calling_aet="STRANGER", timeout=20))
    assert time.monotonic() - start < 5
    assert result.failure is not None and result.failure.kind is Kind.REJECTED
    assert "rejected the association" in result.message
    assert "Calling AE title not recognised" in result.message
    assert "our AE title 'STRANGER'" in result.message
    assert "time-out" not in result.message
    assert echo(picky, Network(calling_aet="KNOWN", timeout=5)).ok


@pytest.fixture
def silent() -> Iterator[Peer]:
    """Accepts TCP connections and never says a word."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((LOCALHOST, 0))
    sock.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
                held.append(conn)
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield Peer("MUTE", LOCALHOST, bound_port(sock))
    finally:
        stop.set()
        thread.join(2)
        for conn in held:
            conn.close()
        sock.close()


def test_a_silent_peer_is_a_time_out(silent: Peer) -> None:
    result = CliRunner().invoke(
        main, ["echo", str(silent), "--timeout", "1", "--json"], catch_exceptions=False
    )
    assert result.exit_code == 1
    message = json.loads(result.stdout)["message"]
    assert "(time-out)" in message and "aborted" not in message
