"""Talking to a DICOM peer with pynetdicom: who it is, how we connect, and C-ECHO (PS3.4 A).

:mod:`.store` sends the instances (C-STORE), :mod:`.commit` asks for Storage Commitment and
:mod:`.worklist` queries a Modality Worklist; all of them connect through :func:`associate`.
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

from mediatool import __version__
from mediatool.errors import MediatoolError
from mediatool.importer.encode import EXPLICIT_LE, IMPLICIT_LE

NATIVE: Final = (EXPLICIT_LE, IMPLICIT_LE)
VERIFICATION: Final = "1.2.840.10008.1.1"
_AE_TITLE: Final = re.compile(r"[ -\[\]-~]{1,16}")  # PS3.5 AE VR: no backslash, no control


class PeerError(MediatoolError):
    """A peer given as ``AET@HOST:PORT`` that cannot be used (exit 2)."""


class PeerUnavailable(Exception):
    """The PACS cannot be reached or refuses every association; the import cannot go on."""


def quiet_pynetdicom() -> None:
    """pynetdicom logs every association; each problem already becomes an outcome, so its log
    records must not reach stderr through Python's last-resort handler (as cli.main does for
    pydicom)."""
    log = logging.getLogger("pynetdicom")
    if not any(isinstance(h, logging.NullHandler) for h in log.handlers):
        log.addHandler(logging.NullHandler())
    log.propagate = False
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


def why_not(assoc: Any, peer: Peer) -> str:
    """Plain words for an association that was not established."""
    if assoc.is_rejected:
        return f"{peer} rejected the association (is the AE title {peer.ae_title!r} right?)"
    answered = getattr(getattr(assoc, "acceptor", None), "primitive", None) is not None
    if answered and not assoc.accepted_contexts:
        return f"{peer} accepted none of the proposed presentation contexts"
    if answered:
        return f"{peer} aborted the association"
    return (
        f"no DICOM answer from {peer.host}:{peer.port} (not running, wrong port, or no answer "
        "in time)"
    )


def _tcp_problem(peer: Peer, timeout: float) -> str | None:
    """Why a TCP connection to the peer cannot be made, or None when it can.

    Checked before pynetdicom connects: when a connection is refused, pynetdicom drops its
    socket without closing it (a ResourceWarning), and the plain reason is clearer anyway."""
    try:
        with socket.create_connection((peer.host, peer.port), timeout=timeout):
            return None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        return f"cannot connect to {peer.host}:{peer.port} ({reason})"


def associate(ae: Any, peer: Peer, net: Network, **kwargs: Any) -> tuple[Any, str]:
    """``(association, "")`` once established (Nagle off), else ``(None, why in plain words)``."""
    problem = _tcp_problem(peer, net.timeout)
    if problem is not None:
        return None, problem
    assoc = ae.associate(peer.host, peer.port, ae_title=peer.ae_title, **kwargs)
    if assoc.is_established:
        no_delay(assoc)
        return assoc, ""
    reason = why_not(assoc, peer)
    discard(assoc)
    return None, reason


@dataclass(frozen=True, slots=True)
class EchoResult:
    ok: bool
    message: str
    seconds: float


def echo(peer: Peer, net: Network) -> EchoResult:
    """C-ECHO (Verification, PS3.4 A). Never raises for the peer's behaviour."""
    ae = make_ae(net)
    ae.add_requested_context(VERIFICATION)
    start = time.perf_counter()
    assoc, reason = associate(ae, peer, net)
    if assoc is None:
        return EchoResult(False, reason, time.perf_counter() - start)
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
    shown = "no answer" if code is None else f"status 0x{code:04X}"
    return EchoResult(False, f"{peer} did not confirm the C-ECHO ({shown})", elapsed)
