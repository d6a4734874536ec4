"""Why a DICOM network exchange failed, in words for a person at a desk, and what to do.

One classification for every command that talks to a peer (``import``, ``echo``, ``find``,
``build --from-pacs``): a refused TCP connection, no route or no answer, an association rejected
(with the reason the peer gave, PS3.8 9.3.4), an association aborted (A-ABORT, PS3.8 9.3.8), a
time-out, and a DIMSE failure status with its meaning. Status meanings come from pynetdicom's
own tables (:mod:`pynetdicom.status`, PS3.4 and PS3.7 Annex C); reject reasons from pynetdicom's
A-ASSOCIATE primitive. An association rejected or aborted well before the time-out is never
called a time-out.
"""

from __future__ import annotations

import enum
import errno
import socket
from dataclasses import dataclass
from typing import Any, Final

#: Seconds under the time-out that still count as "at once" (a peer that hung up), not a time-out.
_EARLY: Final = 0.8


class Kind(enum.StrEnum):
    REFUSED = "connection refused"
    UNREACHABLE = "host unreachable"
    NO_ANSWER = "no answer"
    REJECTED = "association rejected"
    ABORTED = "association aborted"
    TIMEOUT = "time-out"
    NO_CONTEXT = "service not offered"
    STATUS = "failure status"


@dataclass(frozen=True, slots=True)
class NetFailure:
    """One failure: its kind, what happened (naming the peer) and what to do."""

    kind: Kind
    message: str
    action: str

    def __str__(self) -> str:
        return f"{self.message}; {self.action}"

    def as_dict(self) -> dict[str, str]:
        return {"kind": str(self.kind), "message": self.message, "action": self.action}


def _where(peer: Any) -> str:
    return str(peer)


def connect_failure(peer: Any, exc: OSError) -> NetFailure:
    """A TCP connection to ``peer`` (host, port) could not be made."""
    at = f"{peer.host}:{peer.port}"
    if isinstance(exc, ConnectionRefusedError) or exc.errno == errno.ECONNREFUSED:
        return NetFailure(
            Kind.REFUSED,
            f"nothing accepts connections at {at} (connection refused)",
            "check that the PACS is running and that host and port are right",
        )
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return NetFailure(
            Kind.TIMEOUT,
            f"no answer from {at} in time (connection time-out)",
            "check the host name or address, the network and any firewall",
        )
    if isinstance(exc, socket.gaierror):
        return NetFailure(
            Kind.UNREACHABLE,
            f"the host name {peer.host!r} is unknown ({exc.strerror or exc})",
            "check the host name or use the PACS's IP address",
        )
    return NetFailure(
        Kind.UNREACHABLE,
        f"cannot connect to {at} ({exc.strerror or type(exc).__name__})",
        "check the network, the address and any firewall",
    )


def _reject_reason(primitive: Any) -> str:
    parts = []
    for attr in ("result_str", "source_str", "reason_str"):
        try:
            parts.append(str(getattr(primitive, attr)))
        except Exception:  # pynetdicom raises for values outside its tables
            continue
    return ", ".join(p for p in parts if p and "no value" not in p)


def not_established(assoc: Any, peer: Any, calling_aet: str, elapsed: float) -> NetFailure:
    """An association request that did not lead to an association."""
    primitive = getattr(getattr(assoc, "acceptor", None), "primitive", None)
    if getattr(assoc, "is_rejected", False):
        reason = _reject_reason(primitive)
        if transient(assoc):  # PS3.8 9.3.4: e.g. "local limit exceeded", a busy PACS
            return NetFailure(
                Kind.REJECTED,
                f"{_where(peer)} rejected the association for now ({reason})",
                "the PACS takes no more associations at the moment: try again later, or ask "
                "for fewer at once (--associations)",
            )
        return NetFailure(
            Kind.REJECTED,
            f"{_where(peer)} rejected the association" + (f" ({reason})" if reason else ""),
            f"the PACS must know our AE title {calling_aet!r} (and our host, if it checks it) "
            f"and be called with its own AE title {peer.ae_title!r}; ask its administrator",
        )
    if primitive is not None and not getattr(assoc, "accepted_contexts", None):
        return NetFailure(
            Kind.NO_CONTEXT,
            f"{_where(peer)} accepted none of the services or encodings we proposed",
            "ask the PACS administrator to enable the service for our AE title",
        )
    return lost(peer, calling_aet, elapsed, _timeout_of(assoc), "the association request")


def transient(assoc: Any) -> bool:
    """The association was rejected for now ("rejected-transient", PS3.8 9.3.4 result 2):
    the PACS is busy or at its limit of associations at once, and may accept a moment later."""
    primitive = getattr(getattr(assoc, "acceptor", None), "primitive", None)
    return bool(getattr(assoc, "is_rejected", False)) and getattr(primitive, "result", 0) == 2


def _timeout_of(assoc: Any) -> float | None:
    ae = getattr(assoc, "ae", None)
    value = getattr(ae, "acse_timeout", None)
    return float(value) if isinstance(value, (int, float)) else None


def lost(
    peer: Any, calling_aet: str, elapsed: float, timeout: float | None, doing: str
) -> NetFailure:
    """No answer came to ``doing``: aborted by the peer (early) or a real time-out."""
    if timeout is not None and elapsed >= timeout * _EARLY:
        return NetFailure(
            Kind.TIMEOUT,
            f"{_where(peer)} gave no answer to {doing} within {timeout:g} s (time-out)",
            "try again later, or give a longer --timeout if the PACS is slow",
        )
    when = "at once" if elapsed < 1 else f"after {elapsed:.1f} s"
    return NetFailure(
        Kind.ABORTED,
        f"{_where(peer)} ended the association {when} during {doing} (aborted, not a time-out)",
        f"the PACS may not allow this for our AE title {calling_aet!r}: ask its administrator "
        "(or look in its log)",
    )


def status_text(code: int, service: str) -> str:
    """``0xA801`` → ``0xA801 (Move destination unknown)`` from pynetdicom's tables."""
    from pynetdicom import status as st

    tables = {
        "store": st.STORAGE_SERVICE_CLASS_STATUS,
        "find": st.QR_FIND_SERVICE_CLASS_STATUS,
        "move": st.QR_MOVE_SERVICE_CLASS_STATUS,
        "get": st.QR_GET_SERVICE_CLASS_STATUS,
        "worklist": st.MODALITY_WORKLIST_SERVICE_CLASS_STATUS,
        "commit": st.STORAGE_COMMITMENT_SERVICE_CLASS_STATUS,
        "echo": st.VERIFICATION_SERVICE_CLASS_STATUS,
    }
    entry = tables.get(service, st.GENERAL_STATUS).get(code) or st.GENERAL_STATUS.get(code)
    meaning = entry[1] if entry else st.code_to_category(code).lower()
    return f"0x{code:04X} ({meaning})"


_STATUS_ACTION: Final = {
    0x0122: "the PACS does not support this kind of object: ask its administrator",
    0x0124: "the PACS does not allow this for our AE title: ask its administrator",
    0xA801: "the move destination must be configured on the PACS (AE title, host, port)",
}


def status_failure(peer: Any, code: int, service: str, doing: str) -> NetFailure:
    """The peer answered ``doing`` with a failure status."""
    action = _STATUS_ACTION.get(code)
    if action is None and 0xA700 <= code <= 0xA7FF:
        action = "the PACS is out of resources (disk full?): tell its administrator"
    return NetFailure(
        Kind.STATUS,
        f"{_where(peer)} refused {doing}: status {status_text(code, service)}",
        action or "look in the PACS's log for the reason, or ask its administrator",
    )
