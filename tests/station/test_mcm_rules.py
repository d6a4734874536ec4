"""The Media Creation Management SCP's rules (PS3.4 Annex S) as pure functions: the form of an
N-CREATE (S.3.2.1), the Initiate's arguments (S.3.2.2), whether a request can be built, the
Execution Status a job gives (S.3.2.4) and the build job a request becomes. The same rules over
the network: test_mcm.py."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import kinds_helpers
import numpy as np
import pytest
from factories import make_instance, uid, write_instance
from mcm_scu import request_dataset
from pydicom.dataset import Dataset
from pydicom.uid import CTImageStorage, MRImageStorage

from mediatool import profiles
from mediatool.station.config import StationConfig
from mediatool.station.jobs.context import JobFailed
from mediatool.station.node import mcm
from mediatool.station.node.mcm import Checked, Refusal
from mediatool.station.store import Job

KNOWN = {p.id for p in profiles.list_profiles()}
A, B = uid(1, 1, 1, 1), uid(1, 1, 1, 2)


def refused(call: Any, *args: Any) -> Refusal:
    with pytest.raises(Refusal) as caught:
        call(*args)
    return caught.value


# --- N-CREATE (S.3.2.1.1) ----------------------------------------------------------------------
def test_a_well_formed_request_passes() -> None:
    ds = request_dataset(
        [(CTImageStorage, A), (CTImageStorage, B, "STD-GEN-CD")],
        StorageMediaFileSetID="OB5512", StorageMediaFileSetUID="1.2.3.4", LabelText="Dr. Souza",
        LabelUsingInformationExtractedFromInstances="NO", AllowMediaSplitting="YES",
        IncludeNonDICOMObjects="FOR_PATIENT", IncludeDisplayApplication="NO",
    )  # fmt: skip
    mcm.check_create(ds)  # no Refusal


@pytest.mark.parametrize(
    ("refs", "attributes", "status", "says"),
    [
        (None, {}, mcm.MISSING_ATTRIBUTE, "Referenced SOP Sequence"),
        ([], {}, mcm.MISSING_ATTRIBUTE, "Referenced SOP Sequence"),
        ([(CTImageStorage, "")], {}, mcm.MISSING_ATTRIBUTE, "item 1 has no ReferencedSOPInst"),
        ([("", A)], {}, mcm.MISSING_ATTRIBUTE, "item 1 has no ReferencedSOPClassUID"),
        ([(CTImageStorage, A)], {"AllowMediaSplitting": "MAYBE"}, 0x0106, "AllowMediaSplit"),
        ([(CTImageStorage, A)], {"IncludeDisplayApplication": "Y"}, 0x0106, "IncludeDisplay"),
        ([(CTImageStorage, A)], {"IncludeNonDICOMObjects": "YES"}, 0x0106, "Non-DICOM"),
        ([(CTImageStorage, A)], {"StorageMediaFileSetID": "ob-5512"}, 0x0106, "File-set ID"),
        ([(CTImageStorage, A)], {"StorageMediaFileSetID": "A" * 17}, 0x0106, "File-set ID"),
        ([(CTImageStorage, A)], {"StorageMediaFileSetUID": "1.2.x"}, 0x0106, "is not a UID"),
    ],
)
def test_a_malformed_request_is_refused(
    refs: Any, attributes: dict[str, str], status: int, says: str
) -> None:
    no = refused(mcm.check_create, request_dataset(refs, **attributes))
    assert no.status == status and says in no.comment and len(no.comment) <= 64


# --- N-ACTION Initiate (S.3.2.2.1) ------------------------------------------------------------
def action(**values: Any) -> Dataset:
    return request_dataset(None, **values)


def test_the_initiate_arguments_default_to_one_copy_medium_priority() -> None:
    assert mcm.check_action(None, 10) == (1, "MED")
    assert mcm.check_action(action(), 10) == (1, "MED")
    assert mcm.check_action(action(NumberOfCopies=10, RequestPriority="HIGH"), 10) == (10, "HIGH")
    assert mcm.check_action(action(NumberOfCopies=1, RequestPriority="LOW"), 1) == (1, "LOW")


@pytest.mark.parametrize(
    "values",
    [
        {"NumberOfCopies": 0},  # zero is a value, not "absent" (was read as 1)
        {"NumberOfCopies": 11},
        {"NumberOfCopies": -1},
        {"RequestPriority": "URGENT"},
        {"RequestPriority": "high"},
    ],
)
def test_bad_initiate_arguments_are_invalid_argument_values(values: dict[str, Any]) -> None:
    no = refused(mcm.check_action, action(**values), 10)
    assert no.status == mcm.INVALID_ARGUMENT_VALUE == 0x0115
    assert ("1-10" if "NumberOfCopies" in values else "HIGH, MED or LOW") in no.comment


# --- can the request be built? -------------------------------------------------------------
HELD = {
    A: {"sop_class": CTImageStorage, "path": "inbox/p/s/a.dcm"},
    B: {"sop_class": CTImageStorage, "path": "inbox/p/s/b.dcm"},
}


def test_a_request_of_held_instances_is_buildable() -> None:
    items = [(CTImageStorage, B, "STD-GEN-CD"), (CTImageStorage, A, "STD-GEN-CD")]
    checked = mcm.check_request(items, HELD, KNOWN)
    assert checked == Checked("STD-GEN-CD", ("inbox/p/s/a.dcm", "inbox/p/s/b.dcm"))
    assert checked.why == "" and checked.info == "NORMAL"


def test_instances_not_received_are_listed_with_failure_reason_0112() -> None:
    missing = uid(9, 9, 9, 9)
    items = [(CTImageStorage, A, "STD-GEN-CD"), (CTImageStorage, missing, "STD-GEN-CD")]
    checked = mcm.check_request(items, HELD, KNOWN)
    assert checked.info == "NO_INSTANCE" and checked.paths == ()
    assert checked.failed == ((CTImageStorage, missing, 0x0112),)
    assert checked.why == "1 of 2 instances not received"


def test_an_instance_held_under_another_sop_class_is_a_class_instance_conflict() -> None:
    checked = mcm.check_request([(MRImageStorage, A, "STD-GEN-CD")], HELD, KNOWN)
    assert checked.info == "NO_INSTANCE" and checked.failed == ((MRImageStorage, A, 0x0119),)


@pytest.mark.parametrize(
    ("items", "info", "why"),
    [
        ([(CTImageStorage, A, "STD-FOO-CD")], "NOT_SUPPORTED", "STD-FOO-CD"),
        (
            [(CTImageStorage, A, "STD-GEN-CD"), (CTImageStorage, B, "STD-GEN-DVD-JPEG")],
            "INST_AP_CONFLICT",
            "one profile",
        ),
        (
            [(CTImageStorage, A, "STD-GEN-CD"), (CTImageStorage, A, "STD-GEN-CD")],
            "DUPL_REF_INST",
            A,
        ),
    ],
)
def test_requests_that_cannot_be_built(items: Any, info: str, why: str) -> None:
    checked = mcm.check_request(items, HELD, KNOWN)
    assert checked.info == info and why in checked.why and checked.paths == ()


# --- Execution Status (S.3.2.4) -------------------------------------------------------------
def job(state: str, result: dict[str, Any] | None = None) -> Job:
    now = time.time()
    return Job(
        id=1, kind="build", state=state, title="", user_name="DICOM PACS1", patient_id="",
        patient_name="", params={}, result=result, error=None, hint=None, created=now,
        started=None, ended=None, done=0, total=None, label="", cancel=False, attempts=1,
        needs=[], owner=None, lease_until=None, pid=None,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("state", "result", "expected"),
    [
        ("queued", None, ("PENDING", "QUEUED")),
        ("interrupted", None, ("PENDING", "QUEUED")),
        ("running", None, ("CREATING", "NORMAL")),
        ("done", {}, ("DONE", "NORMAL")),
        ("cancelled", None, ("FAILURE", "CHECK_MCD_OP")),
        ("failed", {"mcm_info": "SET_OVERSIZED"}, ("FAILURE", "SET_OVERSIZED")),
        ("failed", None, ("FAILURE", "PROC_FAILURE")),
    ],
)
def test_the_execution_status_follows_the_job(
    state: str, result: dict[str, Any] | None, expected: tuple[str, str]
) -> None:
    row = {"status": "IDLE", "info": "NORMAL"}
    assert mcm.execution(row, job(state, result)) == expected


def test_without_a_job_the_request_row_says_it() -> None:
    assert mcm.execution({"status": "IDLE", "info": "NORMAL"}, None) == ("IDLE", "NORMAL")
    assert mcm.execution({"status": "FAILURE", "info": "NO_INSTANCE"}, None) == (
        "FAILURE",
        "NO_INSTANCE",
    )


def test_the_media_of_a_build_result() -> None:
    assert mcm._media(None) == [] and mcm._media({}) == []
    assert mcm._media({"fileset": {"id": "OB5512", "uid": "1.2.3"}}) == [("OB5512", "1.2.3")]
    spanned = {
        "fileset": {"id": "OB5512", "uid": "1.2.3"},
        "volumes": [
            {"k": 1, "volume_id": "OB5512_1", "fileset_uid": "1.2.3.1"},
            {"k": 2, "volume_id": "OB5512_2", "fileset_uid": "1.2.3.2"},
        ],
    }
    assert mcm._media(spanned) == [("OB5512_1", "1.2.3.1"), ("OB5512_2", "1.2.3.2")]


# --- the build job a request becomes ------------------------------------------------------------
CHECKED = Checked("STD-GEN-DVD-JPEG", ("inbox/p/s/a.dcm", "inbox/p/s/b.dcm"))


def params(config: StationConfig | None = None, /, **attributes: str) -> dict[str, Any]:
    config = config or StationConfig(data=Path("/srv/station"))
    ds = request_dataset([(CTImageStorage, A), (CTImageStorage, B)], **attributes)
    return mcm.job_params(ds, CHECKED, config, 3, {"uid": "1.2.3", "calling_ae": "PACS1"})


def test_a_request_becomes_a_build_of_the_inbox_files() -> None:
    got = params(StorageMediaFileSetID="OB5512", StorageMediaFileSetUID="1.2.9", LabelText="Hi")
    assert got["sources"] == ["/srv/station/inbox/p/s/a.dcm", "/srv/station/inbox/p/s/b.dcm"]
    assert got["media_request"] == {"uid": "1.2.3", "calling_ae": "PACS1"}
    assert got["profile"] == "STD-GEN-DVD-JPEG" and got["media"] == "dvd"  # from the profile
    assert (got["fileset_id"], got["fileset_uid"], got["copies"]) == ("OB5512", "1.2.9", 3)
    assert got["label_text"] == "Hi" and got["label_from_instances"] is True
    assert got["allow_spanning"] is False  # splitting only when the request allows it
    assert got["web"] is True  # nothing asked: the station's [build] web


def test_the_label_and_splitting_flags() -> None:
    got = params(LabelUsingInformationExtractedFromInstances="NO", AllowMediaSplitting="YES")
    assert got["label_from_instances"] is False and got["allow_spanning"] is True
    assert params(LabelUsingInformationExtractedFromInstances="YES")["label_from_instances"]


@pytest.mark.parametrize(
    ("attributes", "web"),
    [
        ({"IncludeNonDICOMObjects": "NO"}, False),
        ({"IncludeNonDICOMObjects": "FOR_PATIENT"}, True),
        ({"IncludeNonDICOMObjects": "FOR_PHYSICIAN"}, True),
        ({"IncludeDisplayApplication": "YES"}, True),
        ({"IncludeDisplayApplication": "NO"}, False),
        ({"IncludeNonDICOMObjects": "NO", "IncludeDisplayApplication": "YES"}, True),
    ],
)
def test_web_content_follows_non_dicom_objects_and_display_application(
    attributes: dict[str, str], web: bool
) -> None:
    assert params(**attributes)["web"] is web


def test_without_those_attributes_the_station_setting_decides() -> None:
    config = StationConfig(data=Path("/srv/station"), web=False)
    assert params(config)["web"] is False


# --- Allow Media Splitting NO: the build job refuses a set larger than one medium ---------------
def test_a_set_larger_than_one_medium_without_splitting_is_set_oversized(tmp_path: Path) -> None:
    src = tmp_path / "in"
    pixels = np.random.default_rng(33).integers(0, 4096, 128 * 128, dtype="<u2").tobytes()
    for n in range(12):  # 32 KB each, four a series; 300 KB a volume: two or more volumes
        ds = make_instance(1, 1, 1 + n // 4, n, Rows=128, Columns=128, PixelData=pixels)
        write_instance(src / f"im{n:02d}.dcm", ds)
    params = {"sources": [str(src)], "capacity": 300_000, "fileset_id": "OB5512", "web": False}
    spanned = kinds_helpers.run("build", params, kinds_helpers.context(tmp_path / "spanned"))
    assert len(spanned["volumes"]) >= 2  # the same set may span

    ctx = kinds_helpers.context(tmp_path / "refused")
    with pytest.raises(JobFailed) as failed:
        kinds_helpers.run("build", {**params, "allow_spanning": False}, ctx)
    assert failed.value.result == {"mcm_info": "SET_OVERSIZED"}
    assert "does not allow splitting" in str(failed.value)
    assert sorted(p.name for p in ctx.folder.iterdir()) == []  # no disc, image or label left
    row = {"status": "IDLE", "info": "NORMAL"}
    assert mcm.execution(row, job("failed", failed.value.result)) == ("FAILURE", "SET_OVERSIZED")


def test_an_instance_the_profile_does_not_allow_is_an_application_profile_conflict() -> None:
    """The build's profile gate would refuse the whole disc: the SCU learns which ones."""
    classes = {p.id: p.sop_classes for p in profiles.list_profiles()}
    items = [(CTImageStorage, A, "STD-XABC-CD"), (CTImageStorage, B, "STD-XABC-CD")]
    checked = mcm.check_request(items, HELD, KNOWN, classes)
    assert checked.info == "INST_AP_CONFLICT" and checked.paths == ()
    assert checked.failed == ((CTImageStorage, A, 0x0122), (CTImageStorage, B, 0x0122))
    assert checked.why == "2 of 2 instances: SOP Class not in STD-XABC-CD"
    ok = mcm.check_request([(CTImageStorage, A, "STD-CTMR-CD")], HELD, KNOWN, classes)
    assert ok.info == "NORMAL" and ok.profile == "STD-CTMR-CD"
