"""The pure plan stage (:func:`mediatool.build.plan.build_plan`) on its own, without the CLI:
deterministic whatever the input order, duplicates judged by the injected comparison, and the
build's severity policy (its File Meta corrections, then the profile's ``[severity]``)."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pytest

from mediatool.build.plan import BUILD_CORRECTS, PlanOptions, build_plan, build_policy
from mediatool.build.request import scan_options
from mediatool.findings import CODES, Severity, finding
from mediatool.model import InstanceInfo, ScanResult, SourceRef
from mediatool.profiles import Profile, load
from mediatool.scan import scan_all

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from _common import generate


def _same(a: InstanceInfo, b: InstanceInfo) -> bool:
    return True


def _different(a: InstanceInfo, b: InstanceInfo) -> bool:
    return False


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> ScanResult:
    src = generate(tmp_path_factory.mktemp("plan") / "in", 12, 4)
    refs = [SourceRef(str(p)) for p in sorted(src.rglob("*.dcm"))]
    result = scan_all(refs, scan_options(load("STD-GEN-CD")), jobs=1)
    assert len(result.instances) == 12
    return result


def test_plan_is_deterministic_whatever_the_input_order(scanned: ScanResult) -> None:
    profile = load("STD-GEN-CD")
    first = build_plan(scanned, profile, PlanOptions(), _same)
    again = build_plan(scanned, profile, PlanOptions(), _same)
    shuffled = dataclasses.replace(scanned, instances=tuple(reversed(scanned.instances)))
    other = build_plan(shuffled, profile, PlanOptions(), _same)
    assert first.dicomdir and first.ok
    for plan in (again, other):
        assert plan.file_ids == first.file_ids
        assert plan.fileset_uid == first.fileset_uid
        assert plan.dicomdir == first.dicomdir
    # materialise writes the plan's own DICOMDIR when it has no icon to put in: the same bytes
    assert first.encode_dicomdir({}) == first.dicomdir
    with_icons = build_plan(scanned, load("STD-CTMR-CD"), PlanOptions(), _same)
    assert with_icons.dicomdir and with_icons.encode_dicomdir({}) == with_icons.dicomdir


def test_one_instance_per_sop_instance_uid(scanned: ScanResult) -> None:
    profile = load("STD-GEN-CD")
    copy = dataclasses.replace(scanned.instances[0], source=SourceRef("zz-copy.dcm"))
    doubled = dataclasses.replace(scanned, instances=(*scanned.instances, copy))
    kept = build_plan(doubled, profile, PlanOptions(), _same)
    assert [(f.code, f.where) for f in kept.findings if f.code.startswith("hierarchy.")] == [
        ("hierarchy.duplicate-identical", "zz-copy.dcm")
    ]
    assert kept.ok and len(kept.file_ids) == 12
    conflict = build_plan(doubled, profile, PlanOptions(), _different)
    codes = [(f.code, f.severity, f.where) for f in conflict.findings]
    assert ("hierarchy.duplicate-conflict", Severity.ERROR, "zz-copy.dcm") in codes
    assert not conflict.ok and conflict.dicomdir == b""


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        pytest.param({}, Severity.WARNING, id="build-corrects-file-meta"),
        pytest.param({"meta.no-preamble": Severity.ERROR}, Severity.ERROR, id="profile-raises"),
    ],
)
def test_plan_applies_the_build_policy(
    scanned: ScanResult, override: dict[str, Severity], expected: Severity
) -> None:
    assert CODES["meta.no-preamble"].severity is Severity.ERROR  # validate's verdict
    assert BUILD_CORRECTS["meta.no-preamble"] is Severity.WARNING
    profile: Profile = dataclasses.replace(load("STD-GEN-CD"), severity=override)
    where = scanned.instances[0].source.display
    raw = dataclasses.replace(
        scanned, findings=(finding("meta.no-preamble", "no preamble", where),)
    )
    plan = build_plan(raw, profile, PlanOptions(), _same)
    assert [f.severity for f in plan.findings if f.code == "meta.no-preamble"] == [expected]
    assert build_policy(profile)["meta.no-preamble"] is expected
    assert plan.ok is (expected < Severity.ERROR)
