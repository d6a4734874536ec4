"""Issue 18: Modality (0008,0060) defined terms by name, and the Modality rule of build and
validate. Oracles: pydicom's copy of PS3.16 (CID 29, CID 33) and dciodvfy (dicom3tools)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from factories import make_instance, write_instance
from pydicom import dcmread
from pydicom import uid as sop
from pydicom.sr._cid_dict import cid_concepts

from mediatool import modalities
from mediatool.cli import main
from mediatool.findings import Severity
from mediatool.modality_check import check_modality
from mediatool.sample import generate_sample

#: The modalities the request that started mediatool lists, with its names (issue 18).
REQUESTED = [
    "AS",
    "BI",
    "CD",
    "CF",
    "CP",
    "CR",
    "CS",
    "CT",
    "DD",
    "DF",
    "DG",
    "DM",
    "DS",
    "DR",
    "EC",
    "ES",
    "FA",
    "FS",
    "HC",
    "LP",
    "LS",
    "MA",
    "MG",
    "MR",
    "MS",
    "NM",
    "OT",
    "PT",
    "RF",
    "RG",
    "RTDOSE",
    "RTIMAGE",
    "RTPLAN",
    "RTSTRUCT",
    "ST",
    "TG",
    "US",
    "VF",
    "XA",
    "XC",
    "ECG",
    "BMD",
    "BDUS",
]
#: PS3.3 C.7.3.1.1.1 Notes: the current term that incorporates a retired one.
INCORPORATED = {"DS": "XA", "CF": "RF", "DF": "RF", "VF": "RF", "MA": "MR", "MS": "MR"}
INCORPORATED |= {"EC": "US", "CD": "US", "DD": "US", "ST": "NM"}


def run(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("code", REQUESTED)
def test_every_requested_code_has_a_name_in_both_languages(code: str) -> None:
    term = modalities.term(code)
    assert term is not None
    assert term.names["en"] and term.names["pt-BR"]
    assert modalities.label(code) == f"{code} ({term.names['en']})"
    assert modalities.label(code, "pt-BR") == f"{code} ({term.names['pt-BR']})"


def test_labels() -> None:
    assert modalities.label("CT") == "CT (Computed Tomography)"
    assert modalities.label("CT", "pt-BR") == "CT (Tomografia computadorizada)"
    assert modalities.label("ZZ") == "ZZ"  # unknown: the code as it is
    assert modalities.label("") == ""
    both = "CT (Computed Tomography), MR (Magnetic Resonance)"
    assert modalities.labels(["CT", "", "MR"]) == both


def test_retired_terms_and_their_replacements() -> None:
    retired = {t.code for t in modalities.terms().values() if t.retired}
    assert retired == {
        "AS",
        "CD",
        "CF",
        "CP",
        "CS",
        "DD",
        "DF",
        "DM",
        "DS",
        "EC",
        "FA",
        "FS",
        "LP",
        "MA",
        "MS",
        "OPR",
        "ST",
        "VF",
    }
    assert {c: modalities.replacement(c) for c in INCORPORATED} == INCORPORATED
    assert modalities.replacement("AS") is None  # PS3.3 names none: none invented
    assert not modalities.term("DR").defined and modalities.replacement("DR") == "DX"  # type: ignore[union-attr]


def _codes(table: dict[str, Any], keyword: str) -> Any:
    return table[keyword]


def _cid(number: int) -> set[str]:
    """Codes of a PS3.16 context group in pydicom's copy (keyword -> code)."""
    from pydicom.sr._concepts_dict import concepts

    return {code for kw in cid_concepts[number]["DCM"] for code in _codes(concepts["DCM"], kw)}


def test_current_terms_agree_with_pydicoms_ps3_16() -> None:
    """Every code of CID 33 is in the table, and every CID claim of the table is true."""
    cid33, cid29 = _cid(33), _cid(29)
    table = modalities.terms()
    assert cid33 - set(table) == set()
    for term in table.values():
        assert (33 in term.cid) == (term.code in cid33), term.code
        assert (29 in term.cid) == (term.code in cid29), term.code
        if term.status == "current" and not term.cid:
            assert "not in pydicom" in term.note, term.code


def test_sop_class_table_resolves_to_current_terms() -> None:
    expected = modalities.expectations()
    assert expected[sop.CTImageStorage].modalities == ("CT",)
    assert set(expected[sop.XRayAngiographicImageStorage].modalities) == {"XA", "RF"}
    for entry in expected.values():
        for code in entry.modalities:
            term = modalities.term(code)
            assert term is not None and term.status == "current", (entry.keyword, code)
        assert entry.basis in ("enumerated", "iod") and entry.ref.startswith("PS3.3")
    assert modalities.expected(sop.SecondaryCaptureImageStorage) is None  # not constrained


def test_check_modality_findings() -> None:
    def codes(sop_class: str, value: str) -> list[tuple[str, Severity]]:
        return [(f.code, f.severity) for f in check_modality(sop_class, value, "X")]

    assert codes(sop.CTImageStorage, "CT") == []
    assert codes(sop.CTImageStorage, "") == []
    assert codes(sop.CTImageStorage, "MR") == [("modality.sop-class-mismatch", Severity.WARNING)]
    assert codes(sop.SecondaryCaptureImageStorage, "ZZ") == [("modality.unknown", Severity.WARNING)]
    # a retired term in its own IOD is one notice, not also a mismatch
    assert codes(sop.UltrasoundImageStorage, "EC") == [("modality.retired", Severity.INFO)]
    assert codes(sop.CTImageStorage, "ct") == [("modality.unknown", Severity.WARNING)]
    [retired] = check_modality(sop.XRayAngiographicImageStorage, "DS", "X")
    assert "use XA (X-Ray Angiography)" in retired.message
    [lower] = check_modality(sop.CTImageStorage, "ct", "X")
    assert "did you mean CT (Computed Tomography)" in lower.message
    [dr] = check_modality(sop.DigitalXRayImageStorageForPresentation, "DR", "X")
    assert dr.code == "modality.unknown" and "DX (Digital Radiography)" in dr.message


@pytest.fixture(scope="module")
def odd_modalities(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three CT instances: MR in CT Image Storage, a retired DS, an unknown code."""
    src = tmp_path_factory.mktemp("odd")
    for n, value in enumerate(("MR", "DS", "QQ"), 1):
        write_instance(src / f"i{n}.dcm", make_instance(series=n, Modality=value))
    return src


def test_build_and_validate_report_the_same_modality_findings(
    odd_modalities: Path, tmp_path: Path
) -> None:
    code, out, _ = run("build", odd_modalities, "--out", tmp_path / "disc", "--no-web", "--json")
    assert code == 0
    built = {(f["code"], f["where"].rsplit("/", 1)[-1]) for f in json.loads(out)["findings"]}
    assert ("modality.sop-class-mismatch", "i1.dcm") in built
    assert ("modality.unknown", "i3.dcm") in built
    code, out, _ = run("validate", tmp_path / "disc", "--json")
    found = [f for f in json.loads(out)["findings"] if f["code"].startswith("modality.")]
    assert sorted(f["code"] for f in found) == [
        "modality.retired",
        "modality.sop-class-mismatch",
        "modality.sop-class-mismatch",
        "modality.sop-class-mismatch",
        "modality.unknown",
    ]
    code, _, _ = run("validate", tmp_path / "disc", "--fail-on", "warning")
    assert code == 1


@pytest.fixture(scope="module")
def sample_disc(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("sample")
    generate_sample(base / "in", instances=31)
    code, _, err = run("build", base / "in", "--out", base / "disc", "-q")
    assert code == 0, err
    return base / "disc"


def test_sample_has_a_retired_and_uncommon_modalities(sample_disc: Path) -> None:
    code, out, _ = run("validate", sample_disc, "--json")
    doc = json.loads(out)
    assert code == 0
    assert {"EC", "ES", "XC"} <= set(doc["inventory"]["by_modality"])
    notes = [f for f in doc["findings"] if f["code"].startswith("modality.")]
    assert [f["code"] for f in notes] == ["modality.retired"]
    assert "use US (Ultrasound)" in notes[0]["message"]


def test_the_disc_names_modalities(sample_disc: Path) -> None:
    index = (sample_disc / "IHE_PDI").rglob("INDEX.HTM")
    pages = "\n".join(p.read_text(encoding="utf-8") for p in index)
    for text in ("CT (Computed Tomography)", "ES (Endoscopy)", "EC (Echocardiography)"):
        assert text in pages
    assert "XC (External-camera Photography)" in (sample_disc / "README.TXT").read_text()
    data = (sample_disc / "VIEWER" / "DATA.JS").read_text(encoding="utf-8")
    assert "ES (Endoscopy)" in data


def test_import_list_names_modalities(sample_disc: Path) -> None:
    code, out, _ = run("import", sample_disc, "--list")
    assert code == 0
    assert "ES (Endoscopy)" in out and "EC (Echocardiography)" in out
    code, out, _ = run("import", sample_disc, "--list", "--json")
    assert "ES (Endoscopy)" not in out and '"ES"' in out  # JSON keeps the code


def test_listings_name_modalities_in_portuguese(sample_disc: Path) -> None:
    """import --list and find speak both languages (--language pt-BR); JSON keeps the code."""
    from mediatool.cli.find import study_table
    from mediatool.retrieve.find import StudyMatch

    code, out, _ = run("import", sample_disc, "--list", "--language", "pt-BR")
    assert code == 0
    assert "CT (Tomografia computadorizada)" in out and "ES (Endoscopia)" in out
    assert "Computed Tomography" not in out
    study = StudyMatch(
        study_uid="1.2.3", patient_id="P1", patient_name="Silva^Ana", date="20240312",
        accession="A1", description="Abdome", modalities=("CT", "SR"), instances=3,
    )  # fmt: skip
    (row,) = [line for line in study_table([study], "pt-BR") if line.startswith("2024")]
    assert "CT (Tomografia computadorizada), SR (Laudo estruturado)" in row
    assert "Silva, Ana" in row


@pytest.mark.oracle
def test_dciodvfy_enforces_the_enumerated_values_marked_as_checked(
    sample_disc: Path, tmp_path: Path
) -> None:
    """The ``oracle = true`` rows of sop_modalities.toml: dciodvfy rejects another value."""
    tool = shutil.which("dciodvfy")
    if tool is None:
        pytest.fail("dciodvfy (dicom3tools) is not installed; the oracle test needs it")
    import tomllib

    from mediatool import modalities as m

    raw = tomllib.loads(
        (Path(m.__file__).parent / "standard" / "sop_modalities.toml").read_text("utf-8")
    )["sop_classes"]
    marked = {str(getattr(sop, k)) for k, v in raw.items() if v.get("oracle")}
    seen: set[str] = set()
    for path in sorted(p for p in (sample_disc / "DICOM").rglob("IM*") if p.is_file()):
        ds = dcmread(path)
        if ds.SOPClassUID not in marked or ds.SOPClassUID in seen:
            continue
        seen.add(ds.SOPClassUID)
        ds.Modality = "OT"
        ds.save_as(tmp_path / "x.dcm")
        run_ = subprocess.run([tool, str(tmp_path / "x.dcm")], capture_output=True, text=True)
        errors = [x for x in (run_.stdout + run_.stderr).splitlines() if x.startswith("Error")]
        assert any("<Modality>" in e for e in errors), (ds.SOPClassUID.name, errors)
    assert len(seen) >= 5


def test_portuguese_disc(tmp_path: Path) -> None:
    """The site file's `language` picks the names on the disc; codes stay as they are."""
    generate_sample(tmp_path / "in", instances=31)
    (tmp_path / "site.toml").write_text('name = "Hospital Exemplo"\nlanguage = "pt-BR"\n')
    code, _, err = run(
        "build", tmp_path / "in", "--out", tmp_path / "disc", "--site", tmp_path / "site.toml", "-q"
    )
    assert code == 0, err
    disc = tmp_path / "disc"
    pages = "\n".join(p.read_text("utf-8") for p in (disc / "IHE_PDI").rglob("*.HTM"))
    assert "CT (Tomografia computadorizada)" in pages and "Computed Tomography" not in pages
    assert "ES (Endoscopia)" in pages
    assert "XC (Fotografia por camera externa)" in (disc / "README.TXT").read_text("ascii")
    viewer = (disc / "VIEWER" / "DATA.JS").read_text("utf-8")
    assert "EC (Ecocardiografia)" in viewer


def test_label_studies_name_their_modalities() -> None:
    from mediatool.web.fileset import SeriesNode, StudyNode
    from mediatool.web.label import _study
    from mediatool.web.site import Site

    series = [SeriesNode(m, str(n), f"1.{n}") for n, m in enumerate(("CT", "PT", "CT"))]
    study = StudyNode("1", "20240301", "", "PET/CT", "", "", series)
    named = "CT (Computed Tomography), PT (Positron Emission Tomography)"
    assert _study(study, Site()) == f"PET/CT  ·  {named}"
    ct = StudyNode("2", "20240301", "", "", "", "", [SeriesNode("CT", "1", "2.1")])
    assert _study(ct, Site(language="pt-BR")) == "CT (Tomografia computadorizada)"
    study.series += [SeriesNode(m, "9", "1.9") for m in ("SR", "US", "XA", "ECG")]
    assert _study(study, Site()) == "PET/CT  ·  CT PT US XA ECG"  # too long for names; no SR
