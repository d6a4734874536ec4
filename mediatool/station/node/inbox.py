"""The node's inbox: instances a PACS or a modality stored on the station (C-STORE).

Each lands as a Part 10 file (the peer's encoding untouched, its File Meta made by pynetdicom)
at ``DATA/inbox/<patient>/<Study Instance UID>/<SOP Instance UID>.dcm`` and as one row of the
``inbox`` table. Receiving is idempotent by SOP Instance UID: the same instance again is a
success that writes nothing; a *different* data set under a UID already held is refused (a
silent overwrite could put one patient's images under another's name). Writes are atomic (a
temporary file, fsync, rename) and a store that would leave less than ``[node] reserve_mb`` free
is refused with Out of Resources, so a full disk never half-writes a file.

The statuses are the Storage Service Class's (PS3.4 Table B.2-1): A700 out of resources,
A900 data set does not match SOP Class, C000-CFFF cannot understand. Each refusal's reason
(the Error Comment, LO: at most 64 characters, so the reasons are written to fit) is also the
audit row's.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import shutil
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import sqlalchemy as sa
from pydicom.multival import MultiValue

from mediatool.net.store import dataset_offset
from mediatool.station.store import Store, inbox

FOLDER: Final = "inbox"
SUCCESS: Final = 0x0000
OUT_OF_RESOURCES: Final = 0xA700
NOT_MATCHING_CLASS: Final = 0xA900  # the data set's SOP Class UID is not the request's
CANNOT_UNDERSTAND: Final = 0xC000  # identifying attributes missing or not valid UIDs
CONFLICT: Final = 0xC001  # another data set is already held under this SOP Instance UID
_UID: Final = re.compile(r"[0-9]+(\.[0-9]+)*")


@dataclass(frozen=True, slots=True)
class Header:
    """What the inbox files and shows an instance by (from its data set)."""

    sop_class: str
    sop_uid: str
    study_uid: str
    series_uid: str
    patient_id: str
    patient_name: str
    study_date: str
    study_description: str
    modality: str


@dataclass(frozen=True, slots=True)
class Outcome:
    """The C-STORE answer: a Storage status and, for a failure, why (the Error Comment)."""

    status: int
    comment: str = ""
    new: bool = False  # a file was written (not a repeat)


def _text(ds: Any, keyword: str, limit: int = 200) -> str:
    value = ds.get(keyword, "")
    if isinstance(value, MultiValue):  # "A\\B": as written, not as a Python list
        value = "\\".join(str(v) for v in value)
    return str(value if value is not None else "").strip()[:limit]


def header_of(ds: Any) -> Header | Outcome:
    """The header of a received data set, or the refusal it earns (hostile input: every UID
    is checked, since they become folder and file names)."""
    try:
        values = {
            k: _text(ds, k, 64)
            for k in ("SOPClassUID", "SOPInstanceUID", "StudyInstanceUID", "SeriesInstanceUID")
        }
        missing = [k for k, v in values.items() if not _UID.fullmatch(v) or len(v) > 64]
        if missing:
            return Outcome(CANNOT_UNDERSTAND, f"missing or not a valid UID: {', '.join(missing)}")
        return Header(
            values["SOPClassUID"], values["SOPInstanceUID"], values["StudyInstanceUID"],
            values["SeriesInstanceUID"], _text(ds, "PatientID", 64), _text(ds, "PatientName"),
            _text(ds, "StudyDate", 8), _text(ds, "StudyDescription"), _text(ds, "Modality", 16),
        )  # fmt: skip
    except Exception as exc:  # a data set pydicom cannot read: the peer hears why
        return Outcome(CANNOT_UNDERSTAND, f"cannot read the data set: {exc}"[:200])


def is_uid(text: str) -> bool:
    """A UID as PS3.5 9.1 writes it: digits and dots, at most 64 characters."""
    return len(text) <= 64 and _UID.fullmatch(text) is not None


def patient_folder(patient_id: str) -> str:
    """A folder name for the Patient ID that no ID can turn into a path ("../", "/", NUL):
    its safe characters and a digest of the exact ID (so "A/1" and "A_1" stay apart)."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", patient_id)[:32].strip(".") or "no-id"
    return f"{safe}-{hashlib.sha256(patient_id.encode('utf-8', 'replace')).hexdigest()[:8]}"


def relative_path(header: Header) -> str:
    return f"{FOLDER}/{patient_folder(header.patient_id)}/{header.study_uid}/{header.sop_uid}.dcm"


class Inbox:
    """Receives instances into ``data``/inbox and the job store (thread-safe: each call is
    one transaction; the row is the arbiter between two associations storing the same UID)."""

    def __init__(self, store: Store, data: Path, reserve_bytes: int) -> None:
        self.store = store
        self.data = data
        self.reserve = reserve_bytes

    def receive(self, calling_ae: str, header: Header, dataset: bytes, part10: bytes) -> Outcome:
        """Keep one instance: ``dataset`` the data set as received (its digest decides "the same
        instance"), ``part10`` the file to write."""
        digest = hashlib.sha256(dataset).hexdigest()
        held = self._held(header.sop_uid)
        if held is not None:
            return self._again(header, held, digest, part10)
        target = self.data / relative_path(header)
        if self._free(target) - len(part10) < self.reserve:
            kept = self.reserve >> 20
            return Outcome(OUT_OF_RESOURCES, f"disk nearly full: the station keeps {kept} MB free")
        tmp = target.with_name(f".{header.sop_uid}.{os.getpid()}.{time.monotonic_ns()}.tmp")
        try:
            _write(tmp, part10)
            if not self._insert(calling_ae, header, digest, len(part10), target):
                tmp.unlink(missing_ok=True)  # another association stored it meanwhile
                held = self._held(header.sop_uid)
                if held is None:
                    return Outcome(CONFLICT, "stored and removed meanwhile: send it again")
                return self._again(header, held, digest, part10)
            tmp.replace(target)
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            self._forget(header.sop_uid, digest)
            return Outcome(OUT_OF_RESOURCES, f"cannot write the instance: {exc.strerror or exc}")
        return Outcome(SUCCESS, new=True)

    def _again(self, header: Header, held: dict[str, Any], digest: str, part10: bytes) -> Outcome:
        """The answer to an instance whose UID the inbox holds: the same instance (byte for
        byte, or the same data set in another transfer syntax) is a success."""
        if held["digest"] == digest or self._same(held["path"], part10):
            return Outcome(SUCCESS)  # the same instance again: nothing to do
        if held["sop_class"] != header.sop_class:
            return Outcome(CONFLICT, "this SOP Instance UID is held with another SOP Class")
        if held["patient_id"] != header.patient_id:  # the other ID stays here (privacy)
            return Outcome(CONFLICT, "this SOP Instance UID is held for another Patient ID")
        return Outcome(CONFLICT, "another data set is held under this SOP Instance UID")

    def _same(self, path: str, part10: bytes) -> bool:
        from mediatool.dicom.sameness import Stored, same_instance

        try:
            held = (self.data / path).read_bytes()
        except OSError:
            return False

        def stored(data: bytes) -> Stored:
            return Stored(lambda: io.BytesIO(data), len(data), dataset_offset(data))

        return same_instance(stored(held), stored(part10))

    def _held(self, sop_uid: str) -> dict[str, Any] | None:
        with self.store.begin() as conn:
            row = conn.execute(inbox.select().where(inbox.c.sop_uid == sop_uid)).mappings().first()
        return dict(row) if row else None

    def _insert(
        self, calling_ae: str, header: Header, digest: str, size: int, target: Path
    ) -> bool:
        try:
            with self.store.begin() as conn:
                conn.execute(
                    inbox.insert().values(
                        sop_uid=header.sop_uid, sop_class=header.sop_class,
                        study_uid=header.study_uid, series_uid=header.series_uid,
                        patient_id=header.patient_id, patient_name=header.patient_name,
                        study_date=header.study_date,
                        study_description=header.study_description,
                        modality=header.modality, calling_ae=calling_ae,
                        path=str(target.relative_to(self.data)), size=size, digest=digest,
                        received=time.time(),
                    )
                )  # fmt: skip
        except sa.exc.IntegrityError:
            return False
        return True

    def _forget(self, sop_uid: str, digest: str) -> None:
        with contextlib.suppress(sa.exc.SQLAlchemyError), self.store.begin() as conn:
            conn.execute(inbox.delete().where(inbox.c.sop_uid == sop_uid, inbox.c.digest == digest))

    def _free(self, target: Path) -> int:
        target.parent.mkdir(parents=True, exist_ok=True)
        return shutil.disk_usage(target.parent).free


def _write(path: Path, data: bytes) -> None:
    with path.open("wb") as fp:
        fp.write(data)
        fp.flush()
        os.fsync(fp.fileno())


@dataclass(frozen=True, slots=True)
class InboxStudy:
    """One study in the inbox, as the burn desk lists it."""

    calling_ae: str
    patient_id: str
    patient_name: str
    study_uid: str
    study_date: str
    description: str
    modalities: tuple[str, ...]
    instances: int
    size: int
    received: float  # the last instance's time


def studies(store: Store) -> list[InboxStudy]:
    """The inbox by study (newest first); a study sent by two peers is listed under each."""
    c = inbox.c
    q = (
        sa.select(
            c.calling_ae, c.patient_id, c.study_uid, sa.func.max(c.patient_name),
            sa.func.max(c.study_date), sa.func.max(c.study_description), sa.func.count(),
            sa.func.sum(c.size), sa.func.max(c.received),
        )
        .group_by(c.calling_ae, c.patient_id, c.study_uid)
        .order_by(sa.func.max(c.received).desc())
    )  # fmt: skip
    with store.begin() as conn:
        rows = conn.execute(q).all()
        modalities: dict[str, set[str]] = {}
        for study_uid, modality in conn.execute(sa.select(c.study_uid, c.modality).distinct()):
            if modality:
                modalities.setdefault(study_uid, set()).add(modality)
    out = []
    for ae, pid, uid, name, date, desc, n, size, last in rows:
        kinds = tuple(sorted(modalities.get(uid, ())))
        study = InboxStudy(ae, pid, name or "", uid, date or "", desc or "", kinds, int(n),
                           int(size or 0), float(last))  # fmt: skip
        out.append(study)
    return out


def files_of_studies(store: Store, data: Path, study_uids: Iterable[str]) -> list[Path]:
    """The files of these studies in the inbox (sorted)."""
    with store.begin() as conn:
        rows = conn.execute(
            sa.select(inbox.c.path).where(inbox.c.study_uid.in_(list(study_uids)))
        ).all()
    return sorted(data / p for (p,) in rows)


def instances(store: Store, sop_uids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The inbox rows of these SOP Instance UIDs that it holds (by UID)."""
    found: dict[str, dict[str, Any]] = {}
    with store.begin() as conn:
        for start in range(0, len(sop_uids), 500):
            chunk = list(sop_uids[start : start + 500])
            for row in conn.execute(inbox.select().where(inbox.c.sop_uid.in_(chunk))).mappings():
                found[row["sop_uid"]] = dict(row)
    return found


def remove_studies(store: Store, data: Path, study_uids: Iterable[str]) -> int:
    """Delete these studies from the inbox (rows and files); the number of instances."""
    uids = list(study_uids)
    paths = files_of_studies(store, data, uids)
    with store.begin() as conn:
        conn.execute(inbox.delete().where(inbox.c.study_uid.in_(uids)))
    for path in paths:
        with contextlib.suppress(OSError):
            path.unlink()
        for folder in (path.parent, path.parent.parent):
            with contextlib.suppress(OSError):
                folder.rmdir()  # only when empty
    return len(paths)
