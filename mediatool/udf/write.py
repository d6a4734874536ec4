"""Write a File-set folder as a UDF 1.50, 2.50 or 2.60 image (PS3.12 Annex J, X).

**Deterministic.** Every timestamp is the build's date; the Volume Set Identifier's unique
part (UDF 2.2.2.5: 16 hex characters) is derived from the File-set (volume identifier, every
path and size, the DICOMDIR's bytes, which name every instance's UIDs), not from the clock;
Unique IDs follow the folder scan's order. Two runs on the same folder and date give the same
bytes.

**Streaming.** The descriptors, File Entries and directories are built in memory (one block
per file), written into a file beside the image; the files' bytes are then copied by the
kernel (:func:`mediatool.writers.isodata.fill`), and the image is renamed into place when
complete and no file changed since it was listed.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from mediatool.errors import OutputError
from mediatool.udf import descriptors as d
from mediatool.udf import ecma167 as e
from mediatool.udf import layout as lay
from mediatool.writers import folder as staging
from mediatool.writers import isodata
from mediatool.writers.iso import FolderScan

Sector = tuple[int, bytes]


def _entries(scan: FolderScan) -> list[tuple[tuple[str, ...], bool, int]]:
    return [(x.parts, x.is_dir, x.size) for x in scan.entries]


def set_identifier(folder: Path, scan: FolderScan, volume_id: str) -> str:
    """UDF 2.2.2.5 Volume Set Identifier: 16 hex digits from the File-set, then its ID."""
    digest = hashlib.sha256(volume_id.encode())
    for entry in scan.entries:
        digest.update(f"{entry.where}\0{int(entry.is_dir)}\0{entry.size}\0".encode())
    dicomdir = folder / "DICOMDIR"
    if dicomdir.is_file():
        digest.update(dicomdir.read_bytes())
    return digest.hexdigest()[:16].upper() + volume_id


def volume(
    folder: Path, scan: FolderScan, revision: str, volume_id: str, date: datetime
) -> d.Volume:
    return d.Volume(d.REVISIONS[revision], volume_id, set_identifier(folder, scan, volume_id), date)


def _sequence(v: d.Volume, layout: lay.Layout, start: int) -> Iterator[Sector]:
    """3/8.4 a Volume Descriptor Sequence at sector ``start`` (the Main and Reserve copies)."""
    yield start, d.primary(v, start, 1)
    yield start + 1, d.implementation_use(v, start + 1, 2)
    yield start + 2, d.partition(v, start + 2, 3, lay.PARTITION_START, layout.length)
    yield start + 3, d.logical(v, start + 3, 4, lay.INTEGRITY)
    yield start + 4, d.unallocated(v, start + 4, 5)
    yield start + 5, e.terminating(v.revision.tag_version, start + 5)


def volume_sectors(v: d.Volume, layout: lay.Layout) -> Iterator[Sector]:
    """Everything outside partition 0: recognition, both sequences, integrity, anchors."""
    for k, ident in enumerate((b"BEA01", v.revision.nsr, b"TEA01")):
        yield lay.VRS + k, e.volume_structure(ident)
    yield from _sequence(v, layout, lay.MAIN_VDS)
    yield from _sequence(v, layout, lay.RESERVE_VDS)
    dirs = sum(1 for n in layout.nodes[1:] if n.is_dir)
    sizes = (layout.length, layout.meta_extent) if v.revision.metadata else (layout.length,)
    counts = d.Counts(len(layout.nodes) - 1 - dirs, dirs, layout.next_unique, sizes)
    yield lay.INTEGRITY, d.integrity(v, lay.INTEGRITY, counts)
    yield lay.INTEGRITY + 1, e.terminating(v.revision.tag_version, lay.INTEGRITY + 1)
    span = lay.VDS_LENGTH * e.BLOCK
    for where in (lay.ANCHOR, layout.sectors - 1):
        yield where, e.anchor(v.revision.tag_version, where, lay.MAIN_VDS, lay.RESERVE_VDS, span)


def metadata_files(v: d.Volume, layout: lay.Layout) -> Iterator[Sector]:
    """UDF 2.2.13: the Metadata File (type 250) and its Mirror (251), blocks 0 and 1."""
    size = layout.meta_extent * e.BLOCK
    for block, kind, start in (
        (0, e.METADATA, layout.meta_start),
        (1, e.MIRROR, layout.mirror_start),
    ):
        icb = d.Icb(kind, size, layout.meta_extent, 1, 0, e.SHORT_AD, e.short_ad(size, start))
        yield lay.PARTITION_START + block, d.extended_file_entry(v, block, icb)


def _data_ads(v: d.Volume, node: lay.Node) -> bytes:
    """A file's extents, each below 2^30 bytes (4/14.14.1): long_ads into partition 0 from the
    metadata partition, short_ads without one."""
    out, done = b"", 0
    while done < node.size:
        length = min(node.size - done, lay.EXTENT_MAX)
        block = node.data + done // e.BLOCK
        out += e.long_ad(length, block, 0) if v.revision.metadata else e.short_ad(length, block)
        done += length
    return out


def _icb(v: d.Volume, node: lay.Node) -> d.Icb:
    if node.is_dir:
        links = 1 + sum(1 for c in node.children if c.is_dir)
        ads = e.short_ad(node.size, node.data)
        return d.Icb(
            e.DIRECTORY, node.size, lay.blocks(node.size), links, node.unique, e.SHORT_AD, ads
        )
    kind = e.LONG_AD if v.revision.metadata else e.SHORT_AD
    return d.Icb(e.FILE, node.size, lay.blocks(node.size), 1, node.unique, kind, _data_ads(v, node))


def _directory(v: d.Volume, node: lay.Node, parent: lay.Node, ref: int) -> bytes:
    """4/14.4 the FIDs of a directory: the parent entry first (UDF 2.3.4), then each child;
    a FID's Tag Location is the block its tag starts in."""
    out = bytearray()
    items = [(parent, "", e.IS_DIRECTORY | e.IS_PARENT)]
    items += [(c, c.name, e.IS_DIRECTORY if c.is_dir else 0) for c in node.children]
    for target, name, chars in items:
        icb = e.long_ad(e.BLOCK, target.icb, ref, target.unique)
        out += d.fid(v, node.data + len(out) // e.BLOCK, d.identifier(name, chars, icb))
    return bytes(out)


def metadata(v: d.Volume, layout: lay.Layout) -> bytes:
    """The metadata blocks: the File Set Descriptor, every File Entry, every directory."""
    ref = 1 if v.revision.metadata else 0
    area = bytearray(layout.meta_extent * e.BLOCK)
    root = layout.nodes[0]
    area[: e.BLOCK] = d.file_set(v, e.long_ad(e.BLOCK, root.icb, ref, root.unique)).ljust(
        e.BLOCK, b"\0"
    )
    parents = {c.parts: n for n in layout.nodes if n.is_dir for c in n.children}
    for node in layout.nodes:
        if len(_data_ads(v, node)) > lay.MAX_EXTENTS * 16:
            raise OutputError(f"{'/'.join(node.parts)!r} is too large for one UDF File Entry")
        entry = d.file_entry(v, node.icb, _icb(v, node))
        area[node.icb * e.BLOCK : node.icb * e.BLOCK + len(entry)] = entry
        if node.is_dir:
            fids = _directory(v, node, parents.get(node.parts, root), ref)
            area[node.data * e.BLOCK : node.data * e.BLOCK + len(fids)] = fids
    return bytes(area)


def plan(scan: FolderScan, revision: str) -> lay.Layout:
    return lay.plan(_entries(scan), d.REVISIONS[revision].metadata)


def _extents(folder: Path, scan: FolderScan, layout: lay.Layout) -> list[isodata.Extent]:
    """Where each file's bytes go in the image, in image order."""
    nodes = {n.parts: n for n in layout.nodes}
    out = []
    for entry in scan.entries:
        node = nodes[entry.parts]
        if not entry.is_dir and entry.size:
            offset = (lay.PARTITION_START + node.data) * e.BLOCK
            out.append(
                isodata.Extent(
                    f"{folder}/{entry.where}", entry.where, offset, entry.size, entry.stamp
                )
            )
    return sorted(out, key=lambda x: x.offset)


def _descriptors(fd: int, v: d.Volume, layout: lay.Layout) -> None:
    """Write every structure but the files' bytes into the open image ``fd``."""
    os.ftruncate(fd, layout.sectors * e.BLOCK)
    sectors = list(volume_sectors(v, layout))
    if v.revision.metadata:
        sectors += metadata_files(v, layout)
    for sector, data in sectors:
        os.pwrite(fd, data, sector * e.BLOCK)
    area = metadata(v, layout)
    starts = (layout.meta_start, layout.mirror_start) if v.revision.metadata else (0,)
    for start in starts:
        os.pwrite(fd, area, (lay.PARTITION_START + start) * e.BLOCK)


def write(folder: Path, scan: FolderScan, image: Path, v: d.Volume, layout: lay.Layout) -> None:
    """Write the image beside ``image`` (umask applied), then rename it into place.

    Raises ``OSError`` (a full disk) and ``MediaError`` (a file changed while copied); the
    temporary file is removed first."""
    image.parent.mkdir(parents=True, exist_ok=True)
    staging.sweep(image)
    fd, tmp = staging.open_file(image)
    try:
        _descriptors(fd, v, layout)
        extents = _extents(folder, scan, layout)
        isodata.fill(lambda: (fd, extents), None, None)
        os.close(fd)
        fd = -1
        tmp.replace(image)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        tmp.unlink(missing_ok=True)
        raise
