"""C-STORE requests on an established pynetdicom association, one after another, safely.

``Association.send_c_store`` pauses the association's reactor thread for each request and lets
it run again after each response. The reactor polls the DIMSE message queue (non-blocking)
whenever it runs, and its "paused" flag can still read ``True`` for a moment after it has been
let go; when the next request starts in that moment, the reactor can take that request's
C-STORE-RSP off the queue and drop it as "not a request". The sender then waits for the whole
DIMSE time-out (30 s by default) and aborts (pynetdicom issue #435 describes the race). We saw
it about once in 2,500 stores against Orthanc on loopback, and with C-FIND (``send_c_find`` lets
the reactor go after each query): :func:`hold_reactor` holds it before each request.

So a :class:`Sender` holds the reactor paused for the whole run of stores (nothing else is
expected on a storage association we requested; an A-ABORT or a closed connection still ends
the wait, pynetdicom puts an empty message on the queue for it), and sends each C-STORE request
from the data set bytes already encoded in the presentation context's Transfer Syntax (no decode
and re-encode).

The request goes out as pynetdicom's own DIMSE provider would send it (``DIMSEMessage.encode_msg``:
the command set in one P-DATA-TF PDU, the data set in fragments of the peer's maximum PDU length,
PS3.8 Annex E); the response comes back through pynetdicom's DUL and DIMSE provider
(``get_msg``). Encoded here by hand, with ``tests/net/test_dimse.py`` checking the bytes are
pynetdicom's (issue 17: a C-STORE cost us ten times DCMTK's CPU):

* the command set (:func:`command`, seven elements in Implicit VR Little Endian, PS3.7 §6.3.1,
  §9.3.1.1): pynetdicom builds it as a pydicom ``Dataset`` and writes it with pydicom's writer,
  about 0.4 ms of CPU per request;
* the P-DATA-TF PDUs (:func:`pdata_tf`, PS3.8 §9.3.5: a 6-byte header and one PDV item), written
  to the association's socket through pynetdicom's own ``AssociationSocket.send`` in one call
  per request. Handing each P-DATA primitive to the DUL instead (``send_pdu``) costs a turn of
  its reactor loop, a state machine action and a PDU object per fragment; on an established
  association that action (DT-1, Sta6 → Sta6) only encodes and sends the PDU, and nothing else
  sends on an association whose reactor is held. A failed send is pynetdicom's "transport
  closed" event (Evt17), as it would be from the DUL: the association ends and the wait for the
  response with it.

When the reactor cannot be held (another pynetdicom version), it falls back to ``send_c_store``.
"""

from __future__ import annotations

import io
import struct
import time
import warnings
from typing import Any, Final

from pydicom import dcmread

from mediatool.dicom.elements import implicit, uid, ul, us

_HOLD_TIMEOUT: Final = 2.0
_SETTLE: Final = 0.005  # longer than one turn of the reactor loop (1 ms sleep)
_PRIORITY_LOW: Final = 2  # PS3.7 9.3.1.1 Priority: LOW, as send_c_store uses
_C_STORE_RQ: Final = 0x0001  # (0000,0100) Command Field
_DATA_SET_PRESENT: Final = 0x0001  # (0000,0800) Command Data Set Type: anything but 0x0101
# PS3.8 E.2 Message Control Header: bit 0 command (1) or data set (0), bit 1 last fragment
_COMMAND_MORE: Final = b"\x01"
_COMMAND_LAST: Final = b"\x03"
_DATA_MORE: Final = b"\x00"
_DATA_LAST: Final = b"\x02"
_PDU_HEADER: Final = struct.Struct(">BxL")  # PS3.8 9.3.5: PDU type 04H, reserved, PDU length
_PDV_HEADER: Final = struct.Struct(">LB")  # PS3.8 9.3.5.1: item length, presentation context ID
_P_DATA_TF: Final = 0x04
_BATCH: Final = 1 << 20  # bytes of PDUs handed to the socket at once (a large file: several)


def command(sop_class: str, sop_instance: str, message_id: int) -> bytes:
    """The C-STORE-RQ command set (PS3.7 §9.3.1.1), Implicit VR Little Endian, as pynetdicom
    encodes it for ``send_c_store`` (its element order, Priority LOW, no Move Originator)."""
    body = b"".join(
        (
            implicit(0x00000002, uid(sop_class)),  # Affected SOP Class UID
            implicit(0x00000100, us(_C_STORE_RQ)),
            implicit(0x00000110, us(message_id)),
            implicit(0x00000700, us(_PRIORITY_LOW)),
            implicit(0x00000800, us(_DATA_SET_PRESENT)),
            implicit(0x00001000, uid(sop_instance)),  # Affected SOP Instance UID
        )
    )
    return implicit(0x00000000, ul(len(body))) + body  # Command Group Length


def fragments(data: memoryview | bytes, max_pdu: int, *, is_command: bool = False) -> list[bytes]:
    """The PDV values of a command or data set: each its control header (PS3.8 E.2) and at most
    ``max_pdu`` - 6 bytes (the PDV item's length and context ID, PS3.8 §9.3.5.1); 0 means no
    limit (PS3.8 D.1)."""
    more, last_one = (_COMMAND_MORE, _COMMAND_LAST) if is_command else (_DATA_MORE, _DATA_LAST)
    step = max_pdu - 6 if max_pdu > 0 else max(len(data), 1)
    last = max(len(data) - 1, 0) // step * step
    return [
        (last_one if start == last else more) + data[start : start + step]
        for start in range(0, last + 1, step)
    ]


def pdata_tf(context_id: int, pdv: bytes) -> bytes:
    """A P-DATA-TF PDU (PS3.8 §9.3.5) carrying one PDV item: ``pdv`` is its value, the message
    control header and a fragment (:func:`fragments`), as pynetdicom's ``P_DATA_TF`` encodes it."""
    return b"".join(
        (
            _PDU_HEADER.pack(_P_DATA_TF, len(pdv) + 5),  # item length field 4, context ID 1
            _PDV_HEADER.pack(len(pdv) + 1, context_id),
            pdv,
        )
    )


def batches(pdus: list[bytes], limit: int = _BATCH) -> list[bytes]:
    """``pdus`` joined into runs of about ``limit`` bytes (one socket call each)."""
    out: list[bytes] = []
    run: list[bytes] = []
    size = 0
    for pdu in pdus:
        run.append(pdu)
        size += len(pdu)
        if size >= limit:
            out.append(b"".join(run))
            run, size = [], 0
    if run:
        out.append(b"".join(run))
    return out


def hold_reactor(assoc: Any) -> bool:
    """Keep the reactor thread of ``assoc`` (an association we requested) from taking messages
    off the DIMSE queue until its checkpoint is set again (pynetdicom issue #435, above); False
    when it cannot be held (another pynetdicom version, or the reactor ended).

    The reactor sets its "paused" flag just before it waits on the checkpoint and clears it just
    after, so the flag can be stale: seen set while the reactor has already passed the wait (for
    as long as a busy machine leaves the thread unscheduled). Held means the reactor thread is
    in the checkpoint's list of waiters (``threading.Event``'s condition) once the checkpoint is
    cleared; only when that list cannot be seen, the flag after one turn of the loop.
    """
    checkpoint = getattr(assoc, "_reactor_checkpoint", None)
    if checkpoint is None or not hasattr(assoc, "_is_paused"):
        return False
    waiters = getattr(getattr(checkpoint, "_cond", None), "_waiters", None)
    checkpoint.clear()
    start = time.monotonic()
    while True:
        elapsed = time.monotonic() - start
        if waiters is not None and len(waiters) > 0:
            return True  # blocked in wait(): it goes on only when the checkpoint is set
        if waiters is None and assoc._is_paused and elapsed >= _SETTLE:
            return True
        if elapsed > _HOLD_TIMEOUT:
            checkpoint.set()
            return False
        time.sleep(0.0001)


class Sender:
    """C-STOREs over one association; call :meth:`close` before releasing it."""

    def __init__(self, assoc: Any) -> None:
        self.assoc = assoc
        self.held = hold_reactor(assoc)

    def close(self) -> None:
        if self.held:
            self.held = False
            self.assoc._reactor_checkpoint.set()

    def store(
        self, data: bytes, offset: int, context: Any, sop_class: str, sop_instance: str, msg_id: int
    ) -> int | None:
        """Send the data set ``data[offset:]`` (encoded in ``context``'s Transfer Syntax);
        the response status, or None when the association ended or no answer came in time."""
        if not self.held:
            return self._fallback(data)
        dul = self.assoc.dul
        sock = getattr(dul, "socket", None)
        if sock is None or not self.assoc.is_established or not dul.is_alive():
            return None  # ended: nothing would answer
        cid = context.context_id
        max_pdu = self.assoc.dimse.maximum_pdu_size
        pdvs = fragments(command(sop_class, sop_instance, msg_id), max_pdu, is_command=True)
        pdvs += fragments(memoryview(data)[offset:], max_pdu)
        try:
            for run in batches([pdata_tf(cid, pdv) for pdv in pdvs]):
                sock.send(run)  # on failure: Evt17 for the DUL, which ends the wait below
        except (OSError, RuntimeError, AttributeError):
            return None
        _, rsp = self.assoc.dimse.get_msg(block=True)
        if rsp is None or not getattr(rsp, "is_valid_response", False):
            return None
        status = getattr(rsp, "Status", None)
        return int(status) if status is not None else None

    def _fallback(self, data: bytes) -> int | None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                rsp = self.assoc.send_c_store(dcmread(io.BytesIO(data)))
            except RuntimeError:  # the association ended before the request could be sent
                return None
        status = rsp.get("Status") if rsp is not None else None
        return int(status) if status is not None else None
