"""Talking to a DICOM peer with pynetdicom: who it is, how we connect, and C-ECHO (PS3.4 A).

:mod:`.store` sends the instances (C-STORE), :mod:`mediatool.importer.commit` asks for Storage
Commitment and :mod:`mediatool.importer.worklist` queries a Modality Worklist; all of them connect
through :func:`associate`.
"""

from __future__ import annotations

import contextlib
import logging
import re
import socket
import time
import warnings
from dataclasses import dataclass
from typing import Any, Final

from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian

from mediatool import __version__
from mediatool.dicom.uids import VERIFICATION
from mediatool.errors import MediatoolError
from mediatool.net.failure import (
    NetFailure,
    connect_failure,
    lost,
    not_established,
    status_failure,
    transient,
)

#: The uncompressed syntaxes every Storage SCP accepts (PS3.5 §10.1), as plain strings.
NATIVE: Final = (str(ExplicitVRLittleEndian), str(ImplicitVRLittleEndian))
_TRANSIENT_PAUSE: Final = 0.5  # seconds before asking again after a transient rejection
_AE_TITLE: Final = re.compile(r"[ -\[\]-~]{1,16}")  # PS3.5 AE VR: no backslash, no control


class PeerError(MediatoolError):
    """A peer given as ``AET@HOST:PORT`` that cannot be used (exit 2)."""


class PeerUnavailable(Exception):
    """The PACS cannot be reached or refuses every association; the import cannot go on.

    Given a :class:`.failure.NetFailure` (or plain words); ``failure`` keeps the former."""

    @property
    def failure(self) -> NetFailure | None:
        arg = self.args[0] if self.args else None
        return arg if isinstance(arg, NetFailure) else None


def quiet_pynetdicom() -> None:
    """pynetdicom logs every association; each problem already becomes an outcome, so its log
    records must not reach stderr through Python's last-resort handler (as cli.main does for
    pydicom)."""
    log = logging.getLogger("pynetdicom")
    if not any(isinstance(h, logging.NullHandler) for h in log.handlers):
        log.addHandler(logging.NullHandler())
    log.propagate = False
    # Its standard handlers format a log line for every PDU and DIMSE message (EVT_PDU_SENT,
    # EVT_DIMSE_RECV, ...): a third of its CPU per C-STORE, for records dropped above.
    # pynetdicom's own switch turns them off for associations made from now on.
    from pynetdicom import _config

    _config.LOG_HANDLER_LEVEL = "none"
    # When a connection is refused, pynetdicom drops its socket after a failed shutdown without
    # closing it (transport.py, AssociationSocket.connect); CPython closes the descriptor when
    # the object goes, with a ResourceWarning we cannot act on. :func:`associate` checks the
    # port first, so this only happens when a peer goes away in between.
    warnings.filterwarnings("ignore", category=ResourceWarning, module="pynetdicom.transport")


@dataclass(frozen=True, slots=True)
class Peer:
    ae_title: str
    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.ae_title}@{self.host}:{self.port}"


def check_ae_title(title: str, what: str = "AE title") -> str:
    if not _AE_TITLE.fullmatch(title) or not title.strip():
        raise PeerError(
            f"{what} {title!r} is not a valid AE title (1 to 16 characters, no backslash)"
        )
    return title


def parse_peer(text: str) -> Peer:
    """``AET@HOST:PORT`` → :class:`Peer`.

    Raises
    ------
    PeerError
        Not of that form, an invalid AE title, or a port outside 1-65535.
    """
    aet, at, rest = text.partition("@")
    host, colon, port = rest.rpartition(":")
    if not at or not colon or not host or not port.isdigit():
        raise PeerError(f"{text!r} is not of the form AET@HOST:PORT (e.g. PACS@10.0.0.5:104)")
    number = int(port)
    if not 0 < number < 65536:
        raise PeerError(f"port {number} in {text!r} is not between 1 and 65535")
    return Peer(check_ae_title(aet), host.strip("[]"), number)


@dataclass(frozen=True, slots=True)
class Network:
    """How we talk: our AE title, time-outs (seconds) and retries."""

    calling_aet: str = "MEDIATOOL"
    timeout: float = 30.0
    retries: int = 3
    retry_delay: float = 1.0


def make_ae(net: Network) -> Any:
    """A pynetdicom Application Entity with our AE title and time-outs."""
    from pynetdicom import AE  # here, not at the top: only PACS imports pay for pynetdicom

    quiet_pynetdicom()
    ae = AE(ae_title=net.calling_aet)
    ae.implementation_version_name = f"MEDIATOOL_{__version__}".replace(".", "_")[:16]
    ae.acse_timeout = net.timeout
    ae.dimse_timeout = net.timeout
    ae.network_timeout = net.timeout
    ae.connection_timeout = net.timeout
    return ae


def no_delay(assoc: Any) -> None:
    """Switch off Nagle's algorithm on the association's socket.

    A C-STORE is a request/response exchange of small PDUs; with Nagle on, the command PDU and
    the last data PDU wait for the peer's delayed ACK (~40 ms on Linux), which made every store
    take 40-90 ms on loopback. DCMTK does the same when TCP_NODELAY is set in its environment.
    """
    sock = getattr(getattr(getattr(assoc, "dul", None), "socket", None), "socket", None)
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def discard(assoc: Any) -> None:
    """Close the socket of an association that ended.

    pynetdicom shuts a socket down before closing it and skips the close when the shutdown
    fails (a peer that already hung up), which leaks the socket (a ResourceWarning)."""
    sock = getattr(getattr(getattr(assoc, "dul", None), "socket", None), "socket", None)
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):
            sock.close()


def _tcp_problem(peer: Peer, timeout: float) -> NetFailure | None:
    """Why a TCP connection to the peer cannot be made, or None when it can.

    Checked before pynetdicom connects: when a connection is refused, pynetdicom drops its
    socket without closing it (a ResourceWarning), and the plain reason is clearer anyway."""
    try:
        with socket.create_connection((peer.host, peer.port), timeout=timeout):
            return None
    except OSError as exc:
        return connect_failure(peer, exc)


def associate(ae: Any, peer: Peer, net: Network, **kwargs: Any) -> tuple[Any, NetFailure | None]:
    """``(association, None)`` once established (Nagle off), else ``(None, why)`` classified by
    :mod:`.failure` (refused, rejected with its reason, aborted, time-out).

    A transient rejection is asked again once, a moment later and without the TCP check: a PACS
    that takes only so many associations at once may still count the connection
    :func:`_tcp_problem` just closed (pynetdicom's SCP does until its ARTIM timer ends)."""
    for attempt in range(2):
        problem = None if attempt else _tcp_problem(peer, net.timeout)
        if problem is not None:
            return None, problem
        start = time.monotonic()
        assoc = ae.associate(peer.host, peer.port, ae_title=peer.ae_title, **kwargs)
        if assoc.is_established:
            no_delay(assoc)
            return assoc, None
        reason = not_established(assoc, peer, net.calling_aet, time.monotonic() - start)
        discard(assoc)
        if attempt or not transient(assoc):
            break
        time.sleep(_TRANSIENT_PAUSE)
    return None, reason


def no_answer(assoc: Any, peer: Peer, net: Network, started: float, doing: str) -> NetFailure:
    """No response came to ``doing`` on ``assoc``: aborted by the peer, or a time-out."""
    del assoc
    return lost(peer, net.calling_aet, time.monotonic() - started, net.timeout, doing)


@dataclass(frozen=True, slots=True)
class EchoResult:
    ok: bool
    message: str
    seconds: float
    failure: NetFailure | None = None


def echo(peer: Peer, net: Network) -> EchoResult:
    """C-ECHO (Verification, PS3.4 A). Never raises for the peer's behaviour."""
    ae = make_ae(net)
    ae.add_requested_context(VERIFICATION)
    start = time.perf_counter()
    assoc, reason = associate(ae, peer, net)
    if assoc is None:
        return EchoResult(False, str(reason), time.perf_counter() - start, reason)
    sent = time.monotonic()
    try:
        status = assoc.send_c_echo()
    finally:
        if assoc.is_established:
            assoc.release()
        discard(assoc)
    elapsed = time.perf_counter() - start
    code = status.get("Status") if status else None
    if code == 0:
        return EchoResult(True, f"{peer} answered the C-ECHO", elapsed)
    failure = (
        no_answer(assoc, peer, net, sent, "the C-ECHO")
        if code is None
        else status_failure(peer, int(code), "echo", "the C-ECHO")
    )
    return EchoResult(False, str(failure), elapsed, failure)
