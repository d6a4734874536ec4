"""Media Creation Management SCP (PS3.4 Annex S): a PACS asks the station for a disc.

The SCU first stores the instances (C-STORE into the inbox), then:

- **N-CREATE** (S.3.2.1) a Media Creation Management SOP Instance: the Referenced SOP Sequence
  (0008,1199) (each item Referenced SOP Class/Instance UID and, optionally, Requested Media
  Application Profile (2200,000C)), Storage Media File-set ID/UID (0088,0130/0140), Label Using
  Information Extracted From Instances (2200,0001), Label Text (2200,0002), Allow Media
  Splitting (2200,0007), Include Non-DICOM Objects (2200,0008), Include Display Application
  (2200,0009)... Only the request's form is checked here (S.3.2.1.3 Note 1 discourages checking
  the instances or profiles before N-ACTION: the SCU could not N-GET why). Its Execution Status
  (2100,0020) is IDLE, Execution Status Info (2100,0030) NORMAL.
- **N-ACTION** (S.3.2.2) type 1 *Initiate Media Creation* with Number of Copies (2000,0010) and
  Request Priority (2200,0020): every referenced instance must be in the inbox with its SOP
  Class, every requested profile one we ship, one profile for the request, allowing every
  referenced SOP Class (else INST_AP_CONFLICT, those with Failure Reason 0122). Then the request
  becomes a build job on the burn desk (PENDING/QUEUED); otherwise it fails at once (FAILURE with
  NO_INSTANCE, NOT_SUPPORTED, INST_AP_CONFLICT or DUPL_REF_INST, the missing instances in Failed
  SOP Sequence (0008,1198) with Failure Reason 0112) and may be initiated again once the SCU
  resent what was missing. Type 2 *Cancel* (S.3.2.3) cancels the job; a request already ended
  is C201, a second Initiate A510.
- **N-GET** (S.3.2.4): Execution Status and Info from the job (PENDING/QUEUED, CREATING/NORMAL,
  DONE/NORMAL, FAILURE/...), Total Number of Pieces of Media Created (2200,000B: volumes times
  copies), Referenced Storage Media Sequence (2200,000D: each volume's File-set ID and UID) and
  Failed SOP Sequence.

Execution Status terms: IDLE, PENDING, CREATING, DONE, FAILURE; Execution Status Info terms as
dcm4chee-cdw (the Annex S reference implementation) uses them: NORMAL, QUEUED, NO_INSTANCE,
NOT_SUPPORTED, INST_AP_CONFLICT, DUPL_REF_INST, SET_OVERSIZED, PROC_FAILURE, CHECK_MCD_OP.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import sqlalchemy as sa
from pydicom.dataset import Dataset

from mediatool.station.config import StationConfig
from mediatool.station.node import inbox
from mediatool.station.store import Job, Store, media_requests

SOP_CLASS: Final = "1.2.840.10008.5.1.1.33"
INITIATE: Final = 1
CANCEL: Final = 2
# N-CREATE / N-ACTION / N-GET statuses (PS3.7 C.4, PS3.4 S.3.2.x)
PROCESSING_FAILURE: Final = 0x0110
DUPLICATE_SOP_INSTANCE: Final = 0x0111
NO_SUCH_SOP_INSTANCE: Final = 0x0112
INVALID_OBJECT_INSTANCE: Final = 0x0117
SOP_CLASS_NOT_SUPPORTED: Final = 0x0122  # Failure Reason, as Storage Commitment's
INVALID_ARGUMENT_VALUE: Final = 0x0115
INVALID_ATTRIBUTE_VALUE: Final = 0x0106
MISSING_ATTRIBUTE: Final = 0x0120
NO_SUCH_ACTION: Final = 0x0123
ALREADY_INITIATED: Final = 0xA510
ALREADY_COMPLETED: Final = 0xC201
IN_PROGRESS: Final = 0xC202
FLAGS: Final = (
    "LabelUsingInformationExtractedFromInstances", "AllowMediaSplitting",
    "AllowLossyCompression", "IncludeDisplayApplication",
    "PreserveCompositeInstancesAfterMediaCreation",
)  # fmt: skip
NON_DICOM: Final = ("NO", "FOR_PHYSICIAN", "FOR_PATIENT", "FOR_TEACHING", "FOR_RESEARCH")
PRIORITY: Final = {"HIGH": 1, "MED": 0, "LOW": -1}


@dataclass(frozen=True, slots=True)
class Refusal(Exception):
    """A request answered with a failure status (and why, in the Error Comment)."""

    status: int
    comment: str = ""


def _answer(status: int, comment: str = "") -> Any:
    if not comment:
        return status
    ds = Dataset()
    ds.Status = status
    ds.ErrorComment = comment[:64]
    return ds


def check_create(ds: Dataset) -> None:
    """The form of an N-CREATE Attribute List (S.3.2.1.1); raises :class:`Refusal`."""
    items = ds.get("ReferencedSOPSequence") or []
    if not items:
        raise Refusal(MISSING_ATTRIBUTE, "Referenced SOP Sequence is missing or empty")
    for n, item in enumerate(items, 1):
        for keyword in ("ReferencedSOPClassUID", "ReferencedSOPInstanceUID"):
            if not str(item.get(keyword, "") or "").strip():
                raise Refusal(MISSING_ATTRIBUTE, f"item {n} has no {keyword}")
    for keyword in FLAGS:
        value = str(ds.get(keyword, "") or "").strip()
        if value and value not in ("YES", "NO"):
            raise Refusal(INVALID_ATTRIBUTE_VALUE, f"{keyword} must be YES or NO")
    value = str(ds.get("IncludeNonDICOMObjects", "") or "").strip()
    if value and value not in NON_DICOM:
        raise Refusal(INVALID_ATTRIBUTE_VALUE, f"Include Non-DICOM Objects {value!r}")
    fileset_id = str(ds.get("StorageMediaFileSetID", "") or "")
    from mediatool.dicom.fileids import check_fileset_id

    if check_fileset_id(fileset_id):
        raise Refusal(INVALID_ATTRIBUTE_VALUE, "File-set ID: 0-16 of A-Z 0-9 _")
    fileset_uid = str(ds.get("StorageMediaFileSetUID", "") or "")
    if fileset_uid and not inbox.is_uid(fileset_uid):
        raise Refusal(INVALID_ATTRIBUTE_VALUE, "Storage Media File-set UID is not a UID")


def check_action(info: Dataset | None, max_copies: int) -> tuple[int, str]:
    """Number of Copies and Request Priority of an Initiate (S.3.2.2.1)."""
    info = info if info is not None else Dataset()
    raw = info.get("NumberOfCopies")
    try:
        copies = 1 if raw is None or str(raw).strip() == "" else int(raw)  # 0 is not absent
    except (TypeError, ValueError):
        raise Refusal(INVALID_ARGUMENT_VALUE, "Number of Copies is not a number") from None
    if not 1 <= copies <= max_copies:
        raise Refusal(INVALID_ARGUMENT_VALUE, f"Number of Copies must be 1-{max_copies}")
    priority = str(info.get("RequestPriority", "") or "MED").strip()
    if priority not in PRIORITY:
        raise Refusal(INVALID_ARGUMENT_VALUE, "Request Priority must be HIGH, MED or LOW")
    return copies, priority


@dataclass(frozen=True, slots=True)
class Checked:
    """An Initiate's request found buildable, or why not (Execution Status Info, failed)."""

    profile: str = ""
    paths: tuple[str, ...] = ()
    info: str = "NORMAL"
    failed: tuple[tuple[str, str, int], ...] = ()  # class, instance, Failure Reason
    why: str = ""


def check_request(
    items: Sequence[tuple[str, str, str]],
    held: Mapping[str, Mapping[str, Any]],
    known: set[str],
    classes: Mapping[str, frozenset[str] | None] | None = None,
) -> Checked:
    """``items``: (class, instance, requested profile or "") of the Referenced SOP Sequence;
    ``held``: the inbox rows by SOP Instance UID; ``known``: the profiles we ship;
    ``classes``: the SOP Classes each profile allows (None: any)."""
    uids = [uid for _c, uid, _p in items]
    if len(set(uids)) != len(uids):
        dup = next(u for u in uids if uids.count(u) > 1)
        return Checked(info="DUPL_REF_INST", why=f"instance {dup} is referenced twice")
    profiles = {p for _c, _u, p in items}
    unknown = sorted(profiles - known)
    if unknown:
        return Checked(info="NOT_SUPPORTED", why=f"profile {unknown[0]} is not supported")
    if len(profiles) > 1:
        return Checked(info="INST_AP_CONFLICT", why="one profile per request, please")
    failed = []
    for sop_class, uid, _p in items:
        row = held.get(uid)
        if row is None:
            failed.append((sop_class, uid, NO_SUCH_SOP_INSTANCE))
        elif row["sop_class"] != sop_class:
            failed.append((sop_class, uid, 0x0119))  # Class / Instance conflict
    if failed:
        missing = sum(1 for *_x, why in failed if why == NO_SUCH_SOP_INSTANCE)
        return Checked(
            info="NO_INSTANCE",
            failed=tuple(failed),
            why=f"{missing or len(failed)} of {len(items)} instances not received",
        )
    profile = profiles.pop()
    allowed = (classes or {}).get(profile)
    conflicts = tuple(
        (c, u, SOP_CLASS_NOT_SUPPORTED) for c, u, _p in items if allowed and c not in allowed
    )
    if conflicts:  # the build's profile gate (conform.check_profile) would refuse the disc
        return Checked(
            info="INST_AP_CONFLICT",
            failed=conflicts,
            why=f"{len(conflicts)} of {len(items)} instances: SOP Class not in {profile}",
        )
    return Checked(profile=profile, paths=tuple(sorted(held[u]["path"] for u in uids)))


def execution(row: Mapping[str, Any], job: Job | None) -> tuple[str, str]:
    """Execution Status and Execution Status Info of a request (its job's state, if any)."""
    if job is None:
        return str(row["status"]), str(row["info"])
    if job.state in ("queued", "interrupted"):
        return "PENDING", "QUEUED"
    if job.state == "running":
        return "CREATING", "NORMAL"
    if job.state == "done":
        return "DONE", "NORMAL"
    if job.state == "cancelled":
        return "FAILURE", "CHECK_MCD_OP"  # cancelled at the burn desk
    result = job.result or {}
    return "FAILURE", str(result.get("mcm_info") or "PROC_FAILURE")


def _items(ds: Dataset, default_profile: str) -> list[tuple[str, str, str]]:
    return [
        (
            str(item.ReferencedSOPClassUID),
            str(item.ReferencedSOPInstanceUID),
            str(item.get("RequestedMediaApplicationProfile", "") or default_profile).strip(),
        )
        for item in ds.ReferencedSOPSequence
    ]


def _flag(ds: Dataset, keyword: str, default: bool) -> bool:
    value = str(ds.get(keyword, "") or "").strip()
    return default if not value else value == "YES"


def job_params(
    ds: Dataset, checked: Checked, config: StationConfig, copies: int, request: Mapping[str, str]
) -> dict[str, Any]:
    """The build job a request becomes (the burn desk's build kind, from inbox files)."""
    non_dicom = str(ds.get("IncludeNonDICOMObjects", "") or "").strip()
    viewer = str(ds.get("IncludeDisplayApplication", "") or "").strip()
    web = (
        config.web
        if not (non_dicom or viewer)
        else (non_dicom not in ("", "NO")) or (viewer == "YES")
    )
    from mediatool import profiles

    return {
        "sources": [str(config.data / p) for p in checked.paths],
        "shown": "",
        "media_request": dict(request),
        "profile": checked.profile,
        "media": profiles.load(checked.profile).media,
        "web": web,
        "site": str(config.site) if config.site else None,
        "fileset_id": str(ds.get("StorageMediaFileSetID", "") or ""),
        "fileset_uid": str(ds.get("StorageMediaFileSetUID", "") or ""),
        "copies": copies,
        "label_text": str(ds.get("LabelText", "") or ""),
        "label_from_instances": _flag(ds, "LabelUsingInformationExtractedFromInstances", True),
        "allow_spanning": _flag(ds, "AllowMediaSplitting", False),
    }


class MediaCreation:
    """The pynetdicom handlers of the Media Creation Management SCP (one per node)."""

    def __init__(self, config: StationConfig, store: Store) -> None:
        self.config = config
        self.store = store

    def _row(self, uid: str) -> dict[str, Any] | None:
        with self.store.begin() as conn:
            q = media_requests.select().where(media_requests.c.uid == uid)
            row = conn.execute(q).mappings().first()
        return dict(row) if row else None

    def _set(self, uid: str, **values: Any) -> None:
        with self.store.begin() as conn:
            conn.execute(
                media_requests.update().where(media_requests.c.uid == uid).values(**values)
            )

    # --- N-CREATE -------------------------------------------------------------------------
    def on_create(self, event: Any) -> tuple[Any, Dataset | None]:
        from pydicom.uid import generate_uid

        try:
            ds = event.attribute_list
            check_create(ds)
        except Refusal as no:
            return _answer(no.status, no.comment), None
        except Exception as exc:  # an Attribute List pydicom cannot decode
            return _answer(INVALID_ATTRIBUTE_VALUE, f"cannot read it: {exc}"), None
        given = event.request.AffectedSOPInstanceUID
        if given and not inbox.is_uid(str(given)):  # it names the request from now on
            return _answer(
                INVALID_OBJECT_INSTANCE, "the Affected SOP Instance UID is not a UID"
            ), None
        uid = str(given) if given else generate_uid()
        row = {
            "uid": uid, "calling_ae": _calling(event), "created": time.time(),
            "attributes": json.dumps(ds.to_json_dict()), "status": "IDLE", "info": "NORMAL",
        }  # fmt: skip
        try:
            with self.store.begin() as conn:
                conn.execute(media_requests.insert().values(**row))
        except sa.exc.IntegrityError:
            return _answer(DUPLICATE_SOP_INSTANCE, "this SOP Instance UID exists"), None
        reply = Dataset()
        reply.update(ds)
        reply.SOPClassUID = SOP_CLASS
        reply.SOPInstanceUID = uid  # an SCU that let us choose the UID finds it here too
        reply.ExecutionStatus = "IDLE"
        reply.ExecutionStatusInfo = "NORMAL"
        if not given:
            reply.AffectedSOPInstanceUID = uid  # pynetdicom moves it to the response
        return 0x0000, reply

    # --- N-ACTION -------------------------------------------------------------------------
    def on_action(self, event: Any) -> tuple[Any, Dataset | None]:
        uid = str(event.request.RequestedSOPInstanceUID or "")
        row = self._row(uid)
        if row is None or row["cancelled"]:
            return _answer(NO_SUCH_SOP_INSTANCE, "no such media creation request"), None
        action = int(event.action_type or 0)
        try:
            if action == INITIATE:
                info = event.action_information if event.request.ActionInformation else None
                self._initiate(row, info)
            elif action == CANCEL:
                self._cancel(row)
            else:
                raise Refusal(NO_SUCH_ACTION, f"action type {action}: 1 initiates, 2 cancels")
        except Refusal as no:
            return _answer(no.status, no.comment), None
        return 0x0000, None

    def _job(self, row: Mapping[str, Any]) -> Job | None:
        return self.store.job(int(row["job_id"])) if row["job_id"] is not None else None

    def _initiate(self, row: Mapping[str, Any], info: Dataset | None) -> None:
        if row["job_id"] is not None or row["status"] not in ("IDLE", "FAILURE"):
            raise Refusal(ALREADY_INITIATED, "this request was initiated already")
        copies, priority = check_action(info, self.config.max_copies)
        self._claim(row)
        ds = Dataset.from_json(row["attributes"])
        items = _items(ds, self.config.profile)
        from mediatool import profiles

        classes = {p.id: p.sop_classes for p in profiles.list_profiles()}
        checked = check_request(
            items, inbox.instances(self.store, [u for _c, u, _p in items]), set(classes), classes
        )
        if checked.why:
            self._set(
                row["uid"], status="FAILURE", info=checked.info, copies=copies, priority=priority,
                failed=json.dumps([list(f) for f in checked.failed]),
            )  # fmt: skip
            raise Refusal(PROCESSING_FAILURE, checked.why)
        request = {"uid": row["uid"], "calling_ae": row["calling_ae"]}
        params = job_params(ds, checked, self.config, copies, request)
        try:
            job_id = self._queue(params, priority, row["calling_ae"])
        except BaseException:
            self._set(row["uid"], status=row["status"], info=row["info"])  # as it was
            raise
        self._set(
            row["uid"], status="PENDING", info="QUEUED", job_id=job_id, copies=copies,
            priority=priority, failed="[]",
        )  # fmt: skip

    def _claim(self, row: Mapping[str, Any]) -> None:
        """Take the request for this Initiate: a compare-and-set on its status, so that two
        Initiates arriving together on two associations make one job, not two (A510)."""
        c = media_requests.c
        with self.store.begin() as conn:
            taken = conn.execute(
                media_requests.update()
                .where(
                    c.uid == row["uid"], c.job_id.is_(None), c.status == row["status"],
                    c.cancelled.is_(False),
                )
                .values(status="PENDING", info="QUEUED")
            )  # fmt: skip
        if taken.rowcount != 1:
            raise Refusal(ALREADY_INITIATED, "this request was initiated already")

    def _queue(self, params: dict[str, Any], priority: str, calling_ae: str) -> int:
        from mediatool.station.jobs.kinds import describe

        patients = self._patients(params)
        patient = patients[0] if len(patients) == 1 else ("", "")
        job_id = self.store.add_job(
            kind="build", title=describe("build", params), user_name=f"DICOM {calling_ae}",
            params=params, patient_id=patient[0], patient_name=patient[1],
            priority=PRIORITY[priority],
        )  # fmt: skip
        for pid, name in patients:
            self.store.audit(
                user_name=f"DICOM {calling_ae}", patient_id=pid, patient_name=name,
                action="build requested", outcome="queued", job_id=job_id,
            )  # fmt: skip
        return job_id

    def _patients(self, params: Mapping[str, Any]) -> list[tuple[str, str]]:
        from mediatool.station.store import inbox as table

        paths = [str(p) for p in params["sources"]]
        rel = [str(p)[len(str(self.config.data)) + 1 :] for p in paths]
        with self.store.begin() as conn:
            q = sa.select(table.c.patient_id, table.c.patient_name).where(table.c.path.in_(rel))
            return sorted(set(conn.execute(q.distinct()).tuples()))

    def _cancel(self, row: Mapping[str, Any]) -> None:
        job = self._job(row)
        status, _info = execution(row, job)
        if status in ("DONE", "FAILURE"):
            raise Refusal(ALREADY_COMPLETED, f"the request ended ({status})")
        if job is not None:
            # queued: cancelled now; running: flagged, the worker stops (the runner ends it
            # after a grace period), so the request is interrupted: never C202 here
            after = self.store.request_cancel(job.id)
            if after in ("done", "failed"):
                raise Refusal(ALREADY_COMPLETED, f"the request ended ({after})")
        self._set(row["uid"], cancelled=True)

    # --- N-GET ----------------------------------------------------------------------------
    def on_get(self, event: Any) -> tuple[Any, Dataset | None]:
        uid = str(event.request.RequestedSOPInstanceUID or "")
        row = self._row(uid)
        if row is None or row["cancelled"]:
            return _answer(NO_SUCH_SOP_INSTANCE, "no such media creation request"), None
        reply = self.status_of(row)
        wanted = event.request.AttributeIdentifierList
        if wanted:
            tags = wanted if isinstance(wanted, list) else [wanted]
            kept = Dataset()
            for tag in tags:
                if tag in reply:
                    kept.add(reply.get_item(tag))  # type: ignore[arg-type]
            reply = kept
        return 0x0000, reply

    def status_of(self, row: Mapping[str, Any]) -> Dataset:
        """The request as N-GET returns it (S.3.2.4)."""
        job = self._job(row)
        status, info = execution(row, job)
        ds = Dataset.from_json(row["attributes"])
        ds.SOPClassUID = SOP_CLASS
        ds.SOPInstanceUID = row["uid"]
        ds.ExecutionStatus = status
        ds.ExecutionStatusInfo = info
        ds.NumberOfCopies = int(row["copies"])
        ds.RequestPriority = row["priority"]
        result = job.result if job is not None and job.state == "done" else None
        media = []
        for fileset_id, fileset_uid in _media(result):
            item = Dataset()
            item.StorageMediaFileSetID = fileset_id
            item.StorageMediaFileSetUID = fileset_uid
            media.append(item)
        ds.TotalNumberOfPiecesOfMediaCreated = len(media) * int(row["copies"])
        ds.ReferencedStorageMediaSequence = media
        ds.FailedSOPSequence = [_failed(*f) for f in json.loads(row["failed"] or "[]")]
        return ds


def _media(result: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """File-set ID and UID of each volume a done build job wrote (``build --json``'s)."""
    if not result:
        return []
    volumes = result.get("volumes") or []
    if volumes:
        return [(str(v.get("volume_id") or ""), str(v.get("fileset_uid") or "")) for v in volumes]
    fileset = result.get("fileset") or {}
    return [(str(fileset.get("id") or ""), str(fileset.get("uid") or ""))]


def _failed(sop_class: str, uid: str, reason: int) -> Dataset:
    item = Dataset()
    item.ReferencedSOPClassUID = sop_class
    item.ReferencedSOPInstanceUID = uid
    item.FailureReason = reason
    return item


def _calling(event: Any) -> str:
    title = event.assoc.requestor.ae_title
    return str(title.decode("ascii", "replace") if isinstance(title, bytes) else title).strip()
