"""Read a File-set from a UDF image (a DVD or BD, PS3.12 Annex P and X) through its UDF tree.

An image with a UDF Volume Recognition Sequence (an ``NSR02``/``NSR03`` descriptor) is read
through UDF, the file system a DVD or BD reader uses, with pycdlib (which parses the UDF
descriptors, File Entries and File Identifier Descriptors of the image); pycdlib needs the ISO
9660 bridge beside it, which every UDF image mediatool writes has (a UDF-only image is refused).

The ISO 9660 bridge is read too (:class:`~mediatool.media.iso.IsoReader`): its findings (Level
1 names, Volume Identifier...) are kept, and a name found in one tree and not in the other is
reported (``media.trees-differ``, checklist A09: every tree must show the same names).

The facts Annex P and X rule on are read from the descriptors: the UDF revision (the Domain
Identifier suffix of the Logical Volume Descriptor, UDF 2.2.4.4), the Minimum UDF Read
Revision (Logical Volume Integrity Descriptor), the number of partitions, and the Interchange
Level of the Primary Volume Descriptor (ECMA-167 3/10.1). ``validate`` compares them with the
medium of the profile (:func:`mediatool.validate.medium.check`).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Final, cast

import pycdlib

from mediatool.errors import MediaError
from mediatool.findings import finding
from mediatool.media.base import DamagedMedia, IndexedReader, MediaEntry, unsafe_component
from mediatool.media.iso import IsoReader, _ExtentReader, _open_image

#: ECMA-167 2/9.1: the Volume Structure Descriptors of a UDF volume (sectors 16 and on)
NSR: Final = (b"NSR02", b"NSR03")
_FILE, _SYMLINK = 5, 12  # ECMA-167 4/14.6.6 File Type
_HIDDEN: Final = 0x01  # ECMA-167 4/14.4.3 File Characteristics: existence bit


@dataclass(frozen=True, slots=True)
class UdfFacts:
    revision: int  # 0x0102 ...
    min_read: int
    partitions: int
    interchange: tuple[int, int]  # (Interchange Level, Maximum Interchange Level)

    @staticmethod
    def text(revision: int) -> str:
        return f"{revision >> 8}.{revision & 0xFF:02x}"

    def describe(self) -> str:
        return (
            f"UDF {self.text(self.revision)} (Minimum UDF Read Revision "
            f"{self.text(self.min_read)}), {self.partitions} partition(s), Interchange Level "
            f"{self.interchange[0]} (maximum {self.interchange[1]}), with an ISO 9660 bridge"
        )


def has_udf(path: Path) -> bool:
    """True when the Volume Recognition Sequence (sectors 16-31) names a UDF volume."""
    with path.open("rb") as fp:
        fp.seek(16 * 2048)
        data = fp.read(16 * 2048)
    return any(data[k * 2048 + 1 : k * 2048 + 6] in NSR for k in range(16))


def _facts(iso: pycdlib.PyCdlib) -> UdfFacts:
    main = iso.udf_main_descs
    suffix = main.logical_volumes[0].domain_ident.suffix
    integrity = iso.udf_logical_volume_integrity
    min_read = integrity.logical_volume_impl_use.min_udf_read_revision if integrity else 0
    pvd = main.pvds[0]
    return UdfFacts(
        int.from_bytes(suffix[:2], "little"),
        int(min_read),
        len(main.partitions),
        (int(pvd.interchange_level), int(pvd.max_interchange_level)),
    )


class UdfReader(IndexedReader):
    """A UDF image (with its ISO 9660 bridge) as a medium, read through the UDF tree."""

    kind = "udf"

    def __init__(self, path: str | Path) -> None:
        super().__init__(str(path))
        with IsoReader(path) as bridge:  # the ISO 9660 tree: its findings and names
            self.volume_id = bridge.volume_id
            iso_names = {e.path for e in bridge.entries()}
            self._findings.extend(
                f for f in bridge.container_findings() if f.code != "media.iso-extensions"
            )
        self._image = _open_image(path, self.name)
        self._iso = pycdlib.PyCdlib()
        self._records: dict[str, Any] = {}
        try:
            self._iso.open_fp(self._image)
            self.facts = _facts(self._iso)
            self._set_entries(self._walk())
        except Exception as exc:  # hostile bytes: any failure is a damaged image, in words
            self._image.close()
            message = f"the UDF structures cannot be read (pycdlib: {exc})"
            raise DamagedMedia(
                f"cannot read UDF image {self.name!r}: {message}",
                finding("media.iso-damaged", message),
            ) from exc
        self._closed = False
        self._size = self._image.seek(0, io.SEEK_END)
        self._findings.append(finding("media.filesystem", self.facts.describe()))
        self._compare(iso_names)

    def _walk(self) -> list[MediaEntry]:
        root = self._iso.udf_root
        if root is None:
            raise MediaError("no UDF root directory")
        found: list[MediaEntry] = []
        pending: list[tuple[Any, str]] = [(root, "")]
        while pending:
            directory, rel = pending.pop()
            for desc in directory.fi_descs.values():
                if desc.is_parent() or desc.file_entry is None:
                    continue
                name = bytes(desc.fi).decode(desc.encoding or "latin-1", "replace")
                where = f"{rel}/{name}" if rel else name
                if unsafe_component(name):
                    self._findings.append(
                        finding("media.unsafe-name", f"UDF name {name!r}", rel or None)
                    )
                    continue
                if desc.file_characteristics & _HIDDEN:
                    self._findings.append(finding("media.hidden-file", "UDF hidden bit", where))
                entry = desc.file_entry
                if entry.is_dir():
                    pending.append((entry, where))
                elif entry.icb_tag.file_type == _SYMLINK:
                    self._findings.append(
                        finding("media.link-not-followed", "UDF symbolic link", where)
                    )
                elif entry.icb_tag.file_type == _FILE:
                    self._records[where] = entry
                    found.append(MediaEntry(where, where, int(entry.get_data_length())))
        return found

    def _compare(self, iso_names: set[str]) -> None:
        udf_names = {e.path for e in self._index}
        for path, tree in [(p, "UDF") for p in udf_names - iso_names] + [
            (p, "ISO 9660") for p in iso_names - udf_names
        ]:
            self._findings.append(
                finding("media.trees-differ", f"found only in the {tree} tree", path)
            )

    def open(self, entry: MediaEntry) -> BinaryIO:
        """A seekable view of the file's bytes inside the image (its File Entry's extent; the
        files of an image are recorded contiguously, as pycdlib's own reader assumes).

        Raises ``OSError`` for an entry not of this image or an extent past the image's end."""
        if self._closed:
            raise OSError(f"UDF image {self.name!r} is closed")
        known = self._known(entry)
        inode = self._records[known.path].inode
        if inode is None or not known.size:  # an empty file has no data extent
            return io.BytesIO(b"")
        start = int(inode.extent_location()) * int(self._iso.logical_block_size)
        if start + known.size > self._size:
            raise OSError(f"the extent of {known.path!r} ends beyond the image; not read")
        return cast(BinaryIO, _ExtentReader(self._image, [(start, known.size)]))

    def close(self) -> None:
        if not getattr(self, "_closed", True):
            self._closed = True
            self._iso.close()
            self._image.close()
