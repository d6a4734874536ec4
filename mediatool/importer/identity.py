"""Which local patient each patient of the media becomes (IHE IRWF "obtain local demographics").

Pure: the patients found on the media, and one of three sources of local identity:

* one identity given on the command line (``--patient-id`` and friends), for a disc of one patient;
* a CSV map, foreign Patient ID → local ID and demographics (``--map``);
* Modality Worklist candidates (``--worklist``, see :mod:`.worklist`), confirmed by the user when
  more than one could be meant.

IRWF: "If no match, the user decides; do not auto-import under foreign IDs into a local-ID
namespace", so a patient without a local identity is not imported (``import.no-local-patient``).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from mediatool.errors import MediatoolError
from mediatool.importer.reconcile import LocalIdentity
from mediatool.importer.survey import MediaFile

#: Columns of a ``--map`` file (header row required, names case-insensitive).
MAP_COLUMNS: Final = ("foreign_id", "local_id", "issuer", "name", "birth_date", "sex")
_REQUIRED: Final = ("foreign_id", "local_id")
_SEXES: Final = frozenset({"M", "F", "O"})  # PS3.3 C.7.1.1 Patient's Sex enumerated values


class IdentityError(MediatoolError):
    """Local identity values or a map file that cannot be used (exit 2)."""


class MatchRefused(MediatoolError):
    """No single local patient could be chosen; nothing was imported (exit 1)."""

    exit_code = 1


@dataclass(frozen=True, slots=True)
class MediaPatient:
    """A patient as the media names it (first values seen, by Patient ID)."""

    patient_id: str
    name: str
    birth_date: str
    sex: str
    studies: int
    instances: int


def media_patients(files: Iterable[MediaFile]) -> list[MediaPatient]:
    """The patients of the given files, sorted by Patient ID."""
    first: dict[str, MediaFile] = {}
    studies: dict[str, set[str]] = {}
    counts: dict[str, int] = {}
    for f in files:
        if f.info is None:
            continue
        pid = f.info.patient_id
        first.setdefault(pid, f)
        studies.setdefault(pid, set()).add(f.info.study_uid)
        counts[pid] = counts.get(pid, 0) + 1
    out = []
    for pid in sorted(first):
        info = first[pid].info
        assert info is not None
        out.append(
            MediaPatient(
                pid, info.patient_name, info.birth_date, info.sex, len(studies[pid]), counts[pid]
            )
        )
    return out


def check_identity(identity: LocalIdentity, where: str = "") -> LocalIdentity:
    """Values must fit their VR (LO 64 chars, PN, DA, CS) before they go into instances.

    Raises
    ------
    IdentityError
        With the value and the rule it breaks.
    """
    at = f" ({where})" if where else ""
    if not identity.patient_id.strip():
        raise IdentityError(f"the local Patient ID is empty{at}")
    for label, value in (("Patient ID", identity.patient_id), ("issuer", identity.issuer)):
        if value is not None and (len(value) > 64 or "\\" in value or not value.isprintable()):
            raise IdentityError(
                f"the local {label} {value!r} is not a valid LO value (at most 64 characters, "
                f"no backslash or control characters){at}"
            )
    if identity.name is not None and ("\\" in identity.name or len(identity.name) > 64 * 5):
        raise IdentityError(f"the patient name {identity.name!r} is not a valid PN value{at}")
    if identity.birth_date:
        try:
            dt.datetime.strptime(identity.birth_date, "%Y%m%d")
        except ValueError:
            raise IdentityError(
                f"the birth date {identity.birth_date!r} is not a date written YYYYMMDD{at}"
            ) from None
    if identity.sex and identity.sex not in _SEXES:
        raise IdentityError(f"the sex {identity.sex!r} is not one of M, F, O{at}")
    return identity


def parse_map(text: str, source: str = "map") -> dict[str, LocalIdentity]:
    """Read a ``--map`` CSV: a header row naming :data:`MAP_COLUMNS` (foreign_id and local_id
    required), then one row per foreign Patient ID. Empty cells mean "keep the media's value".

    Raises
    ------
    IdentityError
        Missing or unknown columns, a repeated foreign ID, or a value that does not fit.
    """
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    rows = [r for r in reader if any(cell.strip() for cell in r)]
    if not rows:
        raise IdentityError(f"{source} is empty; it needs a header row: {','.join(MAP_COLUMNS)}")
    header = [h.strip().lower() for h in rows[0]]
    unknown = [h for h in header if h not in MAP_COLUMNS]
    missing = [c for c in _REQUIRED if c not in header]
    if unknown or missing:
        raise IdentityError(
            f"{source}: the header must name the columns {', '.join(MAP_COLUMNS)} "
            f"(foreign_id and local_id required); unknown {unknown}, missing {missing}"
        )
    out: dict[str, LocalIdentity] = {}
    for number, row in enumerate(rows[1:], start=2):
        cells = {h: (row[i].strip() if i < len(row) else "") for i, h in enumerate(header)}
        foreign = cells["foreign_id"]
        if foreign in out:
            raise IdentityError(f"{source} line {number}: foreign ID {foreign!r} appears twice")
        identity = LocalIdentity(
            patient_id=cells["local_id"],
            issuer=cells.get("issuer") or None,
            name=cells.get("name") or None,
            birth_date=cells.get("birth_date") or None,
            sex=(cells.get("sex") or "").upper() or None,
        )
        out[foreign] = check_identity(identity, f"{source} line {number}")
    return out


def single(patients: list[MediaPatient], identity: LocalIdentity) -> dict[str, LocalIdentity]:
    """One local identity for the one patient selected on the media.

    Raises
    ------
    IdentityError
        The selection holds several patients: one local ID for all would merge them.
    """
    check_identity(identity)
    if len(patients) > 1:
        names = ", ".join(f"{p.patient_id!r} ({p.name})" for p in patients)
        raise IdentityError(
            f"the selection holds {len(patients)} patients ({names}); one local Patient ID "
            "cannot be given to all of them",
            hint="choose one with --patient ID, or give a --map file",
        )
    return {p.patient_id: identity for p in patients}


def from_map(
    patients: list[MediaPatient], mapping: Mapping[str, LocalIdentity]
) -> dict[str, LocalIdentity]:
    """The identities of the patients the map names; the others get none (not imported)."""
    return {p.patient_id: mapping[p.patient_id] for p in patients if p.patient_id in mapping}
