"""Peers for the retrieve tests (building on :mod:`pacs_peers`), all on 127.0.0.1.

* :class:`RetrieveOrthanc`: :class:`pacs_peers.Orthanc` that also knows our C-MOVE destination
  (``move_aet`` at ``move_port``) and can take files through its REST API.
* :class:`PartialQR`: a pynetdicom Study Root Q/R SCP in a thread (C-FIND and C-GET) whose C-GET
  fails the sub-operations of chosen instances (their SOP class was never negotiated, so the
  C-STORE cannot be sent: PS3.4 C.4.3.3.1), with the Failed SOP Instance UID List.
"""

from __future__ import annotations

import json
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pacs_peers import Orthanc
from ports import LOCALHOST, bound_port, reserve_port
from pydicom import dcmread
from pydicom.dataset import Dataset
from pynetdicom import AE, evt
from pynetdicom.sop_class import (  # type: ignore[attr-defined]  # names made at run time
    StudyRootQueryRetrieveInformationModelFind,
    StudyRootQueryRetrieveInformationModelGet,
)


@dataclass
class RetrieveOrthanc(Orthanc):
    move_aet: str = "MTMOVE"
    move_port: int = field(default_factory=reserve_port)

    def config(self) -> dict[str, Any]:
        cfg = super().config()
        cfg["DicomModalities"]["mover"] = {
            "AET": self.move_aet,
            "Host": LOCALHOST,
            "Port": self.move_port,
        }
        return cfg

    def upload(self, folder: Path) -> int:
        """POST every file below ``folder`` to /instances; returns how many Orthanc took."""
        taken = 0
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            req = urllib.request.Request(
                f"http://{LOCALHOST}:{self.http_port}/instances",
                data=path.read_bytes(),
                method="POST",
                headers={"Content-Type": "application/dicom"},
            )
            try:
                with urllib.request.urlopen(req, timeout=10) as rsp:
                    taken += json.loads(rsp.read()).get("Status") in ("Success", "AlreadyStored")
            except urllib.error.HTTPError as exc:  # not DICOM: Orthanc says 400
                exc.close()
        return taken

    def studies(self) -> list[dict[str, Any]]:
        return [self.get(f"/studies/{sid}") for sid in self.get("/studies")]

    def study_sop_uids(self, study_uid: str) -> set[str]:
        found = self._call(
            "POST",
            "/tools/find",
            {"Level": "Instance", "Query": {"StudyInstanceUID": study_uid}, "Expand": True},
        )
        return {i["MainDicomTags"]["SOPInstanceUID"] for i in found}


class PartialQR:
    """Answers C-FIND with its studies and C-GET by sending them, except the SOP Instance UIDs
    in ``fail`` (sent with a SOP class we did not negotiate: the sub-operation fails)."""

    aet = "PARTIAL"

    def __init__(self, files: list[Path], fail: set[str]) -> None:
        self.datasets = [dcmread(p) for p in files]
        self.fail = fail
        self.port = 0  # bound by start()
        self._server: Any = None

    @property
    def peer(self) -> str:
        return f"{self.aet}@{LOCALHOST}:{self.port}"

    def _on_find(self, event: Any) -> Any:
        seen: set[str] = set()
        for ds in self.datasets:
            if ds.StudyInstanceUID in seen:
                continue
            seen.add(ds.StudyInstanceUID)
            rsp = Dataset()
            rsp.QueryRetrieveLevel = "STUDY"
            for kw in ("PatientID", "PatientName", "StudyInstanceUID", "StudyDate",
                       "StudyDescription", "AccessionNumber"):  # fmt: skip
                setattr(rsp, kw, ds.get(kw, ""))
            rsp.ModalitiesInStudy = ds.get("Modality", "")
            rsp.NumberOfStudyRelatedInstances = sum(
                d.StudyInstanceUID == ds.StudyInstanceUID for d in self.datasets
            )
            yield 0xFF00, rsp

    def _on_get(self, event: Any) -> Any:
        uid = event.identifier.StudyInstanceUID
        chosen = [d for d in self.datasets if d.StudyInstanceUID == uid]
        yield len(chosen)
        for ds in chosen:
            if ds.SOPInstanceUID in self.fail:
                bad = Dataset()
                bad.update(ds)
                bad.file_meta = ds.file_meta
                bad.SOPClassUID = "1.2.3.4.5.6.7"  # not negotiated: the C-STORE fails
                yield 0xFF00, bad
            else:
                yield 0xFF00, ds

    def start(self) -> PartialQR:
        ae = AE(ae_title=self.aet)
        ae.add_supported_context(StudyRootQueryRetrieveInformationModelFind)
        ae.add_supported_context(StudyRootQueryRetrieveInformationModelGet)
        for ds in self.datasets:
            ae.add_supported_context(
                ds.SOPClassUID, ds.file_meta.TransferSyntaxUID, scu_role=True, scp_role=True
            )
        ae.network_timeout = ae.dimse_timeout = ae.acse_timeout = 10
        self._server = ae.start_server(
            (LOCALHOST, 0),
            block=False,
            evt_handlers=[(evt.EVT_C_FIND, self._on_find), (evt.EVT_C_GET, self._on_get)],
        )
        self.port = bound_port(self._server)
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
