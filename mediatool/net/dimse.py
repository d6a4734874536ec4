"""C-STORE requests on an established pynetdicom association, one after another, safely.

``Association.send_c_store`` pauses the association's reactor thread for each request and lets
it run again after each response. The reactor polls the DIMSE message queue (non-blocking)
whenever it runs, and its "paused" flag can still read ``True`` for a moment after it has been
let go; when the next request starts in that moment, the reactor can take that request's
C-STORE-RSP off the queue and drop it as "not a request". The sender then waits for the whole
DIMSE time-out (30 s by default) and aborts (pynetdicom issue #435 describes the race). We saw
it about once in 2,500 stores against Orthanc on loopback.

So a :class:`Sender` holds the reactor paused for the whole run of stores (nothing else is
expected on a storage association we requested; an A-ABORT or a closed connection still ends
the wait, pynetdicom puts an empty message on the queue for it), builds each C-STORE request
from the data set bytes already encoded in the presentation context's Transfer Syntax (no decode
and re-encode), and sends it with the DIMSE provider's ``send_msg``/``get_msg``. When the
reactor cannot be held (another pynetdicom version), it falls back to ``send_c_store``.
"""

from __future__ import annotations

import io
import time
import warnings
from typing import Any, Final

from pydicom import dcmread

_HOLD_TIMEOUT: Final = 2.0
_SETTLE: Final = 0.005  # longer than one turn of the reactor loop (1 ms sleep)
_PRIORITY_LOW: Final = 2  # PS3.7 9.3.1.1 Priority: LOW, as send_c_store uses


class Sender:
    """C-STOREs over one association; call :meth:`close` before releasing it."""

    def __init__(self, assoc: Any) -> None:
        self.assoc = assoc
        self.held = self._hold()

    def _hold(self) -> bool:
        checkpoint = getattr(self.assoc, "_reactor_checkpoint", None)
        if checkpoint is None or not hasattr(self.assoc, "_is_paused"):
            return False
        checkpoint.clear()
        start = time.monotonic()
        while True:
            # Nothing has been sent yet, so a last turn of the reactor past a stale flag finds
            # an empty queue; waiting longer than one turn lets it block on the checkpoint.
            elapsed = time.monotonic() - start
            if self.assoc._is_paused and elapsed >= _SETTLE:
                return True
            if elapsed > _HOLD_TIMEOUT:
                checkpoint.set()
                return False
            time.sleep(0.0005)

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
        from pynetdicom.dimse_primitives import C_STORE

        req = C_STORE()
        req.MessageID = msg_id
        req.Priority = _PRIORITY_LOW
        req.AffectedSOPClassUID = sop_class
        req.AffectedSOPInstanceUID = sop_instance
        req.DataSet = io.BytesIO(data[offset:])
        try:
            self.assoc.dimse.send_msg(req, context.context_id)
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
