"""Helpers for the validate tests: build small File-sets, validate them, patch DICOMDIR bytes.

Byte patches keep every length (values are replaced by values of the same length, tags by tags),
so the other offsets of the DICOMDIR stay valid and each mutation breaks exactly one thing.
Positions come from mediatool's raw DICOMDIR reader, whose item positions are checked against
pydicom's ``seq_item_tell`` in test_validate_reader.py.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

from click.testing import CliRunner
from factories import make_instance, write_instance

from mediatool.cli import main
from mediatool.dicom.dicomdir_raw import RawDirectory
from mediatool.dicom.dicomdir_read import parse
from mediatool.media import open_media
from mediatool.profiles import Profile
from mediatool.validate import Report, validate_media


def build(src: Path, out: Path, *extra: str) -> Path:
    """``mediatool build`` through the CLI; the File-set folder (DICOM content only unless
    ``--web`` is among ``extra``)."""
    args = ["build", str(src), "--out", str(out), "--json", *extra]
    if "--web" not in extra:
        args.append("--no-web")
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.stdout + result.stderr
    json.loads(result.stdout)
    return out


#: Patient 2's name needs (0008,0005) in its PATIENT record (record 11).
NAMES = {1: "Test^Patient1", 2: "Müller^Jürgen"}


def small_fileset(root: Path, *extra: str) -> Path:
    """2 patients x 1 study x 2 series x 3 CT images, built by mediatool (20 records)."""
    for p, name in NAMES.items():
        for s in (1, 2):
            for i in (1, 2, 3):
                ds = make_instance(p, 1, s, i, PatientName=name)
                write_instance(root / "in" / f"patient {p}" / f"s{s}" / f"img-{i}.dcm", ds)
    return build(root / "in", root / "out", "--fileset-id", "TESTCD", *extra)


def validate(path: Path, profile: Profile | None = None, jobs: int | None = 1) -> Report:
    with open_media(path) as reader:
        return validate_media(reader, profile, jobs=jobs)


def codes(report: Report) -> set[str]:
    return {f.code for f in report.findings}


def where(report: Report, code: str) -> set[str | None]:
    return {f.where for f in report.findings if f.code == code}


def problems(report: Report) -> list[str]:
    """Errors and warnings, readable in an assertion message."""
    return [
        f"{f.severity.name} {f.code} {f.where}: {f.message}"
        for f in report.findings
        if f.severity >= 20
    ]


class Dicomdir:
    """The bytes of a DICOMDIR, patched in place by record (1-based item number) and tag."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.data = bytearray(path.read_bytes())
        self.parsed: RawDirectory = parse(bytes(self.data))

    def save(self) -> None:
        self.path.write_bytes(bytes(self.data))

    def record(self, index: int) -> int:
        """File position of record ``index``'s Item tag."""
        return self.parsed.records[index - 1].offset

    def index_of(self, record_type: str, nth: int = 1) -> int:
        hits = [r.index for r in self.parsed.records if r.record_type == record_type]
        return hits[nth - 1]

    def _element(self, index: int | None, tag: int) -> tuple[int, int]:
        elements = self.parsed.top if index is None else self.parsed.records[index - 1].elements
        element = elements[tag]
        return element.value_pos, len(element.value)

    def value(self, index: int | None, tag: int) -> bytes:
        pos, length = self._element(index, tag)
        return bytes(self.data[pos : pos + length])

    def set_value(self, index: int | None, tag: int, value: bytes, pad: bytes = b" ") -> None:
        pos, length = self._element(index, tag)
        assert len(value) <= length, (value, length)
        self.data[pos : pos + length] = value + pad * (length - len(value))

    def set_ul(self, index: int | None, tag: int, number: int) -> None:
        self.set_value(index, tag, struct.pack("<L", number))

    def set_us(self, index: int | None, tag: int, number: int) -> None:
        self.set_value(index, tag, struct.pack("<H", number))

    def retag(self, index: int, tag: int, new_tag: int) -> None:
        pos, _ = self._element(index, tag)
        vr = self.data[pos - 4 : pos - 2]
        head = pos - 8 if vr.isalpha() else pos - 12
        self.data[head : head + 4] = struct.pack("<HH", new_tag >> 16, new_tag & 0xFFFF)
