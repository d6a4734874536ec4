"""The station's DICOM Application Entity: one pynetdicom server beside the web application.

Services (SCP): Verification (C-ECHO), Storage (C-STORE into :mod:`.inbox`, every storage SOP
Class pynetdicom knows with every transfer syntax pydicom reads) and Media Creation Management
(N-CREATE / N-ACTION / N-GET, PS3.4 Annex S, :mod:`.mcm`).

Associations are refused (A-ASSOCIATE-RJ) when the called AE title is not ours or the calling AE
title is not an accepted one (:meth:`StationConfig.accepted_callers`). Each association ends with
one audit row per patient whose instances it stored ("12 instances from PACS1"), never one per
instance.

No Storage Commitment SCP: the inbox is a cache for discs (cleared from the burn desk), not an
archive, so the station must not tell a PACS it may delete what it sent (PS3.4 J.3: a commitment
is a promise to keep).
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mediatool.errors import MediatoolError
from mediatool.net.association import Network, make_ae
from mediatool.station.config import StationConfig
from mediatool.station.node import inbox as inbox_mod
from mediatool.station.node.inbox import Header, Inbox, Outcome
from mediatool.station.store import Store

MCM_SOP_CLASS = "1.2.840.10008.5.1.1.33"


@dataclass
class _Received:
    """What one association stored, per patient (for its audit rows)."""

    calling_ae: str
    stored: Counter[tuple[str, str]] = field(default_factory=Counter)
    new: Counter[tuple[str, str]] = field(default_factory=Counter)
    refused: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # patient, why


class Node:
    """The running AE (:func:`start`); :meth:`stop` ends it."""

    def __init__(self, config: StationConfig, store: Store) -> None:
        from mediatool.station.node.mcm import MediaCreation

        self.config = config
        self.store = store
        self.inbox = Inbox(store, config.data, config.reserve_mb << 20)
        self.mcm = MediaCreation(config, store)
        self._server: Any = None
        self._lock = threading.Lock()
        self._received: dict[int, _Received] = {}

    # --- C-STORE ------------------------------------------------------------------------
    def on_store(self, event: Any) -> Any:
        calling = _calling(event)
        try:
            header = inbox_mod.header_of(event.dataset)
        except Exception as exc:  # the bytes are not a data set at all
            header = Outcome(inbox_mod.CANNOT_UNDERSTAND, f"cannot read the data set: {exc}")
        if isinstance(header, Outcome):
            outcome = header
        elif header.sop_class != str(event.request.AffectedSOPClassUID):
            outcome = Outcome(  # the header kept: the audit row names the patient
                inbox_mod.NOT_MATCHING_CLASS,
                f"SOP Class UID not the request's: {header.sop_class}",
            )
        else:
            outcome = self.inbox.receive(
                calling,
                header,
                event.encoded_dataset(include_meta=False),
                event.encoded_dataset(include_meta=True),
            )
        self._count(event, calling, header, outcome)
        return _status(outcome)

    def _count(self, event: Any, calling: str, header: Header | Outcome, out: Outcome) -> None:
        with self._lock:
            seen = self._received.setdefault(id(event.assoc), _Received(calling))
            if out.status == inbox_mod.SUCCESS and isinstance(header, Header):
                seen.stored[(header.patient_id, header.patient_name)] += 1
                if out.new:
                    seen.new[(header.patient_id, header.patient_name)] += 1
            elif out.status != inbox_mod.SUCCESS:
                patient = (
                    (header.patient_id, header.patient_name)
                    if isinstance(header, Header)
                    else ("", "")  # not readable enough to name one
                )
                seen.refused[(*patient, out.comment)] += 1

    def on_ended(self, event: Any) -> None:
        """An association ended (released or aborted): its audit rows."""
        with self._lock:
            seen = self._received.pop(id(event.assoc), None)
        if seen is None:
            return
        who = f"DICOM {seen.calling_ae}"
        for (patient_id, name), n in sorted(seen.stored.items()):
            held = n - seen.new[(patient_id, name)]
            outcome = f"{n} received" + (f" ({held} already in the inbox)" if held else "")
            self.store.audit(
                user_name=who, patient_id=patient_id, patient_name=name,
                action="dicom-store", outcome=outcome,
            )  # fmt: skip
        for (patient_id, name, why), n in sorted(seen.refused.items()):
            self.store.audit(
                user_name=who, patient_id=patient_id, patient_name=name, action="dicom-store",
                outcome=f"{n} refused: {why}",
            )  # fmt: skip

    def on_rejected(self, event: Any) -> None:
        """An association refused (A-ASSOCIATE-RJ): one audit row saying who and why, so an
        administrator finds the PACS whose sends fail (the peer only hears a reason code)."""
        calling = _calling(event)
        request = event.assoc.requestor.primitive
        called = str(getattr(request, "called_ae_title", "") or "").strip()
        callers = self.config.accepted_callers()
        if called != self.config.ae_title:
            why = f"called AE title {called!r} is not this station's ({self.config.ae_title})"
        elif callers and calling not in callers:
            why = f"calling AE title {calling!r} is not accepted (accepted: {', '.join(callers)})"
        else:
            why = "too many associations at once"
        host = event.assoc.requestor.address
        self.store.audit(
            user_name=f"DICOM {calling}", patient_id="", patient_name="",
            action="dicom-association", outcome=f"refused ({host}): {why}",
        )  # fmt: skip

    # --- the server ---------------------------------------------------------------------
    def start(self) -> None:
        from pynetdicom import ALL_TRANSFER_SYNTAXES, AllStoragePresentationContexts, evt

        from mediatool.dicom.uids import VERIFICATION

        ae = make_ae(Network(self.config.ae_title, 30.0))
        ae.maximum_pdu_size = 0  # no limit: large images in few PDUs
        ae.require_called_aet = True
        callers = self.config.accepted_callers()
        if callers:
            ae.require_calling_aet = list(callers)
        for cx in AllStoragePresentationContexts:
            ae.add_supported_context(cx.abstract_syntax, list(ALL_TRANSFER_SYNTAXES))
        ae.add_supported_context(VERIFICATION)
        ae.add_supported_context(MCM_SOP_CLASS)
        handlers = [
            (evt.EVT_C_STORE, self.on_store),
            (evt.EVT_N_CREATE, self.mcm.on_create),
            (evt.EVT_N_ACTION, self.mcm.on_action),
            (evt.EVT_N_GET, self.mcm.on_get),
            (evt.EVT_RELEASED, self.on_ended),
            (evt.EVT_ABORTED, self.on_ended),
            (evt.EVT_REJECTED, self.on_rejected),
        ]
        address = (self.config.dicom_host or self.config.host, self.config.dicom_port)
        try:
            self._server = ae.start_server(address, block=False, evt_handlers=handlers)
        except OSError as exc:
            raise MediatoolError(
                f"cannot open the DICOM port {address[1]} on {address[0]} ({exc.strerror or exc})",
                hint="another program uses it (a storescp, a PACS), or a port under 1024 needs "
                "root: choose another with --dicom-port or [node] port",
            ) from None

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server = None


def _calling(event: Any) -> str:
    title = event.assoc.requestor.ae_title
    return str(title.decode("ascii", "replace") if isinstance(title, bytes) else title).strip()


def _status(outcome: Outcome) -> Any:
    if not outcome.comment:
        return outcome.status
    from pydicom.dataset import Dataset

    ds = Dataset()
    ds.Status = outcome.status
    ds.ErrorComment = outcome.comment[:64]  # LO
    return ds


def start(config: StationConfig, store: Store) -> Node | None:
    """The node when a DICOM port is configured (else None), listening."""
    if not config.dicom_port:
        return None
    Path(config.data / inbox_mod.FOLDER).mkdir(parents=True, exist_ok=True)
    node = Node(config, store)
    node.start()
    return node
