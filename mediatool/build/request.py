"""What a build is asked to do (:class:`BuildRequest`), and what follows from the request alone:
the capacity of one volume and the header scan's view of the profile."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from mediatool.findings import Severity
from mediatool.profiles import Profile
from mediatool.scan import ScanOptions


@dataclass(frozen=True)
class BuildRequest:
    sources: tuple[str, ...]
    out: Path | None
    profile: Profile
    fileset_id: str = ""
    descriptor: Path | None = None
    invent: bool = False
    force: bool = False
    dry_run: bool = False
    fail_on: Severity = Severity.ERROR
    jobs: int | None = None
    iso: Path | None = None  # also (or only) pack the File-set into this ISO 9660 image
    media: str | None = None  # cd | dvd | bd | usb: the capacity (None: the profile's, for --iso)
    capacity: int | None = None  # bytes a volume may hold (overrides media)
    compress: str = "none"  # none | lossless | lossy: --compress
    allow_lossy: bool = False
    date: datetime | None = None  # recorded in the image; None: SOURCE_DATE_EPOCH, else now
    web: bool = True  # IHE PDI web content, README.TXT, INDEX.HTM and the viewer
    site: Path | None = None  # site branding file (TOML)
    viewer: Path | None = None  # a third-party viewer copied to APP/ (writes AUTORUN.INF)
    presets: str = "auto"  # CT window presets in the viewer: on | off | auto (off if too big)
    label: Path | None = None  # write the printable disc label (PNG) here
    label_text: str = ""  # a line of free text on the label (PS3.4 Annex S Label Text)
    label_from_instances: bool = True  # the patients and studies on the label (Annex S)
    fileset_uid: str = ""  # the File-set UID to use (one volume only; else derived)
    notes: tuple[str, ...] = ()  # plain-text notes for README.TXT (e.g. what a retrieve missed)
    skip_invalid: bool = False  # leave out the input files that would refuse the build
    image: Path | None = None  # the image of the medium in its own file system (--image)
    usb: Path | None = None  # the mount point of a FAT USB stick to write to (--usb)


DESCRIPTOR_FILE_ID = ("README",)


def image_medium(request: BuildRequest) -> str:
    """The medium whose file system ``--image`` is written in: ``--media``, else the profile's."""
    return request.media or request.profile.media


def staging_target(request: BuildRequest) -> Path | None:
    """Where the staging folder goes beside: the folder, else an image; a stick alone stages in
    the temporary folder (the stick gets the files copied and read back)."""
    for path in (request.out, request.iso, request.image):
        if path is not None:
            return path
    if request.usb is not None:
        import tempfile

        return Path(tempfile.gettempdir()) / "mediatool-usb"
    return None


def capacity_of(request: BuildRequest) -> int | None:
    """Bytes one volume may hold: ``--capacity``, else ``--media``, else (for an image) the
    profile's medium; a folder alone has no limit."""
    if request.capacity is not None:
        return request.capacity
    medium = request.media
    if medium is None and (request.iso is not None or request.image is not None):
        medium = request.profile.media
    if medium is None:
        return None
    from mediatool.writers.iso import MEDIA_CAPACITY  # not imported by a build to a folder

    return MEDIA_CAPACITY[medium]


def scan_options(profile: Profile) -> ScanOptions:
    """The header scan's view of a profile: its additional keys and their Types."""
    return ScanOptions(
        extra_keys=dict(profile.extra_keys),
        key_types={k: dict(v) for k, v in profile.key_types.items()},
    )
