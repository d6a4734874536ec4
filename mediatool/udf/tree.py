"""Walk the directory tree of a UDF volume (ECMA-167 part 4; UDF 2.60 §2.3) from its File Set
Descriptor, through a Metadata Partition when there is one (UDF 2.2.10, 2.2.13).

Hostile media: every extent is checked against its partition and the image, a directory that
refers to one already read (a loop) is not followed, depth and entries are capped, a name
that could leave the root is refused, a File Entry or FID with a bad tag is skipped. Each of
these is a finding for the caller to report; nothing raises but :class:`Damaged`
for the volume itself (no File Set, no root).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO, Final

from mediatool.findings import Finding, finding
from mediatool.media.base import unsafe_component
from mediatool.udf import ecma167 as e
from mediatool.udf.volume import Damaged, VolumeInfo, characters

MAX_DEPTH: Final = 64
MAX_ENTRIES: Final = 1 << 20
MAX_DIRECTORY: Final = 64 << 20  # bytes of FIDs in one directory
_EXTENDED_AD: Final = 2
_EMBEDDED: Final = 3

Run = tuple[int, int]  # byte offset in the image, length


@dataclass(frozen=True, slots=True)
class Node:
    """A File Entry: its type, length and where its bytes are (``runs``, or ``inline``)."""

    file_type: int
    length: int
    runs: tuple[Run, ...]
    inline: bytes | None


@dataclass(frozen=True, slots=True)
class Found:
    path: str
    node: Node


class Volume:
    """Address translation of one logical volume: partition reference + block → image runs."""

    def __init__(self, fp: BinaryIO, size: int, info: VolumeInfo) -> None:
        self.fp, self.size, self.info = fp, size, info
        self._meta: list[tuple[int, int]] | None = None  # metadata extents: physical block, len
        for ref, m in enumerate(info.maps):
            if m.kind not in ("physical", "metadata", "sparable"):
                raise Damaged(f"partition map {ref} is a {m.kind} partition, which is not read")
            if m.partition not in info.partitions:
                raise Damaged(f"partition map {ref} names partition {m.partition}, not described")
        self._phys = next((r for r, x in enumerate(info.maps) if x.kind != "metadata"), 0)
        if info.metadata:
            self._meta = self._metadata_extents()

    def _physical(self, ref: int) -> tuple[int, int]:
        """A sparable partition is read as a physical one: its sparing table only remaps
        defective packets, which an image has none of (UDF 2.2.9)."""
        return self.info.partitions[self.info.maps[ref].partition]

    def _metadata_extents(self) -> list[tuple[int, int]]:
        """UDF 2.2.13: the Metadata File's extents, else its Mirror's."""
        m = next(x for x in self.info.maps if x.kind == "metadata")
        physical = self._phys
        problems = []
        for block in (m.metadata_file, m.mirror_file):
            try:
                node = self.entry(physical, block, (e.METADATA, e.MIRROR))
            except Damaged as exc:
                problems.append(str(exc))
                continue
            start = self._physical(physical)[0]
            return [(off // e.BLOCK - start, length) for off, length in node.runs]
        raise Damaged("the Metadata File and its Mirror cannot be read: " + "; ".join(problems))

    def runs(self, ref: int, block: int, length: int) -> list[Run]:
        """Where ``length`` bytes from ``block`` of partition reference ``ref`` are."""
        if ref >= len(self.info.maps):
            raise Damaged(f"partition reference {ref} does not exist")
        if self.info.maps[ref].kind == "metadata" and self._meta is not None:
            return self._in_metadata(block, length)
        start, blocks = self._physical(ref)
        if block * e.BLOCK + length > blocks * e.BLOCK:
            raise Damaged(f"an extent at block {block} runs past the end of its partition")
        offset = (start + block) * e.BLOCK
        if offset + length > self.size:
            raise Damaged(f"an extent at block {block} lies beyond the end of the image")
        return [(offset, length)] if length else []

    def _in_metadata(self, block: int, length: int) -> list[Run]:
        assert self._meta is not None
        out, skip, want = [], block * e.BLOCK, length
        for first, size in self._meta:
            if want and skip < size:
                take = min(size - skip, want)
                out += self.runs(self._phys, first + skip // e.BLOCK, take)
                want -= take
                skip = 0
            else:
                skip -= size
        if want:
            raise Damaged(f"an extent at block {block} runs past the end of the Metadata File")
        return out

    def read(self, runs: list[Run] | tuple[Run, ...]) -> bytes:
        out = bytearray()
        for offset, length in runs:
            self.fp.seek(offset)
            out += self.fp.read(length)
        return bytes(out)

    def entry(self, ref: int, block: int, types: tuple[int, ...] | None = None) -> Node:
        """4/14.9 File Entry or 4/14.17 Extended File Entry at ``block`` of ``ref``."""
        data = self.read(self.runs(ref, block, e.BLOCK))
        problem = e.tag_ok(data, block)
        ident = struct.unpack_from("<H", data)[0]
        if problem is None and ident not in (e.FE, e.EFE):
            problem = f"tag identifier {ident}, not a File Entry"
        if problem is not None:
            raise Damaged(f"File Entry at block {block}: {problem}")
        file_type, flags = data[27], struct.unpack_from("<H", data, 34)[0] & 7
        base = 216 if ident == e.EFE else 176
        length = struct.unpack_from("<Q", data, 56)[0]
        ea, ad = struct.unpack_from("<II", data, base - 8)
        if base + ea + ad > len(data):
            raise Damaged(f"File Entry at block {block}: its descriptors overrun the block")
        ads = data[base + ea : base + ea + ad]
        if types is not None and file_type not in types:
            raise Damaged(f"File Entry at block {block}: file type {file_type}, expected {types}")
        if flags == _EMBEDDED:
            return Node(file_type, min(length, len(ads)), (), ads[:length])
        return Node(file_type, length, tuple(self._extents(ads, flags, ref, length)), None)

    def _extents(self, ads: bytes, flags: int, ref: int, length: int) -> Iterator[Run]:
        """4/14.14 short_ad/long_ad: recorded extents only, as much as ``length`` needs."""
        if flags == _EXTENDED_AD or flags > _EMBEDDED:
            raise Damaged(f"allocation descriptors of type {flags} are not read")
        step, want = (8 if flags == e.SHORT_AD else 16), length
        for pos in range(0, len(ads) - step + 1, step):
            raw, block = struct.unpack_from("<II", ads, pos)
            part = ref if flags == e.SHORT_AD else struct.unpack_from("<H", ads, pos + 8)[0]
            size, kind = raw & 0x3FFFFFFF, raw >> 30
            if not want or not size:  # 4/14.14.1.1: a zero length ends the descriptors
                break
            if kind != 0:
                raise Damaged(f"an extent of type {kind} (unrecorded or continued) is not read")
            take = min(size, want)
            yield from self.runs(part, block, take)
            want -= take
        if want:
            raise Damaged(f"the extents hold less than the {length} bytes recorded")


def fids(data: bytes) -> Iterator[tuple[str, int, int, int, bool]]:
    """4/14.4 the File Identifier Descriptors of a directory: (name, characteristics, ICB
    block, ICB partition reference, tag intact)."""
    pos = 0
    while pos + 38 <= len(data):
        name_len, use = data[pos + 19], struct.unpack_from("<H", data, pos + 36)[0]
        size = 38 + use + name_len
        size += -size % 4
        if struct.unpack_from("<H", data, pos)[0] != e.FID or pos + size > len(data):
            return
        record = data[pos : pos + size]
        block, ref = struct.unpack_from("<IH", record, 24)
        intact = e.tag_ok(record, struct.unpack_from("<I", record, 12)[0]) is None
        name = characters(record[38 + use : 38 + use + name_len])
        yield name, record[18], block, ref, intact
        pos += size


def _directory(vol: Volume, ref: int, block: int) -> Node:
    node = vol.entry(ref, block)
    if node.file_type != e.DIRECTORY:
        raise Damaged(f"the entry at block {block} is not a directory")
    if node.length > MAX_DIRECTORY:
        raise Damaged(f"a directory of {node.length} bytes; at most {MAX_DIRECTORY} are read")
    return node


@dataclass(slots=True)
class _Walk:
    vol: Volume
    found: list[Found]
    problems: list[Finding]
    seen: set[tuple[int, int]]
    count: int = 0

    def problem(self, code: str, message: str, where: str | None) -> None:
        self.problems.append(finding(code, message, where))

    def child(
        self, name: str, chars: int, at: tuple[int, int], rel: str
    ) -> tuple[str, Node] | None:
        """One FID's target: a file to list or a directory to enter (None: reported)."""
        where = f"{rel}/{name}" if rel else name
        if unsafe_component(name):
            self.problem("media.unsafe-name", f"UDF name {name!r}", rel or None)
            return None
        if chars & e.IS_DIRECTORY and at in self.seen:
            self.problem(
                "media.udf-damaged", "a directory that contains itself (loop); not followed", where
            )
            return None
        try:
            node = (
                _directory(self.vol, at[1], at[0])
                if chars & e.IS_DIRECTORY
                else self.vol.entry(at[1], at[0])
            )
        except Damaged as exc:
            self.problem("media.udf-damaged", f"{exc}; not read", where)
            return None
        if chars & 0x01:  # 4/14.4.3 existence bit: hidden
            self.problem("media.hidden-file", "UDF hidden bit", where)
        return where, node


def walk(vol: Volume) -> tuple[list[Found], list[Finding]]:
    """Every regular file below the root, and what was wrong on the way."""
    _, block, ref = vol.info.file_set
    data = vol.read(vol.runs(ref, block, e.BLOCK))
    problem = e.tag_ok(data, block)
    if problem is not None or struct.unpack_from("<H", data)[0] != e.FSD:
        raise Damaged(f"the File Set Descriptor at block {block}: {problem or 'wrong tag'}")
    root_block, root_ref = struct.unpack_from("<IH", data, 404)
    state = _Walk(vol, [], [], {(root_block, root_ref)})
    pending = [(_directory(vol, root_ref, root_block), "", 0)]
    while pending and state.count <= MAX_ENTRIES:
        directory, rel, depth = pending.pop()
        _entries(state, directory, rel, depth, pending)
    return state.found, state.problems


def _entries(
    state: _Walk, directory: Node, rel: str, depth: int, pending: list[tuple[Node, str, int]]
) -> None:
    data = directory.inline if directory.inline is not None else state.vol.read(directory.runs)
    for name, chars, block, ref, intact in fids(data):
        if chars & (e.IS_PARENT | 0x04):  # the parent entry; a deleted one (4/14.4.3)
            continue
        state.count += 1
        if state.count > MAX_ENTRIES:
            state.problem(
                "media.udf-damaged",
                f"more than {MAX_ENTRIES} entries; the rest not read",
                rel or None,
            )
            return
        if not intact:
            state.problem(
                "media.udf-damaged",
                f"the identifier of {name!r} has a bad tag; not read",
                rel or None,
            )
            continue
        got = state.child(name, chars, (block, ref), rel)
        if got is None:
            continue
        where, node = got
        if chars & e.IS_DIRECTORY:
            if depth + 1 >= MAX_DEPTH:
                state.problem(
                    "media.udf-damaged", f"deeper than {MAX_DEPTH} levels; not read", where
                )
                continue
            state.seen.add((block, ref))
            pending.append((node, where, depth + 1))
        elif node.file_type == 12:  # 4/14.6.6 symbolic link
            state.problem("media.link-not-followed", "UDF symbolic link", where)
        elif node.file_type in (0, e.FILE):
            state.found.append(Found(where, node))
