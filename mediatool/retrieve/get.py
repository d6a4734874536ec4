"""C-GET (PS3.4 C.4.3): the instances come back over our own association, so we propose the
storage SOP classes they need with SCP/SCU role selection (PS3.7 D.3.3.4) and store them."""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Final

import pydicom.uid as pu
from pydicom.dataset import Dataset

from mediatool.dicom.uids import PATIENT_ROOT_GET, STUDY_ROOT_GET
from mediatool.model import Progress
from mediatool.net.association import (
    NATIVE,
    Network,
    Peer,
    PeerUnavailable,
    associate,
    discard,
    make_ae,
)
from mediatool.net.failure import NetFailure, lost
from mediatool.retrieve.accounting import RetrieveResult, StudyOutcome, record_response
from mediatool.retrieve.find import StudyMatch
from mediatool.retrieve.sink import Sink

MAX_CONTEXTS: Final = 128
# asked for first when the PACS does not say which SOP classes a study holds
COMMON: Final = (  # pydicom.uid's names
    pu.CTImageStorage,
    pu.MRImageStorage,
    pu.SecondaryCaptureImageStorage,
    pu.ComputedRadiographyImageStorage,
    pu.DigitalXRayImageStorageForPresentation,
    pu.DigitalMammographyXRayImageStorageForPresentation,
    pu.UltrasoundImageStorage,
    pu.UltrasoundMultiFrameImageStorage,
    pu.XRayAngiographicImageStorage,
    pu.NuclearMedicineImageStorage,
    pu.PositronEmissionTomographyImageStorage,
    pu.EncapsulatedPDFStorage,
    pu.BasicTextSRStorage,
    pu.EnhancedSRStorage,
    pu.ComprehensiveSRStorage,
    pu.KeyObjectSelectionDocumentStorage,
    pu.GrayscaleSoftcopyPresentationStateStorage,
    pu.TwelveLeadECGWaveformStorage,
    pu.RTImageStorage,
    pu.RTDoseStorage,
    pu.RTStructureSetStorage,
    pu.RTPlanStorage,
)


def storage_classes(studies: Sequence[StudyMatch], room: int) -> list[str]:
    """The storage SOP classes to propose (pure): those the studies hold, then common ones,
    then the rest of pynetdicom's list, up to ``room``."""
    from pynetdicom import StoragePresentationContexts

    wanted = [c for s in studies for c in s.sop_classes]
    wanted += COMMON
    wanted += [str(cx.abstract_syntax) for cx in StoragePresentationContexts]
    return list(dict.fromkeys(wanted))[:room]


def retrieve_level(study: StudyMatch, patient_root: bool) -> Dataset:
    ds = Dataset()
    ds.QueryRetrieveLevel = "STUDY"
    if patient_root:
        ds.PatientID = study.patient_id
    ds.StudyInstanceUID = study.study_uid
    return ds


def label(study: StudyMatch) -> str:
    parts = [study.date, study.description or "study"]
    if study.accession:
        parts.append(f"(accession {study.accession})")
    return " ".join(p for p in parts if p)


def get_studies(
    peer: Peer,
    net: Network,
    studies: Sequence[StudyMatch],
    folder: Path,
    progress: Progress | None = None,
) -> RetrieveResult:
    """C-GET each study into ``folder``; never raises for what the PACS does during it.

    Raises
    ------
    PeerUnavailable
        No association (unreachable, refused, no C-GET model accepted).
    """
    from pynetdicom import ALL_TRANSFER_SYNTAXES, evt
    from pynetdicom.presentation import build_role

    ae = make_ae(net)
    ae.add_requested_context(STUDY_ROOT_GET, list(NATIVE))
    ae.add_requested_context(PATIENT_ROOT_GET, list(NATIVE))
    own = {c for s in studies for c in s.sop_classes}
    classes = storage_classes(studies, MAX_CONTEXTS - 2)
    for uid in classes:
        ae.add_requested_context(uid, list(ALL_TRANSFER_SYNTAXES) if uid in own else list(NATIVE))
    roles = [build_role(uid, scp_role=True) for uid in classes]
    sink = Sink(folder, progress)
    sink.total = sum(s.instances or 0 for s in studies) or None
    assoc, reason = associate(
        ae, peer, net, ext_neg=roles, evt_handlers=[(evt.EVT_C_STORE, sink.handle_store)]
    )
    if assoc is None:
        raise PeerUnavailable(reason)

    def send(identifier: Dataset, model: str) -> Iterator[tuple[Dataset, Dataset | None]]:
        return assoc.send_c_get(identifier, model)  # type: ignore[no-any-return]

    return run_studies(
        assoc,
        studies,
        sink,
        RetrieveResult(str(peer), "get"),
        (STUDY_ROOT_GET, PATIENT_ROOT_GET),
        send,
        "C-GET",
    )


def _lost(assoc: Any, peer: str, started: float, verb: str) -> NetFailure:
    ae = getattr(assoc, "ae", None)
    timeout = getattr(ae, "dimse_timeout", None)
    calling = str(getattr(ae, "ae_title", "") or "MEDIATOOL").strip()
    return lost(
        peer,
        calling,
        time.monotonic() - started,
        float(timeout) if isinstance(timeout, (int, float)) else None,
        f"the {verb}",
    )


def run_studies(
    assoc: Any,
    studies: Sequence[StudyMatch],
    sink: Sink,
    result: RetrieveResult,
    models: tuple[str, str],
    send: Callable[[Dataset, str], Iterator[tuple[Dataset, Dataset | None]]],
    verb: str,
) -> RetrieveResult:
    """Retrieve each study over ``assoc`` with the Study Root model, else the Patient Root one
    (PS3.4 C.4.2/C.4.3), recording every response in ``result`` (whose ``peer`` names the PACS
    in messages); the association is released at the end."""
    peer = result.peer
    try:
        accepted = {cx.abstract_syntax for cx in assoc.accepted_contexts}
        if models[0] in accepted:
            model, patient_root = models[0], False
        elif models[1] in accepted:
            model, patient_root = models[1], True
        else:
            raise PeerUnavailable(f"{peer} offers no Study Root or Patient Root {verb}")
        for study in studies:
            outcome = StudyOutcome(
                study.study_uid, label(study), expected=study.instances, patient_id=study.patient_id
            )
            result.studies.append(outcome)
            sink.current = outcome
            if not assoc.is_established:
                outcome.error = "the association ended before this study"
                continue
            started = time.monotonic()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for status, identifier in send(retrieve_level(study, patient_root), model):
                    record_response(outcome, status, identifier)
            if outcome.status is None:  # no final response: aborted by the PACS, or time-out
                outcome.error = str(_lost(assoc, peer, started, verb))
    finally:
        if assoc.is_established:
            assoc.release()
        discard(assoc)
    return result
