"""``build_plan``: compose the pure stages into a plan that can be inspected before writing.

scan result → duplicates → missing keys (refuse or invent) → consistency → profile decisions →
tree → File IDs → DICOMDIR bytes. Nothing here touches the file system; comparing the content of
two files that share a SOP Instance UID is done by an injected function.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final

from mediatool import hierarchy
from mediatool.build import invent
from mediatool.conform import Action, Decision, decide
from mediatool.dicom import dicomdir_write, fileids
from mediatool.dicom.tree import first_of_patient, first_of_series, first_of_study
from mediatool.dicom.uids import derive_uid
from mediatool.findings import Finding, Severity, apply_policy, finding, worst
from mediatool.model import FileID, InstanceInfo, ScanResult, render_file_id
from mediatool.profiles import Profile

ContentEqual = Callable[[InstanceInfo, InstanceInfo], bool]


@dataclass(frozen=True)
class PlanOptions:
    fileset_id: str = ""
    invent: bool = False
    descriptor: tuple[FileID, str | None] | None = None  # File ID and its character set
    compress: str = "none"  # none | lossless | lossy (conform.COMPRESS_MODES)
    allow_lossy: bool = False
    fileset_uid: str = ""  # given (a media creation request's); "": derived from the content


@dataclass
class MediaPlan:
    profile: Profile
    tree: hierarchy.Tree
    file_ids: dict[str, FileID]
    decisions: dict[str, Decision]
    patches: invent.Patches
    dicomdir: bytes
    fileset_uid: str
    findings: list[Finding]
    files_seen: int
    descriptor_data: bytes | None = None  # File-set Descriptor File content (PS3.3 F.3.2.1)
    fileset_id: str = ""
    descriptor: tuple[FileID, str | None] | None = None
    #: When the content is split over several media: one plan per volume (else empty).
    volumes: list[MediaPlan] = field(default_factory=list)
    #: Input files ``--skip-invalid`` left out, each with the error that refused it.
    left_out: list[tuple[str, Finding]] = field(default_factory=list)

    def replace_instances(self, replaced: Mapping[str, InstanceInfo]) -> None:
        """Put instances as written (lossy derived images: new UID, new keys) in the place of
        the planned ones; File IDs and decisions follow them."""
        if not replaced:
            return
        for patient in self.tree.patients:
            for study in patient.studies:
                for series in study.series:
                    series.instances = [
                        replaced.get(i.sop_instance_uid, i) for i in series.instances
                    ]
        self.tree.root_instances = [
            replaced.get(i.sop_instance_uid, i) for i in self.tree.root_instances
        ]
        for old, new in replaced.items():
            uid = new.sop_instance_uid
            self.file_ids[uid] = self.file_ids.pop(old)
            decision = self.decisions.pop(old)
            self.decisions[uid] = replace(decision, target_ts=new.transfer_syntax)
            if old in self.patches:
                self.patches[uid] = self.patches.pop(old)

    def encode_dicomdir(self, icons: Mapping[str, bytes] | None = None) -> bytes:
        """The DICOMDIR of the plan's tree, with the icons made while writing (PS3.3 F.7)."""
        ts = {uid: d.target_ts for uid, d in self.decisions.items()}
        return dicomdir_write.encode(
            self.tree,
            self.file_ids,
            ts,
            fileset_uid=self.fileset_uid,
            fileset_id=self.fileset_id,
            descriptor=self.descriptor,
            icons=dicomdir_write.Icons(
                icons or {}, self.profile.icons.records if self.profile.icons else ()
            ),
        )

    @property
    def ok(self) -> bool:
        level = worst(self.findings)
        return level is None or level < Severity.ERROR

    def summary(self) -> dict[str, Any]:
        record_types = Counter(i.record_type or "" for i in self.tree.instances())
        actions = Counter(d.action.value for d in self.decisions.values())
        return {
            **self.tree.counts(),
            "files_seen": self.files_seen,
            "record_types": dict(sorted(record_types.items())),
            "actions": dict(sorted(actions.items())),
            "patients_detail": [
                {
                    "patient_id": p.patient_id,
                    "patient_name": first_of_patient(p).patient_name,
                    "studies": [
                        {
                            "study_instance_uid": st.uid,
                            "study_date": first_of_study(st).study_date,
                            "study_description": first_of_study(st).study_description,
                            "series": [
                                {
                                    "series_instance_uid": se.uid,
                                    "modality": first_of_series(se).modality,
                                    "series_number": first_of_series(se).series_number,
                                    "instances": len(se.instances),
                                    "file_ids": render_file_id(
                                        self.file_ids[first_of_series(se).sop_instance_uid][:-1]
                                    ),
                                }
                                for se in st.series
                            ],
                        }
                        for st in p.studies
                    ],
                }
                for p in self.tree.patients
            ],
        }


def _deduplicate(
    instances: Sequence[InstanceInfo], content_equal: ContentEqual
) -> tuple[list[InstanceInfo], list[Finding]]:
    """One instance per SOP Instance UID (checklist F04): identical copies kept once, different
    content under one UID is an error."""
    groups: dict[str, list[InstanceInfo]] = defaultdict(list)
    for inst in instances:
        groups[inst.sop_instance_uid].append(inst)
    kept: list[InstanceInfo] = []
    findings: list[Finding] = []
    for uid, group in groups.items():
        group.sort(key=lambda i: i.source.sort_key())
        first = group[0]
        kept.append(first)
        for other in group[1:]:
            if content_equal(first, other):
                findings.append(
                    finding(
                        "hierarchy.duplicate-identical",
                        f"same instance as {first.source.display!r} "
                        f"(SOP Instance UID {uid}); kept once",
                        other.source.display,
                    )
                )
            else:
                findings.append(
                    finding(
                        "hierarchy.duplicate-conflict",
                        f"SOP Instance UID {uid} is also used by "
                        f"{first.source.display!r} with different content",
                        other.source.display,
                    )
                )
    return kept, findings


def _recordable(scan: ScanResult) -> tuple[list[InstanceInfo], list[Finding]]:
    """The scan's findings, and the instances a directory record type exists for (PS3.3 F.5)."""
    findings: list[Finding] = list(scan.findings)
    for inst in scan.instances:
        findings.extend(inst.findings)
    with_record = []
    for inst in scan.instances:
        if inst.record_type is None:
            findings.append(
                finding(
                    "hierarchy.no-record-type",
                    f"no directory record type is defined for SOP Class {inst.sop_class_uid}",
                    inst.source.display,
                )
            )
        else:
            with_record.append(inst)
    return with_record, findings


def _decide_all(
    instances: Sequence[InstanceInfo],
    profile: Profile,
    patches: invent.Patches,
    options: PlanOptions,
) -> tuple[dict[str, Decision], list[Finding]]:
    """The profile's decision for every instance (:func:`mediatool.conform.decide`)."""
    decisions: dict[str, Decision] = {}
    findings: list[Finding] = []
    for inst in instances:
        decision = decide(
            inst,
            profile,
            patched=inst.sop_instance_uid in patches,
            compress=options.compress,
            allow_lossy=options.allow_lossy,
        )
        decisions[inst.sop_instance_uid] = decision
        findings.extend(decision.findings)
    return decisions, findings


def _fileset_uid(fileset_id: str, file_ids: Mapping[str, FileID]) -> str:
    """The File-set UID, derived from its ID and content (the same content, the same UID)."""
    return derive_uid(
        "fileset",
        fileset_id,
        *sorted(file_ids),
        *(render_file_id(v) for v in sorted(file_ids.values())),
    )


def build_plan(
    scan: ScanResult, profile: Profile, options: PlanOptions, content_equal: ContentEqual
) -> MediaPlan:
    with_record, findings = _recordable(scan)
    instances, dup_findings = _deduplicate(with_record, content_equal)
    findings += dup_findings
    instances, inv_findings, patches = invent.fill_missing(instances, invent=options.invent)
    findings += inv_findings
    findings += hierarchy.check_consistency(instances)
    decisions, decided = _decide_all(instances, profile, patches, options)
    findings += decided
    findings += fileids.check_fileset_id(options.fileset_id)
    tree = hierarchy.build_tree(
        [i for i in instances if decisions[i.sop_instance_uid].action is not Action.REJECT]
    )
    file_ids = fileids.assign(tree)
    fileset_id = options.fileset_id or fileids.default_fileset_id(tree)
    fileset_uid = options.fileset_uid or _fileset_uid(fileset_id, file_ids)
    ts = {uid: d.target_ts for uid, d in decisions.items()}
    findings = apply_policy(findings, build_policy(profile))  # the plan's verdict
    dicomdir_bytes = b""
    if (tree.patients or tree.root_instances) and (worst(findings) or 0) < Severity.ERROR:
        dicomdir_bytes = dicomdir_write.encode(
            tree,
            file_ids,
            ts,
            fileset_uid=fileset_uid,
            fileset_id=fileset_id,
            descriptor=options.descriptor,
        )
    return MediaPlan(
        profile,
        tree,
        file_ids,
        decisions,
        patches,
        dicomdir_bytes,
        fileset_uid,
        findings,
        scan.files_seen,
        fileset_id=fileset_id,
        descriptor=options.descriptor,
    )


def volume_plan(whole: MediaPlan, instances: Sequence[InstanceInfo], fileset_id: str) -> MediaPlan:
    """The plan of one volume of a set split over several media: a File-set of its own (own
    File IDs, File-set UID and DICOMDIR) holding ``instances``."""
    tree = hierarchy.build_tree(list(instances))
    file_ids = fileids.assign(tree)
    fileset_uid = _fileset_uid(fileset_id, file_ids)
    uids = set(file_ids)
    volume = MediaPlan(
        whole.profile,
        tree,
        file_ids,
        {u: d for u, d in whole.decisions.items() if u in uids},
        {u: p for u, p in whole.patches.items() if u in uids},
        b"",
        fileset_uid,
        [],
        len(uids),
        whole.descriptor_data,
        fileset_id=fileset_id,
        descriptor=whole.descriptor,
    )
    volume.dicomdir = volume.encode_dicomdir()
    return volume


#: Build corrects the input's File Meta problems (it writes new File Meta, PS3.10 7.1), so they
#: are warnings there, not errors; a Transfer Syntax the profile does not allow is converted.
BUILD_CORRECTS: Final[Mapping[str, Severity]] = {
    **dict.fromkeys(
        (
            "meta.no-preamble",
            "meta.group-length",
            "meta.version",
            "meta.missing-type1",
            "meta.encoding",
            "meta.sop-class-mismatch",
            "meta.sop-instance-mismatch",
            "meta.transfer-syntax-mismatch",
            "meta.group-in-dataset",
            "meta.bad-uid",
            "meta.preamble-executable",
        ),
        Severity.WARNING,
    ),
    "meta.version-name": Severity.INFO,
    "meta.unknown-element": Severity.INFO,
    "meta.preamble-not-zero": Severity.INFO,
    "profile.ts-not-allowed": Severity.INFO,
}


def build_policy(profile: Profile) -> dict[str, Severity]:
    """The build's severity policy: :data:`BUILD_CORRECTS`, then the profile's ``[severity]``
    (which may raise or lower any code, ``build.*`` and ``web.*`` too)."""
    return {**BUILD_CORRECTS, **profile.severity}
