"""From the record tree to what each file must be compared with (:class:`RecordSpec`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from mediatool.dicom.dicomdir_raw import (
    FILE_ID,
    REF_CLASS,
    REF_INSTANCE,
    REF_RELATED,
    REF_TS,
    RawDirectory,
    RawRecord,
)
from mediatool.dicom.dicomdir_tree import DirTree
from mediatool.profiles import Profile
from mediatool.validate.compare import KeySet, RecordSpec
from mediatool.validate.icon import ICON_SEQUENCE

_NOT_COMPARED: Final = frozenset({ICON_SEQUENCE})


def _keyset(record: RawRecord) -> KeySet:
    elements = tuple(
        (tag, vr, value)
        for tag, vr, value in record.raw_elements()
        if tag >> 16 != 0x0004 and tag not in _NOT_COMPARED
    )
    return KeySet(
        record.record_type or "",
        record.where,
        record.encoding.implicit,
        record.encoding.little,
        elements,
    )


def references(
    directory: RawDirectory, tree: DirTree, profile: Profile | None
) -> Iterator[tuple[tuple[str, ...], str, RecordSpec]]:
    """(File ID components, record location, spec) for every active record with a file."""
    cache: dict[int, KeySet] = {}

    def keyset(index: int) -> KeySet:
        hit = cache.get(index)
        if hit is None:
            hit = cache[index] = _keyset(directory.records[index])
        return hit

    # Type 1C keys are compared with the file; Type 1 and 2 are checked on the record alone
    # (records.py), so each problem is reported once.
    profile_keys = (
        tuple(
            (rtype, tuple(k for k in keys if profile.key_types.get(rtype, {}).get(k, "1C") == "1C"))
            for rtype, keys in sorted(profile.extra_keys.items())
        )
        if profile is not None
        else ()
    )
    for i in tree.order:
        record = directory.records[i]
        components = record.file_id
        if not tree.active[i] or components is None or FILE_ID not in record.elements:
            continue
        spec = RecordSpec(
            record_type=record.record_type or "",
            ref_class=record.text(REF_CLASS),
            ref_instance=record.text(REF_INSTANCE),
            ref_ts=record.text(REF_TS),
            has_related=record.has(REF_RELATED),
            leaf=keyset(i),
            ancestors=tuple(keyset(a) for a in reversed(tree.ancestors(i))),
            profile_keys=profile_keys,
        )
        yield components, record.where, spec
