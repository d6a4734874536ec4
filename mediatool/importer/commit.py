"""Storage Commitment Push Model as SCU (PS3.4 Annex J; IHE RAD-10).

We send one N-ACTION-RQ (Action Type ID 1, "Request Storage Commitment", on the well-known
instance 1.2.840.10008.1.20.1.1) listing every instance (Referenced SOP Sequence) with a new
Transaction UID, then wait for the N-EVENT-REPORT-RQ (Event Type ID 1 all committed, 2 failures
exist) with the same Transaction UID. PS3.4 J.3.3 lets the SCP send the report on the same
association or on a new one it opens to us; Orthanc always opens a new one, to the Host and
Port it has configured for our AE title, so when ``listen_port`` is given we also accept
associations on that port (Storage Commitment Push Model with either role, SCP/SCU Role
Selection PS3.7 D.3.3.4) while we wait.
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence as DicomSequence
from pynetdicom import evt

from mediatool.dicom.uids import STORAGE_COMMITMENT_PUSH, STORAGE_COMMITMENT_PUSH_INSTANCE
from mediatool.net.association import NATIVE, Network, Peer, associate, discard, make_ae
from mediatool.net.failure import status_text

PUSH_MODEL: Final = STORAGE_COMMITMENT_PUSH
PUSH_MODEL_INSTANCE: Final = STORAGE_COMMITMENT_PUSH_INSTANCE
_FAILURE: Final = {  # PS3.4 J.3.3.1.1.2 Failure Reason (0008,1197)
    0x0110: "processing failure",
    0x0112: "no such object instance",
    0x0119: "class / instance conflict",
    0x0122: "referenced SOP Class not supported",
    0x0131: "duplicate transaction UID",
    0x0213: "resource limitation",
}


@dataclass(slots=True)
class CommitResult:
    """Which instances the PACS committed; ``error`` when no complete answer came."""

    transaction_uid: str
    committed: set[str] = field(default_factory=set)
    failed: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    local_host: str | None = None  # our address on the association: the PACS sees us there


def commit_help(peer: Peer, net: Network, listen_port: int | None, local_host: str | None) -> str:
    """What the PACS must be configured with for its report to reach us, and how to test it."""
    host = local_host or "this computer's address"
    me = net.calling_aet
    if listen_port:
        where = f"our AE title {me!r} with host {host} and port {listen_port}"
        back = f"{me}@{host}:{listen_port}"
        told = ""
    else:
        where = f"our AE title {me!r} with host {host} and a port on which we listen"
        back = f"{me}@{host}:PORT"
        told = " Give that port here with --listen-port PORT: without it nothing listens."
    return (
        f"For its Storage Commitment report, the PACS {peer} must know {where}.{told} Test the "
        f"way there with `mediatool echo {peer} --calling-aet {me}`, and the way back with the "
        f"PACS's own C-ECHO to {back} while an import with --commit waits. The images were "
        "sent: keep the disc until the PACS confirms them (run the same command again; nothing "
        "is sent twice)."
    )


class _Waiter:
    """Receives the N-EVENT-REPORT on whichever association it comes."""

    def __init__(self, transaction_uid: str) -> None:
        self.transaction_uid = transaction_uid
        self.done = threading.Event()
        self.report: Dataset | None = None

    def handle(self, event: Any) -> tuple[int, None]:
        try:
            info = event.event_information
        except Exception:  # an undecodable report: refuse it, keep waiting
            return 0x0110, None
        if event.request.EventTypeID not in (1, 2):
            return 0x0113, None  # no such event type (PS3.7 C.4.1.1.2)
        if str(info.get("TransactionUID", "")) != self.transaction_uid:
            return 0x0110, None  # another transaction: not ours
        self.report = info
        self.done.set()
        return 0x0000, None


def _request(transaction_uid: str, refs: Sequence[tuple[str, str]]) -> Dataset:
    ds = Dataset()
    ds.TransactionUID = transaction_uid
    items = []
    for sop_class, sop_instance in refs:
        item = Dataset()
        item.ReferencedSOPClassUID = sop_class
        item.ReferencedSOPInstanceUID = sop_instance
        items.append(item)
    ds.ReferencedSOPSequence = DicomSequence(items)
    return ds


def _read_report(report: Dataset, result: CommitResult) -> None:
    for item in report.get("ReferencedSOPSequence", []) or []:
        result.committed.add(str(item.get("ReferencedSOPInstanceUID", "")))
    for item in report.get("FailedSOPSequence", []) or []:
        reason = item.get("FailureReason")
        text = _FAILURE.get(int(reason), f"failure reason 0x{int(reason):04X}") if reason else ""
        result.failed[str(item.get("ReferencedSOPInstanceUID", ""))] = text or "failed"


def _listener(net: Network, host: str, port: int, waiter: _Waiter) -> Any:
    ae = make_ae(net)
    ae.add_supported_context(PUSH_MODEL, list(NATIVE), scu_role=True, scp_role=True)
    handlers = [(evt.EVT_N_EVENT_REPORT, waiter.handle)]
    return ae.start_server((host, port), block=False, evt_handlers=handlers)


def request_commitment(
    peer: Peer,
    net: Network,
    refs: Sequence[tuple[str, str]],
    *,
    listen_port: int | None = None,
    wait: float = 60.0,
) -> CommitResult:
    """Ask ``peer`` to commit ``refs`` ((SOP Class UID, SOP Instance UID) pairs) and wait up to
    ``wait`` seconds for its report. Never raises for the peer's behaviour."""
    result = CommitResult(f"2.25.{uuid.uuid4().int}")
    waiter = _Waiter(result.transaction_uid)
    ae = make_ae(net)
    ae.add_requested_context(PUSH_MODEL, list(NATIVE))
    handlers = [(evt.EVT_N_EVENT_REPORT, waiter.handle)]
    assoc, reason = associate(ae, peer, net, evt_handlers=handlers)
    if assoc is None:
        result.error = str(reason)
        return result
    server = None
    try:
        with contextlib.suppress(Exception):
            result.local_host = str(assoc.dul.socket.socket.getsockname()[0])
        if listen_port is not None:
            local = result.local_host or ""
            try:
                server = _listener(net, local, listen_port, waiter)
            except OSError as exc:
                result.error = f"cannot listen on port {listen_port} for the report: {exc}"
                return result
        status, _ = assoc.send_n_action(
            _request(result.transaction_uid, refs), 1, PUSH_MODEL, PUSH_MODEL_INSTANCE
        )
        code = status.get("Status") if status else None
        if code != 0:
            shown = "no answer" if code is None else status_text(int(code), "commit")
            result.error = f"{peer} did not accept the Storage Commitment request ({shown})"
            return result
        if not waiter.done.wait(wait):
            result.error = f"no Storage Commitment report from {peer} within {wait:g} s"
            return result
    finally:
        if assoc.is_established:
            with contextlib.suppress(Exception):
                assoc.release()
        discard(assoc)
        if server is not None:
            server.shutdown()
    assert waiter.report is not None
    _read_report(waiter.report, result)
    return result
