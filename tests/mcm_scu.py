"""A small Media Creation Management SCU (PS3.4 Annex S) for the tests, written with pynetdicom:
no open MCM SCU exists in Debian (dcm4chee-cdw's mcmscu is Java and not packaged).

    with McmScu(port) as scu:
        status, uid, attrs = scu.create([(ct, sop_uid)], StorageMediaFileSetID="OB5512")
        scu.initiate(uid, copies=2, priority="HIGH")
        final = scu.wait(uid, 60)

Every call answers pynetdicom's status data set (``.Status``, maybe ``.ErrorComment``) and,
for N-CREATE and N-GET, the Attribute List the SCP sent back.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any, Final, Self

from ports import LOCALHOST
from pydicom import config
from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid
from pynetdicom import AE
from pynetdicom.sop_class import MediaCreationManagement  # type: ignore[attr-defined]

SOP_CLASS: Final = "1.2.840.10008.5.1.1.33"
INITIATE: Final = 1
CANCEL: Final = 2
ENDED: Final = ("DONE", "FAILURE")
UID_ROOT: Final = "1.2.826.0.1.3680043.10.1137.33."  # tests/factories.ROOT, MCM branch

Ref = tuple[str, str] | tuple[str, str, str]  # class, instance[, requested profile]

assert str(MediaCreationManagement) == SOP_CLASS


class McmRefused(AssertionError):
    """The association was rejected (A-ASSOCIATE-RJ: ``rejected``) or aborted, or the SCP did
    not answer (no status to look at)."""

    def __init__(self, message: str, rejected: bool = False) -> None:
        super().__init__(message)
        self.rejected = rejected


def request_dataset(refs: Sequence[Ref] | None, **attributes: Any) -> Dataset:
    """An N-CREATE Attribute List: the Referenced SOP Sequence (left out when ``refs`` is
    None) and the given attributes by keyword."""
    ds = Dataset()
    if refs is not None:
        items = []
        for ref in refs:
            item = Dataset()
            item.ReferencedSOPClassUID = ref[0]
            item.ReferencedSOPInstanceUID = ref[1]
            if len(ref) > 2:
                item.RequestedMediaApplicationProfile = ref[2]
            items.append(item)
        ds.ReferencedSOPSequence = items
    for keyword, value in attributes.items():  # unchecked: the tests send bad values too
        tag = tag_for_keyword(keyword)
        assert tag is not None, keyword
        ds.add(DataElement(tag, dictionary_VR(tag), value, validation_mode=config.IGNORE))
    return ds


class McmScu:
    """One association with the station's MCM SCP, used in ``with``."""

    def __init__(
        self, port: int, *, called: str = "MEDIATOOL", calling: str = "PACS1",
        host: str = LOCALHOST, timeout: float = 30.0,
    ) -> None:  # fmt: skip
        self.address = (host, port)
        self.called = called
        self.ae = AE(ae_title=calling)
        for attr in ("acse_timeout", "dimse_timeout", "network_timeout", "connection_timeout"):
            setattr(self.ae, attr, timeout)
        self.ae.add_requested_context(SOP_CLASS)
        self.assoc: Any = None
        self.seen: dict[str, list[str]] = {}  # per request: Execution Status/Info wait() saw

    def __enter__(self) -> Self:
        self.assoc = self.ae.associate(*self.address, ae_title=self.called)
        if not self.assoc.is_established:
            rejected = bool(self.assoc.is_rejected)
            self.ae.shutdown()
            raise McmRefused(f"no association with {self.called}@{self.address}", rejected)
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.assoc is not None and self.assoc.is_established:
            self.assoc.release()
        self.ae.shutdown()

    def _answered(self, status: Dataset) -> Dataset:
        if "Status" not in status:
            raise McmRefused("no answer: the SCP aborted or timed out")
        return status

    # --- N-CREATE -------------------------------------------------------------------------
    def create(
        self, refs: Sequence[Ref] | None, *, uid: str | None = "", **attributes: Any
    ) -> tuple[Dataset, str, Dataset | None]:
        """N-CREATE a media creation request: (status, its SOP Instance UID, the Attribute
        List answered). ``uid=""``: the SCU chooses a new UID; ``uid=None``: the SCP chooses
        and returns it as SOP Instance UID in the Attribute List (pynetdicom does not show the
        response's Affected SOP Instance UID)."""
        chosen = generate_uid(UID_ROOT) if uid == "" else uid
        ds = request_dataset(refs, **attributes)
        return self.create_raw(ds, chosen)

    def create_raw(self, ds: Dataset, uid: str | None) -> tuple[Dataset, str, Dataset | None]:
        # an empty data set is sent as no Attribute List (pynetdicom would announce a data
        # set and send none: the SCP would wait for it)
        status, attrs = self.assoc.send_n_create(ds if len(ds) else None, SOP_CLASS, uid)
        status = self._answered(status)
        if uid is None and attrs is not None:
            uid = str(attrs.get("SOPInstanceUID", "") or "")
        return status, uid or "", attrs

    # --- N-ACTION -------------------------------------------------------------------------
    def action(self, uid: str, action_type: int, info: Dataset | None = None) -> Dataset:
        status, _reply = self.assoc.send_n_action(info, action_type, SOP_CLASS, uid)
        return self._answered(status)

    def initiate(self, uid: str, copies: int | None = None, priority: str | None = None) -> Dataset:
        """N-ACTION 1 Initiate Media Creation with Number of Copies and Request Priority (each
        left out when None)."""
        info = Dataset()
        if copies is not None:
            info.NumberOfCopies = copies
        if priority is not None:
            info.RequestPriority = priority
        return self.action(uid, INITIATE, info if len(info) else None)

    def cancel(self, uid: str) -> Dataset:
        """N-ACTION 2 Cancel Media Creation."""
        return self.action(uid, CANCEL)

    # --- N-GET ----------------------------------------------------------------------------
    def get(self, uid: str, tags: Iterable[Any] | None = None) -> tuple[Dataset, Dataset | None]:
        """N-GET the request (all its attributes, or those of ``tags``)."""
        wanted = list(tags) if tags is not None else None
        status, attrs = self.assoc.send_n_get(wanted, SOP_CLASS, uid)
        return self._answered(status), attrs

    def wait(self, uid: str, timeout: float = 120.0) -> Dataset:
        """N-GET until the Execution Status is DONE or FAILURE: the last Attribute List."""
        deadline = time.monotonic() + timeout
        seen = self.seen.setdefault(uid, [])
        while time.monotonic() < deadline:
            status, attrs = self.get(uid)
            assert status.Status == 0x0000 and attrs is not None, status
            now = f"{attrs.ExecutionStatus}/{attrs.ExecutionStatusInfo}"
            if not seen or seen[-1] != now:
                seen.append(now)
            if attrs.ExecutionStatus in ENDED:
                return attrs
            time.sleep(0.2)
        raise TimeoutError(f"media creation request {uid} did not end in {timeout} s: {seen}")
