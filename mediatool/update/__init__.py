"""``mediatool update``: change a File-set in place, as a File-set Updater (FSU, PS3.10 §8.3).

read the medium (:mod:`.medium`) → scan what is added (the build's sources and scan) → settle
duplicates with the medium (:func:`mediatool.dicom.sameness.same_instance`) → plan the whole
File-set with the build's planner (:func:`mediatool.build.plan.build_plan`: the same checks,
decisions and records as a build) → File IDs for the added instances continuing the medium's
scheme (:mod:`.naming`) → write (:mod:`.commit`).

Instances already on the medium are never rewritten: their files stay byte for byte, and only
their records are made again (from their headers, like a build's). The File-set ID, the File-set
UID and the File-set Descriptor File stay.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final

from mediatool import hierarchy
from mediatool.build import _content_equal as content_equal  # the build's F04 rule
from mediatool.build import sources
from mediatool.build.plan import MediaPlan, PlanOptions, build_plan, build_policy
from mediatool.build.request import scan_options
from mediatool.conform import Action
from mediatool.errors import PlanRejected
from mediatool.findings import Finding, Severity, apply_policy, fails, finding
from mediatool.model import FileID, InstanceInfo, Progress, ScanResult, render_file_id
from mediatool.profiles import Profile
from mediatool.scan import scan_all
from mediatool.update import commit, medium, naming
from mediatool.update.profile import from_medium as profile_from_medium

SCHEMA: Final = "mediatool.update/1"


@dataclass(frozen=True)
class UpdateRequest:
    media: Path
    add: Sequence[str] = ()
    remove_studies: Sequence[str] = ()
    remove_series: Sequence[str] = ()
    profile: Profile | None = None  # None: the profile the medium fits (update/profile.py)
    profile_dir: Path | None = None  # more profiles to choose from, with ``profile`` None
    repair: bool = False
    dry_run: bool = False
    site: Path | None = None
    jobs: int | None = None
    fail_on: Severity = Severity.ERROR


@dataclass
class UpdateResult:
    """What the update did (or, refused or ``--dry-run``, would do)."""

    media: str
    fileset_id: str
    fileset_uid: str
    added: dict[str, FileID] = field(default_factory=dict)  # SOP Instance UID → File ID
    removed: dict[str, FileID] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)  # inputs already on the medium
    repaired: bool = False
    web: bool = False
    written: bool = False
    findings: list[Finding] = field(default_factory=list)
    refused: str | None = None  # why nothing (or, while writing, not all) was done
    profile: str = ""  # the Application Profile applied

    def refuse(self, why: str) -> PlanRejected:
        """The refusal (exit 1) carrying this result, for ``raise``."""
        self.refused = why
        return PlanRejected(why, self.findings, self)

    def as_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "ok": self.refused is None and not fails(self.findings, Severity.ERROR),
            "refused": self.refused,
            "media": self.media,
            "written": self.written,
            "fileset_id": self.fileset_id,
            "fileset_uid": self.fileset_uid,
            "profile": self.profile,
            "repaired": self.repaired,
            "web_content": self.web,
            "added": [
                {"sop_instance_uid": u, "file_id": render_file_id(f)} for u, f in self.added.items()
            ],
            "removed": [
                {"sop_instance_uid": u, "file_id": render_file_id(f)}
                for u, f in self.removed.items()
            ],
            "skipped": self.skipped,
            "findings": [f.as_dict() for f in self.findings],
        }


def _against_medium(
    new: Sequence[InstanceInfo], on_medium: Mapping[str, InstanceInfo], result: UpdateResult
) -> list[InstanceInfo]:
    """Added instances whose SOP Instance UID is on the medium: skipped when the data sets are
    equal, an error otherwise (one UID, one instance: PS3.3 C.12.1, checklist F04)."""
    kept = []
    for inst in new:
        there = on_medium.get(inst.sop_instance_uid)
        if there is None:
            kept.append(inst)
        elif content_equal(there, inst):
            result.skipped.append(inst.source.display)
            result.findings.append(
                finding(
                    "update.already-present",
                    f"SOP Instance UID {inst.sop_instance_uid} is already on the medium with "
                    "the same content; skipped",
                    inst.source.display,
                )
            )
        else:
            result.findings.append(
                finding(
                    "update.conflict",
                    f"SOP Instance UID {inst.sop_instance_uid} is already on the medium "
                    f"({str(Path(there.source.path).relative_to(result.media))!r}) with "
                    "different content",
                    inst.source.display,
                )
            )
    return kept


def _removals(
    request: UpdateRequest, on_medium: Sequence[InstanceInfo]
) -> tuple[set[str], list[Finding]]:
    """The SOP Instance UIDs of the studies and series to remove; a UID not on the medium is an
    error (nothing is then changed)."""
    out: set[str] = set()
    findings: list[Finding] = []
    for kind, uids, attr in (
        ("study", request.remove_studies, "study_uid"),
        ("series", request.remove_series, "series_uid"),
    ):
        for uid in uids:
            hit = {i.sop_instance_uid for i in on_medium if getattr(i, attr) == uid}
            if not hit:
                findings.append(
                    finding(
                        "update.not-on-medium",
                        f"no {kind} with Instance UID {uid} is on the medium; nothing to remove",
                        str(request.media),
                    )
                )
            out |= hit
    return out, findings


def _scan_added(
    request: UpdateRequest, profile: Profile, progress: Progress | None, result: UpdateResult
) -> ScanResult:
    if not request.add:
        return ScanResult(())
    refs, source_findings = sources.collect(request.add)
    scanned = scan_all(refs, scan_options(profile), jobs=request.jobs, progress=progress)
    if not scanned.instances:
        result.findings += [*source_findings, *scanned.findings]
        raise result.refuse(
            f"no DICOM instance found in {', '.join(repr(a) for a in request.add)}; "
            "nothing was changed"
        )
    return ScanResult(scanned.instances, (*source_findings, *scanned.findings), scanned.files_seen)


def _plan(
    profile: Profile,
    the_medium: medium.Medium,
    kept: Sequence[InstanceInfo],
    added: ScanResult,
) -> MediaPlan:
    """The whole File-set planned as a build would plan it; findings about the files already on
    the medium (their meta, their Transfer Syntax) are left out: they are not written."""
    on_medium = {i.source.display for i in kept}
    whole = ScanResult((*kept, *added.instances), added.findings, added.files_seen)
    options = PlanOptions(
        fileset_id=the_medium.fileset_id,
        fileset_uid=the_medium.fileset_uid,
        descriptor=the_medium.descriptor,
    )
    plan = build_plan(whole, profile, options, content_equal)
    plan.fileset_id = the_medium.fileset_id  # kept, even when empty or not conformant
    plan.fileset_uid = the_medium.fileset_uid or plan.fileset_uid
    plan.findings[:] = [
        f
        for f in plan.findings
        if (f.where not in on_medium or f.code.startswith("hierarchy."))
        and f.code != "fileid.fileset-id"
    ]
    for inst in kept:
        uid = inst.sop_instance_uid
        plan.decisions[uid] = replace(
            plan.decisions[uid], action=Action.COPY, target_ts=inst.transfer_syntax, findings=()
        )
    return plan


def _listing(root: Path) -> naming.Listing:
    def names(folder: FileID) -> list[str]:
        path = root.joinpath(*folder)
        return [p.name for p in path.iterdir()] if path.is_dir() else []

    return names


def _survey(
    request: UpdateRequest, progress: Progress | None
) -> tuple[medium.Medium, Profile, medium.Instances, UpdateResult]:
    """Read the medium and choose the profile (``--profile``, else the one the medium fits);
    refuse a medium an update left inconsistent (unless ``--repair``)."""
    the_medium = medium.read(request.media)
    result = UpdateResult(str(request.media), the_medium.fileset_id, the_medium.fileset_uid)
    if request.profile is not None:
        profile = request.profile
    else:
        profile, said = profile_from_medium(
            the_medium.directory, request.media, request.profile_dir
        )
        result.findings += said
    result.profile = profile.id
    result.repaired = request.repair
    if the_medium.flag not in (0, None) and not request.repair:
        result.findings.append(_inconsistent(the_medium))
        raise result.refuse(
            "the File-set was left inconsistent by an update that did not finish; nothing was "
            "changed. Run the update again with --repair to rebuild the records from the files "
            "present"
        )
    found = medium.scan_medium(
        the_medium,
        scan_options(profile),
        repair=request.repair,
        jobs=request.jobs,
        progress=progress,
    )
    result.findings += found.findings
    if request.repair:
        result.findings.append(_repaired(the_medium, found))
    return the_medium, profile, found, result


def _with_kept(plan: MediaPlan, kept: Sequence[InstanceInfo]) -> None:
    """Every instance kept on the medium has its record, even one the profile would not take
    on a new disc (the planner leaves those out of its tree)."""
    planned = {i.sop_instance_uid for i in plan.tree.instances()}
    missing = [i for i in kept if i.sop_instance_uid not in planned and i.record_type]
    if missing:
        plan.tree = hierarchy.build_tree([*plan.tree.instances(), *missing])


def run(request: UpdateRequest, progress: Progress | None = None) -> UpdateResult:
    """Update the File-set at ``request.media``; raises :class:`PlanRejected` (exit 1) when a
    finding refuses it (nothing is then changed)."""
    the_medium, profile, found, result = _survey(request, progress)
    removing, removal_findings = _removals(request, list(found.by_uid.values()))
    result.findings += removal_findings
    added = _scan_added(request, profile, progress, result)
    new = _against_medium(added.instances, found.by_uid, result)
    kept = [i for u, i in found.by_uid.items() if u not in removing]
    plan = _plan(profile, the_medium, kept, replace(added, instances=tuple(new)))
    _with_kept(plan, kept)
    result.findings += plan.findings
    if not plan.tree.patients and not plan.tree.root_instances:
        result.findings.append(
            finding(
                "update.empty",
                f"after removing {len(removing)} instance(s) none would be left on the medium",
                str(request.media),
            )
        )
    result.findings[:] = apply_policy(result.findings, build_policy(profile))
    existing_ids = {i.sop_instance_uid: found.file_ids[i.sop_instance_uid] for i in kept}
    result.removed = {u: found.file_ids[u] for u in sorted(removing)}
    _refuse(request, result)
    result.added = naming.assign(
        [u for u in (i.sop_instance_uid for i in plan.tree.instances()) if u not in existing_ids],
        {**existing_ids, **result.removed},
        naming.places(plan.tree),
        _listing(request.media),
    )
    plan.file_ids = {**existing_ids, **result.added}
    if request.dry_run or not (result.added or result.removed or request.repair):
        return result
    commit.Update(the_medium, plan, existing_ids, result, request, progress).apply()
    result.written = True
    return result


def _refuse(request: UpdateRequest, result: UpdateResult) -> None:
    if fails(result.findings, request.fail_on):
        raise result.refuse(
            "the update was refused because of the findings above; nothing was changed"
        )


def _inconsistent(the_medium: medium.Medium) -> Finding:
    return finding(
        "update.inconsistent",
        f"(0004,1212) File-set Consistency Flag is {the_medium.flag:04X}H: an update of this "
        "File-set did not finish, so the DICOMDIR may not match the files",
        "DICOMDIR",
    )


def _repaired(the_medium: medium.Medium, found: medium.Instances) -> Finding:
    before = set(the_medium.referenced)
    now = set(found.by_uid)
    return finding(
        "update.repaired",
        f"the directory records were rebuilt from the {len(now)} instance(s) in the folder "
        f"({len(now - before)} not in the old DICOMDIR, {len(before - now)} of its records "
        "without a file)",
        "DICOMDIR",
    )


__all__: Sequence[str] = ["SCHEMA", "UpdateRequest", "UpdateResult", "run"]
