"""dicom/tree.py: the one rule for a parent record's keys (its first instance) and the one
Patient/Study/Series summary (inventory, a build's "what each disc holds", plan summary)."""

from __future__ import annotations

from pathlib import Path

import pytest
from factories import make_instance, write_instance

from mediatool.dicom.tree import (
    PatientSummary,
    SeriesSummary,
    StudySummary,
    first_of_patient,
    first_of_series,
    first_of_study,
    summarise,
)
from mediatool.hierarchy import build_tree
from mediatool.model import InstanceInfo, SourceRef
from mediatool.scan import ScanOptions, scan_one


@pytest.fixture(scope="module")
def instances(tmp_path_factory: pytest.TempPathFactory) -> list[InstanceInfo]:
    """Two patients, two series each of three instances; series 2's instances disagree on
    their description (the first one's is the record's)."""
    root = tmp_path_factory.mktemp("in")
    out: list[InstanceInfo] = []
    for p, se, n in [(p, se, n) for p in (1, 2) for se in (1, 2) for n in (1, 2, 3)]:
        ds = make_instance(p, 1, se, n, SeriesDescription=f"S{se} v{n if se == 2 else 0}")
        path = write_instance(Path(root) / f"{p}{se}{n}.dcm", ds)
        info = scan_one(SourceRef(str(path)), ScanOptions())
        assert isinstance(info, InstanceInfo), info
        out.append(info)
    return out[::-1]  # the tree orders them, whatever the input order


def test_a_parent_takes_its_first_instance(instances: list[InstanceInfo]) -> None:
    tree = build_tree(instances)
    patient = tree.patients[0]
    study = patient.studies[0]
    series = study.series[1]
    first = min((i for i in instances if i.series_uid == series.uid), key=InstanceInfo.sort_key)
    assert first_of_series(series) is first
    assert first_of_series(series).series_description == "S2 v1"
    assert first_of_study(study) is first_of_series(study.series[0])
    assert first_of_patient(patient) is first_of_study(study)
    assert first_of_patient(patient).patient_id == "PID0001"


def test_summary_of_a_tree(instances: list[InstanceInfo]) -> None:
    tree = build_tree(instances)
    summary = summarise(tree)
    assert [p.patient_id for p in summary] == ["PID0001", "PID0002"]
    p1 = summary[0]
    first = first_of_patient(tree.patients[0])
    assert (p1.name, p1.birth_date, p1.sex) == ("Test^Patient1", "19700101", "O")
    (study,) = p1.studies.values()
    assert (study.uid, study.date, study.description, study.accession) == (
        first.study_uid,
        "20240312",
        "CT Thorax",
        "A11",
    )
    assert [(s.description, s.instances) for s in study.series.values()] == [
        ("S1 v0", 3),
        ("S2 v1", 3),
    ]
    total = sum(
        s.instances for p in summary for st in p.studies.values() for s in st.series.values()
    )
    assert total == tree.counts()["instances"] == len(instances)


def test_summaries_of_one_instance(instances: list[InstanceInfo]) -> None:
    inst = instances[0]
    assert PatientSummary.of(inst) == PatientSummary(
        inst.patient_id, inst.patient_name, inst.birth_date, inst.sex
    )
    assert StudySummary.of(inst) == StudySummary(
        inst.study_uid, inst.study_date, inst.study_description, inst.accession
    )
    assert SeriesSummary.of(inst) == SeriesSummary(
        inst.series_uid, inst.modality, inst.series_number, inst.series_description, 0
    )
