"""Pure stages of an import: accounting, local identities, map files, selection and planning."""

from __future__ import annotations

from pathlib import Path

import pytest
from factories import make_instance, write_instance

from mediatool.importer.accounting import (
    AccountingError,
    FileOutcome,
    Outcome,
    outcome_for,
    summarise,
)
from mediatool.importer.identity import (
    IdentityError,
    check_identity,
    from_map,
    media_patients,
    parse_map,
    single,
)
from mediatool.importer.reconcile import LocalIdentity
from mediatool.importer.select import (
    Selection,
    SelectionError,
    check_selection,
    plan_import,
)
from mediatool.importer.survey import Kind, MediaFile, Survey, survey_media
from mediatool.media import open_media

# --- accounting -------------------------------------------------------------------------------


def test_outcomes_follow_their_reason() -> None:
    assert outcome_for("a", "import.not-dicom", "").outcome is Outcome.SKIPPED
    assert outcome_for("a", "import.dicomdir", "").outcome is Outcome.SKIPPED
    assert outcome_for("a", "import.not-selected", "").outcome is Outcome.SKIPPED
    assert outcome_for("a", "import.already-present", "").outcome is Outcome.ALREADY_PRESENT
    for code in ("import.damaged", "import.refused", "import.interrupted", "import.other-patient"):
        assert outcome_for("a", code, "").outcome is Outcome.NOT_IMPORTED
    # issue 10: stored but not confirmed is its own outcome, never "not imported"
    assert outcome_for("a", "import.not-committed", "").outcome is Outcome.NOT_CONFIRMED


def test_summary_adds_up_and_refuses_gaps() -> None:
    outcomes = [
        FileOutcome("a", Outcome.IMPORTED),
        outcome_for("b", "import.not-dicom", "not a DICOM file"),
        outcome_for("c", "import.refused", "status 0xC000"),
        outcome_for("d", "import.already-present", ""),
    ]
    s = summarise(outcomes, ["a", "b", "c", "d"], listed_missing=1)
    assert (s.files, s.imported, s.skipped, s.not_imported, s.already_present) == (4, 1, 1, 1, 1)
    assert s.by_reason == {"import.not-dicom": 1, "import.refused": 1, "import.already-present": 1}
    assert not s.complete
    with pytest.raises(AccountingError, match=r"none \['e'\]"):
        summarise(outcomes, ["a", "b", "c", "d", "e"])
    with pytest.raises(AccountingError, match=r"twice \['a'\]"):
        summarise([*outcomes, FileOutcome("a", Outcome.IMPORTED)], ["a", "b", "c", "d"])


# --- identities -------------------------------------------------------------------------------


MAP = """foreign_id,local_id,issuer,name,birth_date,sex
PID0001,L-1,HOSP,Local^One,19700101,m
PID0002,L-2,,,,
"""


def test_map_file_is_read() -> None:
    mapping = parse_map(MAP, "map.csv")
    assert mapping["PID0001"] == LocalIdentity("L-1", "HOSP", "Local^One", "19700101", "M")
    assert mapping["PID0002"] == LocalIdentity("L-2")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("", r"map.csv is empty", id="empty"),
        pytest.param("foreign,local\n", r"unknown \['foreign', 'local'\]", id="bad-header"),
        pytest.param(
            "foreign_id,local_id\nA,1\nA,2\n", r"line 3: foreign ID 'A' appears twice", id="twice"
        ),
        pytest.param(
            "foreign_id,local_id,birth_date\nA,1,1970-01-01\n",
            r"birth date '1970-01-01' is not a date written YYYYMMDD \(map.csv line 2\)",
            id="bad-date",
        ),
        pytest.param(
            "foreign_id,local_id,sex\nA,1,X\n", r"sex 'X' is not one of M, F, O", id="bad-sex"
        ),
        pytest.param(
            "foreign_id,local_id\nA,\n",
            r"local Patient ID is empty \(map.csv line 2\)",
            id="empty-local",
        ),
    ],
)
def test_bad_map_files_are_refused(text: str, message: str) -> None:
    with pytest.raises(IdentityError, match=message):
        parse_map(text, "map.csv")


def test_identity_values_must_fit_their_vr() -> None:
    with pytest.raises(IdentityError, match=r"not a valid LO value"):
        check_identity(LocalIdentity("A" * 65))
    with pytest.raises(IdentityError, match=r"not a valid LO value"):
        check_identity(LocalIdentity("A\\B"))
    assert check_identity(LocalIdentity("12345", "HOSP")).issuer == "HOSP"


# --- survey, selection and plan ---------------------------------------------------------------


def _folder(tmp_path: Path) -> Path:
    root = tmp_path / "media"
    write_instance(root / "a" / "img1.dcm", make_instance(1, 1, 1, 1))
    write_instance(root / "a" / "img2.dcm", make_instance(1, 1, 1, 2))
    write_instance(root / "b" / "copy.dcm", make_instance(1, 1, 1, 2))  # identical copy
    write_instance(root / "b" / "other.dcm", make_instance(1, 1, 1, 1, StudyDescription="X"))
    write_instance(root / "c" / "img1.dcm", make_instance(2, 1, 1, 1))
    (root / "readme.txt").write_text("hello")
    (root / "broken.dcm").write_bytes(b"\0" * 128 + b"DICM" + b"\x02\x00\x10\x00UI\x40\x00")
    return root


def test_survey_and_plan_account_for_every_file(tmp_path: Path) -> None:
    with open_media(_folder(tmp_path)) as reader:
        from mediatool.importer import same_content

        survey = survey_media(reader)
        kinds = {f.path: f.kind for f in survey.files}
        assert kinds["readme.txt"] is Kind.NOT_DICOM
        assert kinds["broken.dcm"] is Kind.DAMAGED
        assert kinds["a/img1.dcm"] is Kind.INSTANCE
        assert [p.patient_id for p in media_patients(survey.files)] == ["PID0001", "PID0002"]
        plan = plan_import(
            survey,
            Selection(patient="PID0001"),
            {"PID0001": LocalIdentity("L")},
            same_content(reader),
        )
    decided = {o.path: o.code for o in plan.decided}
    assert decided == {
        "b/copy.dcm": "import.duplicate",
        "b/other.dcm": "import.duplicate-conflict",
        "broken.dcm": "import.damaged",
        "c/img1.dcm": "import.not-selected",
        "readme.txt": "import.not-dicom",
    }
    assert [w.file.path for w in plan.work] == ["a/img1.dcm", "a/img2.dcm"]
    assert all(w.identity == LocalIdentity("L") for w in plan.work)
    assert len(plan.work) + len(plan.decided) == len(survey.files)


def test_patients_without_local_identity_are_not_imported(tmp_path: Path) -> None:
    with open_media(_folder(tmp_path)) as reader:
        survey = survey_media(reader)
        mapping = parse_map("foreign_id,local_id\nPID0002,L2\n")
        identities = from_map(media_patients(survey.files), mapping)
        plan = plan_import(survey, Selection(), identities, lambda a, b: True)
    codes = {o.path: o.code for o in plan.decided}
    assert codes["a/img1.dcm"] == "import.no-local-patient"
    assert [w.file.path for w in plan.work] == ["c/img1.dcm"]


def test_one_local_id_for_several_patients_is_refused(tmp_path: Path) -> None:
    with open_media(_folder(tmp_path)) as reader:
        patients = media_patients(survey_media(reader).files)
    with pytest.raises(IdentityError, match=r"the selection holds 2 patients"):
        single(patients, LocalIdentity("L"))


def test_selection_must_name_something_on_the_media() -> None:
    check_selection(Survey("m", "folder", (), {}), Selection())  # nothing to choose from
    with pytest.raises(SelectionError, match=r"no study '1.2.3' on the media"):
        check_selection(_survey_with_one(), Selection(frozenset({"1.2.3"})))
    with pytest.raises(SelectionError, match=r"no patient with Patient ID 'X' on the media"):
        check_selection(_survey_with_one(), Selection(patient="X"))


def _survey_with_one() -> Survey:
    from mediatool.model import InstanceInfo, SourceRef

    info = InstanceInfo(
        SourceRef("x"),
        10,
        "1.2",
        "1.2.3.4",
        "1.2.840.10008.1.2.1",
        0,
        "IMAGE",
        "PID",
        "N",
        "",
        "",
        "1.9",
        "",
        "",
        "",
        "",
        "",
        "1.9.1",
        "CT",
        "1",
        "",
        "1",
        "",
        (b"", b"", b"", b""),
    )
    return Survey("m", "folder", (MediaFile("x", 10, Kind.INSTANCE, info),), {})
