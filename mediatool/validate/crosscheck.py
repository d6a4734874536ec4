"""Across files: orphans (F01), duplicate SOP Instance UIDs (F04), entity consistency (F08, F10-F12
through :func:`mediatool.hierarchy.check_consistency`), possible duplicate patients (F09), profile
conformance (G01, G02 through :func:`mediatool.conform.check_profile`), and the differences of
PATIENT/STUDY/SERIES records with the files below them (D04, D07, D08), once per record."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from mediatool.conform import check_profile
from mediatool.findings import Finding, finding
from mediatool.hierarchy import check_consistency
from mediatool.model import InstanceInfo
from mediatool.profiles import Profile
from mediatool.validate.compare import Diff
from mediatool.validate.files import FileResult, FileTask

SameContent = Callable[[FileTask, FileTask], bool]


@dataclass(slots=True)
class CrossResult:
    instances: list[tuple[FileResult, InstanceInfo]]
    findings: list[Finding]


def _diffs(results: Sequence[FileResult]) -> list[Finding]:
    first: dict[Diff, str] = {}
    count: dict[Diff, int] = defaultdict(int)
    for r in results:
        for d in r.diffs:
            first.setdefault(d, r.task.where)
            count[d] += 1
    out: list[Finding] = []
    for d, where in first.items():
        n = count[d]
        files = f"{n} files below it" if n > 1 else "the file"
        out.append(finding(d.code, f"{d.message} {files}, e.g. {where!r}", d.where))
    return out


def _duplicates(
    instances: Sequence[tuple[FileResult, InstanceInfo]], same: SameContent
) -> list[Finding]:
    """F04: one SOP Instance UID in two files (byte-identical copies are only a warning)."""
    by_uid: dict[str, list[FileResult]] = defaultdict(list)
    for result, info in instances:
        by_uid[info.sop_instance_uid].append(result)
    out: list[Finding] = []
    for uid, group in sorted(by_uid.items()):
        for other in group[1:]:
            try:
                identical = same(group[0].task, other.task)
            except OSError:
                identical = False
            code = "file.duplicate-identical" if identical else "hierarchy.duplicate-conflict"
            how = "an identical copy" if identical else "different content"
            out.append(
                finding(
                    code,
                    f"SOP Instance UID {uid} is also in {group[0].task.where!r}, with {how}",
                    other.task.where,
                )
            )
    return out


def _same_patient(instances: Sequence[InstanceInfo]) -> list[Finding]:
    """F09: one Patient's Name and Birth Date under several Patient IDs."""
    ids: dict[tuple[str, str], set[str]] = defaultdict(set)
    for info in instances:
        if info.patient_name and info.birth_date:
            ids[(info.patient_name, info.birth_date)].add(info.patient_id)
    return [
        finding(
            "inventory.possible-same-patient",
            f"{name!r} born {birth} appears under Patient IDs "
            + ", ".join(repr(p) for p in sorted(pids)),
            f"patient {sorted(pids)[0]}",
        )
        for (name, birth), pids in sorted(ids.items())
        if len(pids) > 1
    ]


def cross_check(
    results: Sequence[FileResult],
    *,
    has_directory: bool,
    profile: Profile | None,
    same_content: SameContent,
) -> CrossResult:
    """Everything that needs more than one file, plus the per-file findings in order."""
    out: list[Finding] = []
    instances: list[tuple[FileResult, InstanceInfo]] = []
    for r in results:
        out += r.findings
        if r.dicomdir and r.task.spec is None:
            out.append(
                finding(
                    "dicomdir.several",
                    f"{r.task.where!r} is another DICOMDIR on the medium",
                    r.task.where,
                )
            )
        if r.info is None:
            continue
        instances.append((r, r.info))
        out += r.info.findings
        if r.task.spec is None and has_directory:
            out.append(
                finding(
                    "file.not-referenced",
                    "DICOM file not referenced by any directory record",
                    r.task.where,
                )
            )
        if profile is not None:
            out += check_profile(r.info, profile, r.task.where)
    out += _diffs(results)
    out += _duplicates(instances, same_content)
    infos = [info for _, info in instances]
    out += check_consistency(infos)
    out += _same_patient(infos)
    return CrossResult(instances, out)
