"""Read a File-set from a UDF image (a DVD, DVD-RAM or BD, PS3.12 Annex P, J and X) through its
UDF tree.

An image with a UDF Volume Recognition Sequence (an ``NSR02``/``NSR03`` descriptor) is read
through UDF, the file system a DVD or BD reader uses. Two readers:

- **pycdlib** (it parses the UDF descriptors, File Entries and File Identifier Descriptors)
  for a UDF volume with an ISO 9660 bridge and only a Type 1 partition map: a DVD as
  genisoimage writes it. pycdlib needs the bridge, and cannot read a Metadata Partition.
- **our own** (:mod:`mediatool.udf.volume`, :mod:`mediatool.udf.tree`) for the rest: a volume
  with a Type 2 Metadata Partition map (UDF 2.50/2.60, every BD, Annex X) or without an ISO
  9660 bridge (DVD-RAM, Annex J), which no maintained Python library reads. It bounds-checks
  every extent, refuses loops, caps depth and entries, and a damaged descriptor becomes a
  finding (``media.udf-damaged``), never a traceback.

The ISO 9660 bridge, when there is one, is read too (:class:`~mediatool.media.iso.IsoReader`):
its findings (Level 1 names, Volume Identifier...) are kept, and a name found in one tree and
not in the other is reported (``media.trees-differ``, checklist A09: every tree must show the
same names).

The facts Annex P and X rule on are read from the descriptors: the UDF revision (the Domain
Identifier suffix of the Logical Volume Descriptor, UDF 2.2.4.4), the Minimum UDF Read
Revision (Logical Volume Integrity Descriptor), the number of partitions, and the Interchange
Level of the Primary Volume Descriptor (ECMA-167 3/10.1). ``validate`` compares them with the
medium of the profile (:func:`mediatool.validate.medium.check`).
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Final, cast

import pycdlib

from mediatool.errors import MediaError
from mediatool.findings import finding
from mediatool.media.base import DamagedMedia, IndexedReader, MediaEntry, unsafe_component
from mediatool.media.iso import IsoReader, _ExtentReader, _open_image
from mediatool.udf.tree import Node, walk
from mediatool.udf.tree import Volume as UdfVolume
from mediatool.udf.volume import Damaged, VolumeInfo, read_volume

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
    bridge: bool = True  # an ISO 9660 tree beside the UDF one
    maps: tuple[str, ...] = ("physical",)  # kinds of the partition maps (UDF 2.2.8-2.2.10)
    max_write: int = 0  # Maximum UDF Write Revision (LVID, UDF 2.2.6.4; 0: not recorded)

    @staticmethod
    def text(revision: int) -> str:
        return f"{revision >> 8}.{revision & 0xFF:02x}"

    def describe(self) -> str:
        return (
            f"UDF {self.text(self.revision)} (Minimum UDF Read Revision "
            f"{self.text(self.min_read)}), {self.partitions} partition(s), Interchange Level "
            f"{self.interchange[0]} (maximum {self.interchange[1]}){self._extras()}"
        )

    def _extras(self) -> str:
        maps = {"metadata": "a Metadata Partition", "sparable": "a sparing table",
                "virtual": "a VAT (virtual partition)"}  # fmt: skip
        named = [maps[m] for m in self.maps if m in maps]
        named.append("an ISO 9660 bridge" if self.bridge else "no ISO 9660 bridge")
        return ", with " + ", ".join(named[:-1]) + (" and " if len(named) > 1 else "") + named[-1]


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


def _damaged(name: str, message: str, code: str = "media.udf-damaged") -> DamagedMedia:
    return DamagedMedia(
        f"cannot read UDF image {name!r}: {message}", finding(code, message), kind="udf"
    )


def _has_bridge(fp: BinaryIO) -> bool:
    fp.seek(16 * 2048 + 1)
    return fp.read(5) == b"CD001"


def _own_facts(info: VolumeInfo, bridge: bool) -> UdfFacts:
    return UdfFacts(
        info.revision,
        info.min_read,
        len(info.partitions),
        info.interchange,
        bridge,
        tuple(m.kind for m in info.maps),
        info.max_write,
    )


class UdfReader(IndexedReader):
    """A UDF image as a medium, read through the UDF tree (the module docstring says which
    reader reads which image)."""

    kind = "udf"

    def __init__(self, path: str | Path) -> None:
        super().__init__(str(path))
        self._image = _open_image(path, self.name)
        self._size = self._image.seek(0, io.SEEK_END)
        self._records: dict[str, Any] = {}
        self._nodes: dict[str, Node] = {}
        self._iso: pycdlib.PyCdlib | None = None
        try:
            info = read_volume(self._image, self._size)
            bridge = _has_bridge(self._image)
        except (Damaged, struct.error, ValueError, OSError) as exc:
            self._image.close()
            raise _damaged(self.name, str(exc)) from exc
        self.volume_id = info.volume_id
        if bridge and [m.kind for m in info.maps] == ["physical"]:
            self._with_pycdlib(path)
        else:
            self.facts = _own_facts(info, bridge)
            self._with_own_reader(info)
        self._closed = False
        self._findings.append(finding("media.filesystem", self.facts.describe()))

    def _with_own_reader(self, info: VolumeInfo) -> None:
        """Read the tree with :mod:`mediatool.udf.tree` (Metadata Partition, no bridge)."""
        if any(m.kind == "virtual" for m in info.maps):
            self._image.close()
            raise _damaged(
                self.name,
                "a VAT (UDF virtual partition): mediatool does not read it, and PS3.12 Annex X "
                "forbids it on a BD",
                "media.udf-layout",
            )
        try:
            found, problems = walk(UdfVolume(self._image, self._size, info))
        except (Damaged, struct.error, ValueError, OSError) as exc:  # hostile bytes, in words
            self._image.close()
            raise _damaged(self.name, str(exc)) from exc
        self._findings.extend(problems)
        self._nodes = {f.path: f.node for f in found}
        self._set_entries(MediaEntry(f.path, f.path, f.node.length) for f in found)

    def _with_pycdlib(self, path: str | Path) -> None:
        """A DVD with its ISO 9660 bridge: pycdlib, and the bridge compared with the UDF tree."""
        with IsoReader(path) as bridge:  # the ISO 9660 tree: its findings and names
            self.volume_id = bridge.volume_id
            iso_names = {e.path for e in bridge.entries()}
            self._findings.extend(
                f for f in bridge.container_findings() if f.code != "media.iso-extensions"
            )
        self._iso = pycdlib.PyCdlib()
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
        self._compare(iso_names)

    def _walk(self) -> list[MediaEntry]:
        assert self._iso is not None
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
        """A seekable view of the file's bytes inside the image (its extents, checked against
        the image's end when listed).

        Raises ``OSError`` for an entry not of this image or an extent past the image's end."""
        if self._closed:
            raise OSError(f"UDF image {self.name!r} is closed")
        known = self._known(entry)
        node = self._nodes.get(known.path)
        if node is not None:
            if node.inline is not None:
                return io.BytesIO(node.inline)
            return cast(BinaryIO, _ExtentReader(self._image, list(node.runs)))
        assert self._iso is not None
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
            if self._iso is not None:
                self._iso.close()
            self._image.close()
