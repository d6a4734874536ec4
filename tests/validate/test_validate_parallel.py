"""validate in worker processes (issue 17): the referenced files are read by the workers while
this process sniffs every other file; the DICOM files found there (orphans, F01, also inside
IHE_PDI and under a web file name: H05) are read by the same pool. Same report as reading
everything in one process, with and without a DICOMDIR."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from factories import make_instance, write_instance
from validate_helpers import build, validate, where

from mediatool.validate import files

INSTANCES = 150  # more than two chunks: read in worker processes


@pytest.fixture(scope="module")
def disc(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("parallel")
    for i in range(1, INSTANCES + 1):
        write_instance(root / "in" / f"s{i % 3}" / f"img-{i}.dcm", make_instance(1, 1, i % 3, i))
    out = build(root / "in", root / "out", "--fileset-id", "PARALLEL")
    (out / "IHE_PDI").mkdir()
    (out / "IHE_PDI" / "PAGE.HTM").write_text("<html></html>")
    (out / "INDEX.HTM").write_text("<html></html>")
    stray = root / "in" / "s1" / "img-1.dcm"
    shutil.copy(stray, out / "IHE_PDI" / "IMAGE.JPG")  # DICOM under a web name
    write_instance(out / "EXTRA" / "ORPHAN", make_instance(2, 1, 1, 1))
    return out


@pytest.fixture
def forked(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many tasks the worker processes were given (the real pool, counted)."""
    calls: list[int] = []
    real = files._read_forked

    def counting(reader, work, results, jobs, progress) -> None:  # type: ignore[no-untyped-def]
        calls.append(work.forked)
        real(reader, work, results, jobs, progress)

    monkeypatch.setattr(files, "_read_forked", counting)
    return calls


def test_orphans_found_while_the_workers_read(disc: Path, forked: list[int]) -> None:
    alone = validate(disc, jobs=1)
    assert forked == []
    pooled = validate(disc, jobs=2)
    assert forked == [INSTANCES]  # the referenced files; the orphans were found meanwhile
    assert where(pooled, "file.not-referenced") == {"IHE_PDI/IMAGE.JPG", "EXTRA/ORPHAN"}
    assert pooled.findings == alone.findings
    assert pooled.inventory.as_dict() == alone.inventory.as_dict()
    assert pooled.inventory.counts()["instances"] == INSTANCES + 2


def test_without_dicomdir_every_file_is_read_by_the_workers(
    disc: Path, tmp_path: Path, forked: list[int]
) -> None:
    copy = shutil.copytree(disc, tmp_path / "copy")
    (copy / "DICOMDIR").unlink()
    alone = validate(copy, jobs=1)
    pooled = validate(copy, jobs=2)
    assert forked == [INSTANCES + 2]  # sniffed first: nothing is referenced
    assert pooled.findings == alone.findings
    assert pooled.inventory.counts()["instances"] == INSTANCES + 2
