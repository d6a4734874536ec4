"""Where everything goes in a UDF image (2048-byte sectors; ECMA-167 3/8, UDF 2.60 §2 and 6).

Sectors: 16-18 the Volume Recognition Sequence (BEA01, NSR02/NSR03, TEA01, ECMA-167 2/9.1),
32-47 the Main and 48-63 the Reserve Volume Descriptor Sequence, 64-65 the Logical Volume
Integrity Sequence, 256 an Anchor, then partition 0 from :data:`PARTITION_START`, and the
second Anchor in the last sector (UDF 2.2.3).

Inside partition 0 with a Metadata Partition (UDF 2.50/2.60 §2.2.13): block 0 the Metadata
File's Extended File Entry, block 1 its Mirror's, the metadata (File Set Descriptor, every File
Entry and directory) from block 32, the Mirror's copy of it, both aligned on 32 blocks, then
the files' data. (7-Zip takes the end of the last file's data, then zeros and the closing
Anchor, as the end of the volume: a Mirror after the data would be "data after the end".)
Without it (UDF 1.50): the metadata from block 0, then the files' data. "Metadata blocks"
below count from the start of the metadata.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from mediatool.udf.descriptors import UNIT
from mediatool.udf.ecma167 import BLOCK

VRS: Final = 16
MAIN_VDS, RESERVE_VDS, VDS_LENGTH = 32, 48, 16
INTEGRITY: Final = 64
ANCHOR: Final = 256
PARTITION_START: Final = 288  # a multiple of 32: the metadata aligned on disc too
#: 4/14.14.1: an extent's length is below 2^30 and a multiple of the block but for the last
EXTENT_MAX: Final = (1 << 30) - BLOCK
#: 14.9: allocation descriptors of one File Entry in its 2048-byte block (16 bytes each)
MAX_EXTENTS: Final = (BLOCK - 176) // 16
FID_HEAD: Final = 38  # 4/14.4: a File Identifier Descriptor without name or padding


def fid_size(name: str) -> int:
    """Bytes of one File Identifier Descriptor: header, CS0 byte + name, padded to 4."""
    n = FID_HEAD + (len(name) + 1 if name else 0)
    return n + (-n % 4)


def blocks(size: int) -> int:
    return -(-size // BLOCK)


@dataclass(slots=True)
class Node:
    """A directory or file: its File Entry's block (metadata), its data's first block (a
    directory's FIDs in the metadata, a file's bytes in partition 0), its Unique ID."""

    parts: tuple[str, ...]
    is_dir: bool
    size: int  # bytes of data (a directory: its FIDs)
    unique: int
    icb: int = 0
    data: int = 0
    children: list[Node] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.parts[-1] if self.parts else ""


@dataclass(frozen=True, slots=True)
class Layout:
    nodes: tuple[Node, ...]  # the root first, then in the folder scan's order
    meta_blocks: int  # metadata blocks used (File Set Descriptor included)
    meta_start: int  # block of partition 0 where the metadata starts
    mirror_start: int  # block of partition 0 of the Mirror's copy (0: none)
    length: int  # blocks of partition 0
    next_unique: int

    @property
    def meta_extent(self) -> int:
        """Blocks of the Metadata File (rounded to the allocation unit)."""
        return -(-self.meta_blocks // UNIT) * UNIT if self.mirror_start else self.meta_blocks

    @property
    def sectors(self) -> int:
        """Sectors of the image: partition 0 and the closing Anchor."""
        return PARTITION_START + self.length + 1


def _tree(entries: list[tuple[tuple[str, ...], bool, int]]) -> list[Node]:
    root = Node((), True, 0, 0)
    nodes = [root]
    by_parts: dict[tuple[str, ...], Node] = {(): root}
    for unique, (parts, is_dir, size) in enumerate(entries, start=16):  # UDF 3.2.1.1: 0-15 kept
        node = Node(parts, is_dir, 0 if is_dir else size, unique)
        by_parts[parts[:-1]].children.append(node)
        nodes.append(node)
        if is_dir:
            by_parts[parts] = node
    for node in nodes:
        if node.is_dir:
            node.size = fid_size("") + sum(fid_size(c.name) for c in node.children)
    return nodes


def plan(entries: list[tuple[tuple[str, ...], bool, int]], metadata: bool) -> Layout:
    """Lay out ``entries`` (folder-relative parts, is a directory, size; parents before their
    children). Block 0 of the metadata is the File Set Descriptor."""
    nodes = _tree(entries)
    next_block = 1
    for node in nodes:
        node.icb, next_block = next_block, next_block + 1
        if node.is_dir:
            node.data, next_block = next_block, next_block + blocks(node.size)
    meta_start = UNIT if metadata else 0
    extent = -(-next_block // UNIT) * UNIT if metadata else next_block
    mirror = meta_start + extent if metadata else 0
    data = mirror + extent if metadata else next_block
    for node in nodes:
        if not node.is_dir and node.size:
            node.data, data = data, data + blocks(node.size)
    length = data
    return Layout(tuple(nodes), next_block, meta_start, mirror, length, 16 + len(entries))
