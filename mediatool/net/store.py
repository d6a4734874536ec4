"""Sending instances to a PACS with C-STORE (PS3.4 Annex B) over pynetdicom associations.

Presentation contexts (PS3.8 §9.3.2.2, at most 128 per association): for every SOP Class the
instances need, one context per Transfer Syntax the media uses, plus one fallback context
offering Explicit and Implicit VR Little Endian, which every Storage SCP must accept (PS3.5
§10.1, Implicit VR Little Endian is the default Transfer Syntax). When the PACS refuses the
original Transfer Syntax, the instance is converted losslessly into the accepted native one
(:func:`mediatool.pixels.transcode.rewrite`: re-encoding, or decompression of lossless or
lossy pixel data without new loss) and the outcome says so (``import.converted``).

Per-instance status (PS3.4 B.2.3, PS3.7 C): success and the warnings B000, B006, B007 mean
stored; A7xx "out of resources" is retried; any other failure is the PACS's refusal. A lost
association (A-ABORT, A-P-ABORT, time-out, connection reset) is re-established and the instance
sent again, ``retries`` times with a pause doubling from ``retry_delay``; a PACS that cannot be
reached at all raises :class:`PeerUnavailable` and the import reports every remaining instance
as not sent.
"""

from __future__ import annotations

import contextlib
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final

from pydicom.uid import UID

from mediatool.net.association import (
    NATIVE,
    Network,
    Peer,
    PeerUnavailable,
    associate,
    discard,
    make_ae,
    no_answer,
)
from mediatool.net.dimse import Sender
from mediatool.net.failure import status_text
from mediatool.pixels import transcode

MAX_CONTEXTS: Final = 128  # PS3.8 §9.3.2.2: presentation context IDs are odd numbers 1-255
_WARNINGS: Final = frozenset({0xB000, 0xB006, 0xB007})

Sleep = Callable[[float], None]


def plan_contexts(needs: Iterable[tuple[str, str]]) -> list[list[tuple[str, tuple[str, ...]]]]:
    """Presentation contexts for (SOP Class, Transfer Syntax) pairs, in groups of at most 128.

    Each SOP Class gets its original syntaxes one context each (so the PACS cannot pick a native
    syntax and force a needless conversion) and a native fallback context; a SOP Class's
    contexts are never split across groups.
    """
    by_class: dict[str, set[str]] = {}
    for sop, ts in needs:
        by_class.setdefault(sop, set()).add(ts)
    groups: list[list[tuple[str, tuple[str, ...]]]] = [[]]
    for sop in sorted(by_class):
        own = sorted(by_class[sop])
        contexts: list[tuple[str, tuple[str, ...]]] = [(sop, (ts,)) for ts in own]
        fallback = tuple(ts for ts in NATIVE if ts not in own)
        if fallback:
            contexts.append((sop, fallback))
        if len(groups[-1]) + len(contexts) > MAX_CONTEXTS:
            groups.append([])
        groups[-1].extend(contexts)
    return [g for g in groups if g]


def dataset_offset(part10: bytes) -> int:
    """Where the data set starts in a Part 10 file written with
    :func:`mediatool.dicom.filemeta.encode` (preamble, ``DICM``, then the File Meta group, whose
    length (0002,0000) gives)."""
    return 144 + int.from_bytes(part10[140:144], "little")


@dataclass(frozen=True, slots=True)
class Prepared:
    """A Part 10 file ready to write or send, and what was changed in it."""

    data: bytes
    transfer_syntax: str
    changed: tuple[str, ...] = ()

    @property
    def offset(self) -> int:
        return dataset_offset(self.data)


@dataclass(frozen=True, slots=True)
class Delivery:
    """The answer for one instance. ``code`` is None for a plain success, a note
    (``import.converted``, ``import.stored-with-warning``) on success, or the reason."""

    ok: bool
    code: str | None = None
    message: str = ""
    transfer_syntax: str | None = None


def _ts_name(uid: str) -> str:
    return UID(uid).name


class StoreSession:
    """C-STOREs to one PACS over as few associations as possible."""

    def __init__(
        self,
        peer: Peer,
        net: Network,
        needs: Iterable[tuple[str, str]],
        *,
        sleep: Sleep = time.sleep,
    ) -> None:
        self.peer = peer
        self.net = net
        self._sleep = sleep
        self.groups = plan_contexts(needs)
        self._group_of = {sop: n for n, group in enumerate(self.groups) for sop, _ in group}
        self._assoc: Any = None
        self._sender: Sender | None = None
        self._group = -1
        self._message_id = 0
        self._chosen: dict[tuple[str, str], Any] = {}  # of this association (see _choose)
        self.associations = 0

    def group_of(self, sop_class: str) -> int:
        return self._group_of.get(sop_class, 0)

    # -- association ---------------------------------------------------------------------------

    def connect(self, group: int = 0, *, retry: bool = True) -> None:
        """Establish the association for a context group now (the first instance's group).

        Raises
        ------
        PeerUnavailable
            Not established (after the retries, when ``retry``).
        """
        self._connect(group, retry=retry)

    def _connect(self, group: int, *, retry: bool = True) -> Any:
        if self._assoc is not None and self._assoc.is_established and self._group == group:
            return self._assoc
        self.close()
        ae = make_ae(self.net)
        for sop, syntaxes in self.groups[group]:
            ae.add_requested_context(sop, list(syntaxes))
        reason = None
        for attempt in range(self.net.retries + 1 if retry else 1):
            if attempt:
                self._sleep(self.net.retry_delay * 2 ** (attempt - 1))
            assoc, reason = associate(ae, self.peer, self.net)
            if assoc is not None:
                self._assoc, self._group, self._message_id = assoc, group, 0
                self._chosen = {}
                self._sender = Sender(assoc)
                self.associations += 1
                return assoc
        raise PeerUnavailable(reason)

    def close(self) -> None:
        """Release the association (A-RELEASE): the PACS keeps what it stored."""
        self._end(abort=False)

    def _drop(self) -> None:
        """Abort the association (A-ABORT): after a failure mid-exchange."""
        self._end(abort=True)

    def _end(self, *, abort: bool) -> None:
        assoc, self._assoc = self._assoc, None
        if self._sender is not None:
            self._sender.close()
            self._sender = None
        if assoc is not None and assoc.is_established:
            with contextlib.suppress(Exception):
                assoc.abort() if abort else assoc.release()
        discard(assoc)

    # -- one instance --------------------------------------------------------------------------

    def _choose(self, assoc: Any, sop_class: str, ts: str) -> Any:
        """The accepted context to use: the original syntax, else a native one; or None.
        Asked once per association, SOP Class and syntax (pynetdicom sorts the accepted
        contexts again each time it is asked for them)."""
        key = (sop_class, ts)
        if key not in self._chosen:
            self._chosen[key] = self._accepted(assoc, sop_class, ts)
        return self._chosen[key]

    @staticmethod
    def _accepted(assoc: Any, sop_class: str, ts: str) -> Any:
        accepted = {
            str(cx.transfer_syntax[0]): cx
            for cx in assoc.accepted_contexts
            if cx.abstract_syntax == sop_class and cx.as_scu
        }
        for syntax in (ts, *NATIVE):
            if syntax in accepted:
                return accepted[syntax]
        return None

    @staticmethod
    def _payload(prepared: Prepared, target: str) -> bytes:
        """The Part 10 bytes in ``target``; converted losslessly when that differs."""
        if target == prepared.transfer_syntax:
            return prepared.data
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compressed = UID(prepared.transfer_syntax).is_compressed
            data, _, _ = transcode.rewrite(prepared.data, target_ts=target, decompress=compressed)
        return data

    def _store(self, data: bytes, context: Any, sop_class: str, sop_instance: str) -> int | None:
        """The C-STORE status, or None when the association was lost on the way."""
        assert self._sender is not None
        self._message_id = self._message_id % 65535 + 1
        return self._sender.store(
            data, dataset_offset(data), context, sop_class, sop_instance, self._message_id
        )

    def send(self, prepared: Prepared, sop_class: str, sop_instance: str) -> Delivery:
        """Store one instance; retries lost associations and A7xx. Raises PeerUnavailable."""
        ts = prepared.transfer_syntax
        lost = busy = 0
        while True:
            assoc = self._connect(self.group_of(sop_class))
            context = self._choose(assoc, sop_class, ts)
            if context is None:
                return Delivery(
                    False,
                    "import.sop-class-refused",
                    f"the PACS accepts no {UID(sop_class).name} (SOP Class {sop_class}) "
                    f"in {_ts_name(ts)} or an uncompressed Transfer Syntax",
                )
            target = str(context.transfer_syntax[0])
            try:
                data = self._payload(prepared, target)
            except Exception as exc:  # any codec failure: this instance only
                return Delivery(
                    False,
                    "import.cannot-convert",
                    f"the PACS refused {_ts_name(ts)} and converting to {_ts_name(target)} "
                    f"failed: {exc}",
                )
            started = time.monotonic()
            status = self._store(data, context, sop_class, sop_instance)
            if status is None:
                self._drop()
                lost += 1
                if lost > self.net.retries:
                    why = no_answer(None, self.peer, self.net, started, "a C-STORE")
                    return Delivery(
                        False,
                        "import.send-failed",
                        f"the association was lost {lost} times while sending it; the last "
                        f"time: {why}",
                    )
                self._sleep(self.net.retry_delay * 2 ** (lost - 1))
                continue
            if status >> 8 == 0xA7 and busy < self.net.retries:
                busy += 1  # out of resources: worth another try (PS3.4 B.2.3)
                self._sleep(self.net.retry_delay * 2 ** (busy - 1))
                continue
            return self._delivery(status, ts, target)

    @staticmethod
    def _delivery(status: int, ts: str, target: str) -> Delivery:
        note = None
        if target != ts:
            note = f"converted from {_ts_name(ts)} to {_ts_name(target)}, which the PACS accepts"
        if status == 0:
            code = "import.converted" if note else None
            return Delivery(True, code, note or "", target)
        if status in _WARNINGS:
            text = f"stored with warning status 0x{status:04X}" + (f"; {note}" if note else "")
            return Delivery(True, "import.stored-with-warning", text, target)
        shown = status_text(status, "store")
        return Delivery(False, "import.refused", f"the PACS refused it: status {shown}", target)
