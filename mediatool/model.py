"""Frozen values shared by the stages of the pipeline (no I/O here)."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field

from mediatool.findings import Finding

#: Progress of a stage: (done, total or None when unknown, what is being worked on); the CLI
#: draws it on stderr, the station reports it to the browser.
Progress = Callable[[int, int | None, str], None]

#: A File ID: its components, e.g. ("DICOM", "PT000001", "ST000001", "SE000001", "IM000001").
FileID = tuple[str, ...]


def render_file_id(file_id: FileID) -> str:
    """File ID as a POSIX path relative to the File-set root."""
    return "/".join(file_id)


@dataclass(frozen=True, slots=True)
class SourceRef:
    """Where an input file is: a path on disk, or a member of a zip archive at ``path``."""

    path: str
    member: str | None = None

    @property
    def display(self) -> str:
        return f"{self.path}!{self.member}" if self.member else self.path

    def sort_key(self) -> tuple[str, str]:
        return (self.path, self.member or "")


class Level(enum.IntEnum):
    """Index of a record blob in :attr:`InstanceInfo.keys`."""

    PATIENT = 0
    STUDY = 1
    SERIES = 2
    LEAF = 3


@dataclass(frozen=True, slots=True)
class PixelInfo:
    """Image Pixel Module values of an image (PS3.3 C.7.6.3), read with the header."""

    rows: int
    columns: int
    frames: int = 1
    samples_per_pixel: int = 1
    bits_allocated: int = 16
    bits_stored: int = 16
    pixel_representation: int = 0
    photometric: str = ""

    @property
    def native_size(self) -> int:
        """Bytes of the uncompressed Pixel Data (PS3.5 8.1.1)."""
        bits = self.rows * self.columns * self.frames * self.samples_per_pixel
        return (bits * self.bits_allocated + 7) // 8

    def value(self, keyword: str) -> str:
        """A value by attribute keyword, as text (for profile image rules)."""
        return str(
            {
                "Rows": self.rows,
                "Columns": self.columns,
                "SamplesPerPixel": self.samples_per_pixel,
                "BitsAllocated": self.bits_allocated,
                "BitsStored": self.bits_stored,
                "PixelRepresentation": self.pixel_representation,
                "PhotometricInterpretation": self.photometric,
            }.get(keyword, "")
        )


@dataclass(frozen=True, slots=True)
class InstanceInfo:
    """What the header scan learned about one input instance (PS3.10 file + PS3.3 entities).

    ``keys`` holds, per :class:`Level`, the directory record keys of the instance already encoded
    Explicit VR Little Endian in the instance's character set (with (0008,0005) in front when the
    keys need it), ready to be placed into a Directory Record (PS3.3 F.5).
    """

    source: SourceRef
    size: int
    sop_class_uid: str
    sop_instance_uid: str
    transfer_syntax: str  # of the data set, as actually encoded
    dataset_offset: int  # first byte of the data set in the source (0 for a raw data set)
    record_type: str | None
    patient_id: str
    patient_name: str
    birth_date: str
    sex: str
    study_uid: str
    study_date: str
    study_time: str
    study_id: str
    accession: str
    study_description: str
    series_uid: str
    modality: str
    series_number: str
    series_description: str
    instance_number: str
    related_general_sop_classes: str  # (0008,001A), for (0004,151A)
    keys: tuple[bytes, bytes, bytes, bytes]
    missing: tuple[tuple[Level, str], ...] = ()  # Type 1 keys missing or empty
    needs_reencode: bool = False  # data set encoding must change (implicit VR, big endian, ...)
    findings: tuple[Finding, ...] = ()
    pixel: PixelInfo | None = None  # images only (Rows and Columns present)

    def sort_key(self) -> tuple[str, ...]:
        """Deterministic order: patient, study, series, instance (design.md rule 6)."""
        return (
            self.patient_id,
            self.study_date,
            self.study_time,
            self.study_uid,
            _numeric(self.series_number),
            self.series_uid,
            _numeric(self.instance_number),
            self.sop_instance_uid,
        )


def _numeric(value: str) -> str:
    """Sort IS values numerically, as zero-padded text, and put non-numbers after numbers."""
    try:
        return f"{int(value.strip()):+020d}"
    except ValueError:
        return "~" + value


@dataclass(frozen=True, slots=True)
class ScanResult:
    instances: tuple[InstanceInfo, ...]
    findings: tuple[Finding, ...] = field(default=())
    files_seen: int = 0
