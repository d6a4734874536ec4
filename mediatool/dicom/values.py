"""Small helpers shared by the validate modules: element names, warning capture, raw data sets."""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Final

from pydicom.charset import python_encoding
from pydicom.datadict import dictionary_description
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.tag import BaseTag

from mediatool.findings import Finding, finding

#: Specific Character Set defined terms (PS3.3 C.12.1.1.2, Tables C.12-2 to C.12-5), as far as
#: pydicom knows them, plus Latin-9 (ISO_IR 203) which pydicom 3.0 lacks. "" stands for the
#: default repertoire (an empty first value of a multi-valued (0008,0005)).
DEFINED_CHARSETS: Final = frozenset(python_encoding) | {"ISO_IR 203", "ISO 2022 IR 203"}
#: Value Representations whose values are text in the record's character set (PS3.5 6.1.2.3).
TEXT_VRS: Final = frozenset({"SH", "LO", "ST", "LT", "PN", "UC", "UT"})
#: Value Representations restricted to the default repertoire, checked from the raw bytes.
ASCII_VRS: Final = frozenset({"AE", "AS", "CS", "DA", "DS", "DT", "IS", "TM", "UI"})


def tag_name(tag: int) -> str:
    """``(0010,0010) Patient's Name`` (pydicom's dictionary name; bare tag if unknown)."""
    head = f"({tag >> 16:04X},{tag & 0xFFFF:04X})"
    try:
        return f"{head} {dictionary_description(tag)}"
    except KeyError:
        return head


@contextmanager
def captured(where: str | None, out: list[Finding]) -> Iterator[None]:
    """Turn pydicom's warnings inside the block into ``read.pydicom-warning`` findings."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    for w in caught[:10]:
        text = str(w.message).splitlines()[0][:300] if str(w.message) else type(w).__name__
        out.append(finding("read.pydicom-warning", text, where))


def raw_dataset(
    elements: Iterable[tuple[int, str | None, bytes]], implicit: bool, little: bool
) -> Dataset:
    """A Dataset of raw elements (values converted by pydicom on access, charset applied)."""
    return Dataset(
        {
            BaseTag(tag): RawDataElement(
                BaseTag(tag), vr, len(value), value, 0, implicit, little, True
            )
            for tag, vr, value in elements
        }
    )


def text_values(raw: bytes) -> list[str]:
    """The values of an ASCII element (backslash separated, padding removed)."""
    return [v.strip(" \x00") for v in raw.decode("latin-1").strip(" \x00").split("\\")]
