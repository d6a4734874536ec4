"""Structured Reports as readable text."""

from __future__ import annotations

from pydicom import dcmread
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from mediatool.web.sr import as_text, read_document


def code(meaning: str, value: str = "1", scheme: str = "99TEST") -> Sequence:
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, scheme, meaning
    return Sequence([item])


def content(value_type: str, name: str, **values: object) -> Dataset:
    item = Dataset()
    item.RelationshipType = "CONTAINS"
    item.ValueType = value_type
    item.ConceptNameCodeSequence = code(name)
    for key, value in values.items():
        setattr(item, key, value)
    return item


def test_bundled_sr_reads_as_text() -> None:
    path = get_testdata_file("test-SR.dcm", download=False)
    assert path is not None
    text = as_text(read_document(dcmread(path)))
    assert text.splitlines()[0]  # a title
    assert len(text.splitlines()) > 10


def test_value_types() -> None:
    ds = Dataset()
    ds.ValueType = "CONTAINER"
    ds.ConceptNameCodeSequence = code("Imaging Report")
    ds.CompletionFlag, ds.VerificationFlag = "COMPLETE", "UNVERIFIED"
    measured = Dataset()
    measured.NumericValue = "12.5"
    measured.MeasurementUnitsCodeSequence = code("millimeter", "mm", "UCUM")
    image_ref = Dataset()
    image_ref.ReferencedSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    image_ref.ReferencedSOPInstanceUID = "1.2.3.4"
    findings = content("CONTAINER", "Findings")
    findings.ContentSequence = Sequence(
        [
            content("TEXT", "Finding", TextValue="Nodule <b>right</b> upper lobe"),
            content("NUM", "Diameter", MeasuredValueSequence=Sequence([measured])),
            content("CODE", "Site", ConceptCodeSequence=code("Lung")),
            content("IMAGE", "Key image", ReferencedSOPSequence=Sequence([image_ref])),
            content("DATE", "Date", Date="20240312"),
        ]
    )
    ds.ContentSequence = Sequence([findings])
    doc = read_document(ds)
    assert doc["title"] == "Imaging Report"
    assert ("Completion", "Complete") in doc["meta"]
    text = as_text(doc)
    assert "Finding: Nodule <b>right</b> upper lobe" in text  # plain text; pages escape it
    assert "Diameter: 12.5 mm" in text
    assert "Site: Lung" in text
    assert "Date: 2024-03-12" in text
    assert doc["items"][0]["children"][3]["ref"] == "1.2.3.4"


def test_deep_trees_are_cut() -> None:
    root = content("CONTAINER", "Level")
    node = root
    for _ in range(100):
        child = content("CONTAINER", "Level")
        node.ContentSequence = Sequence([child])
        node = child
    ds = Dataset()
    ds.ContentSequence = Sequence([root])
    assert as_text(read_document(ds)).count("Level") < 60
