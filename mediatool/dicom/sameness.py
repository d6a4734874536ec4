"""When two files under one SOP Instance UID hold "the same content" (checklist F04).

One SOP Instance UID names one instance (PS3.3 C.12.1); two files carrying it are either copies
of that instance or a conflict. build, validate and import all ask the question, and this module
is where it is answered. There are two answers, because the commands judge different things:

* :func:`same_instance` (build and import): **equal data sets**. Both commands use the data set
  and nothing else of the file: build writes its own File Meta Information (PS3.10 7.1) for
  every file it puts on the medium, and import sends the data set by C-STORE, which carries no
  File Meta at all (PS3.7 9.1.1, PS3.4 B.4.1). Two files whose data sets are equal but whose
  File Meta differs (another Implementation Class UID, Source AE Title, a group length, padding
  of the meta group) therefore give exactly the same file on the disc and exactly the same
  C-STORE: they are one instance given twice (``hierarchy.duplicate-identical``,
  ``import.duplicate``). Data sets in different encodings (a raw data set next to a Part 10
  file, Implicit next to Explicit VR) are compared parsed, as values; data sets in one and the
  same encoding are compared byte for byte (a difference in any byte is a difference the disc
  or the peer would get).
* :func:`same_file` (validate): **equal bytes**. validate judges the medium as it is written: a
  reader of the File-set reads files, meta included, and checklist F04 calls only
  byte-identical copies a warning (``file.duplicate-identical``); any other difference is the
  error ``hierarchy.duplicate-conflict``. ``import --list`` shows this view of the disc (it
  lists validate's findings); the import itself then sends a File Meta-only copy once and
  counts it as a second copy, not as a conflict.

Both read in 1 MiB pieces, never a whole file at once unless the data sets must be parsed.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import BinaryIO, Final

from pydicom import dcmread

_PIECE: Final = 1 << 20

#: Opens the file for reading (a context manager, closed after the comparison).
Opener = Callable[[], AbstractContextManager[BinaryIO]]


@dataclass(frozen=True, slots=True)
class Stored:
    """One file holding an instance: how to open it, its size, and where its data set starts."""

    open: Opener
    size: int
    dataset_offset: int = 0  # 0 for a raw data set (no preamble, no File Meta)
    transfer_syntax: str = ""  # of the data set, as actually encoded


def _same_rest(fa: BinaryIO, fb: BinaryIO) -> bool:
    while True:
        ca, cb = fa.read(_PIECE), fb.read(_PIECE)
        if ca != cb:
            return False
        if not ca:
            return True


def same_file(a: Stored, b: Stored) -> bool:
    """Whether the two files hold the same bytes, File Meta included (validate, F04)."""
    if a.size != b.size:
        return False
    with a.open() as fa, b.open() as fb:
        return _same_rest(fa, fb)


def same_instance(a: Stored, b: Stored) -> bool:
    """Whether the two files hold equal data sets, whatever their File Meta (build, import)."""
    with a.open() as fa, b.open() as fb:
        fa.seek(a.dataset_offset)
        fb.seek(b.dataset_offset)
        if _same_rest(fa, fb):
            return True
    if a.transfer_syntax == b.transfer_syntax and a.dataset_offset and b.dataset_offset:
        return False
    # Reading and comparing converts values. What pydicom says while doing so is silenced: the
    # encoding warnings are findings of each file's header scan already (read.pydicom-warning),
    # and a value it calls invalid (badVR.dcm's IS '1A') is content that differs, which
    # the duplicate-conflict findings report for the file.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with a.open() as fa, b.open() as fb:
            pa, pb = dcmread(fa, force=True), dcmread(fb, force=True)
        for ds in (pa, pb):  # File Meta read as part of a raw data set
            del ds[0x00020000:0x00030000]
        return bool(pa == pb)
