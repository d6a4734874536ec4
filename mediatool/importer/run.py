"""Carry out an import plan into an archive folder or a PACS, accounting for every file.

Each instance is read from the media, coerced (:mod:`.encode`, :mod:`.reconcile`) and written or
sent on its own, so memory does not grow with the disc. The media is only ever read (PS3.10 §8.3
File-set Reader role). Ctrl-C and a PACS that goes away end the loop early; every instance not
reached is reported as ``import.interrupted`` or ``import.send-failed``, and running the same
command again sends only what is missing.

Before anything is written or sent, the destination is asked what it already holds and under
which Patient ID (:mod:`.destination`): the archive folder's own index, or C-FIND on the PACS
(the journal decides only with ``--no-pacs-check``). A study held under another Patient ID
stops the import before anything goes (issue 10: never a second patient).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from mediatool import __version__
from mediatool.dicom.uids import DEFLATED, EXPLICIT_VR_BIG_ENDIAN
from mediatool.errors import MediatoolError, OutputError
from mediatool.findings import Finding, finding
from mediatool.importer import journal as jr
from mediatool.importer.accounting import FileOutcome, Outcome, Summary, outcome_for, summarise
from mediatool.importer.archive import ArchiveFolder, relative_path
from mediatool.importer.destination import (
    Conflict,
    Decision,
    archive_holdings,
    decide,
    pacs_holdings,
    patient_of,
)
from mediatool.importer.encode import EXPLICIT_LE, prepare
from mediatool.importer.reconcile import Clock, Coercion, LocalIdentity, stamp
from mediatool.importer.select import ImportPlan, Work
from mediatool.media.base import MediaReader
from mediatool.model import Progress
from mediatool.net.association import Network, Peer, PeerUnavailable
from mediatool.net.failure import Kind
from mediatool.net.send import INTERRUPTED, send_parallel
from mediatool.net.store import Prepared

_REWRITTEN = frozenset({EXPLICIT_VR_BIG_ENDIAN, DEFLATED})
_NOT_DICOM = frozenset({"import.not-dicom", "import.dicomdir"})


class DestinationUnchecked(MediatoolError):
    """The PACS cannot be asked what it holds; without --no-pacs-check nothing is sent."""


@dataclass(frozen=True, slots=True)
class ArchiveTarget:
    root: Path
    sync: bool = True

    def __str__(self) -> str:
        return str(self.root)


@dataclass(frozen=True, slots=True)
class PacsTarget:
    peer: Peer
    network: Network = field(default_factory=Network)
    state_dir: Path = field(default_factory=jr.default_state_dir)
    commit: bool = False
    listen_port: int | None = None
    commit_wait: float = 60.0
    associations: int = 4  # sent over side by side (see .send)
    check: bool = True  # ask the PACS what it holds first (False: --no-pacs-check)

    def __str__(self) -> str:
        return str(self.peer)


Destination = ArchiveTarget | PacsTarget


@dataclass(frozen=True, slots=True)
class RunOptions:
    accession: str | None = None
    source: str | None = None  # Source of Previous Values (0400,0564)
    modifying_system: str = f"mediatool {__version__}"
    dry_run: bool = False


@dataclass(frozen=True)
class ImportReport:
    media: str
    destination: str
    kind: str  # "archive" or "pacs"
    dry_run: bool
    outcomes: tuple[FileOutcome, ...]
    summary: Summary
    findings: tuple[Finding, ...] = ()
    committed: bool | None = None  # None: no Storage Commitment asked
    stopped: str | None = None  # why the run ended early
    #: what stopped the run and must end the command with exit 2 (a full state folder); the
    #: accounting above is still complete
    error: MediatoolError | None = None
    identities: Mapping[str, LocalIdentity] | None = None
    conflicts: tuple[Conflict, ...] = ()  # studies the destination holds under another patient
    checked: bool = True  # the destination was asked what it holds (not with --no-pacs-check)

    @property
    def found_dicom(self) -> bool:
        """Something DICOM was found on the media (else nothing can be imported)."""
        return any(o.code not in _NOT_DICOM for o in self.outcomes)

    @property
    def ok(self) -> bool:
        """Every DICOM instance of the media (that was chosen) is at the destination."""
        return (
            self.summary.complete
            and self.committed is not False
            and self.found_dicom
            and not self.conflicts
        )


class _Run:
    """Outcomes of the work, in the order it is done."""

    def __init__(self, plan: ImportPlan, progress: Progress | None) -> None:
        self.plan = plan
        self.progress = progress
        self.outcomes: dict[str, FileOutcome] = {}
        self.findings: list[Finding] = []
        self.stopped: str | None = None
        self.error: MediatoolError | None = None
        self.conflicts: list[Conflict] = []
        self._lock = threading.Lock()

    def add(self, outcome: FileOutcome) -> None:
        with self._lock:  # sender threads report here
            self.outcomes[outcome.path] = outcome
            if self.progress is not None:
                self.progress(len(self.outcomes), len(self.plan.work), "importing")

    def rest(self, code: str, message: str) -> None:
        for w in self.plan.work:
            if w.file.path not in self.outcomes:
                self.outcomes[w.file.path] = outcome_for(
                    w.file.path, code, message, w.info.sop_instance_uid
                )


def _read(reader: MediaReader, work: Work) -> bytes:
    entry = work.file.path
    found, _ = reader.resolve(tuple(entry.split("/")))
    if found is None or found.path != entry:
        raise OSError(f"{entry!r} is no longer on the media")
    with reader.open(found) as fp:
        return fp.read()


def _prepared(reader: MediaReader, work: Work, coercion: Coercion) -> Prepared | FileOutcome:
    uid = work.info.sop_instance_uid
    try:
        data = _read(reader, work)
    except OSError as exc:
        return outcome_for(work.file.path, "import.unreadable", f"cannot read: {exc}", uid)
    if coercion.identity is not work.identity:  # the same for most: no new Coercion each
        coercion = replace(coercion, identity=work.identity)
    try:
        return prepare(data, work.info, coercion)
    except ValueError as exc:
        return outcome_for(work.file.path, "import.damaged", str(exc), uid)


def _done(work: Work, prepared: Prepared, target: str, note: tuple[str | None, str]) -> FileOutcome:
    code, message = note
    if code is None and prepared.changed:
        code, message = "import.coerced", "coerced " + ", ".join(prepared.changed)
    return FileOutcome(
        work.file.path, Outcome.IMPORTED, code, message, work.info.sop_instance_uid, target
    )


def _present(work: Work, target: str, message: str) -> FileOutcome:
    return FileOutcome(
        work.file.path,
        Outcome.ALREADY_PRESENT,
        "import.already-present",
        message,
        work.info.sop_instance_uid,
        target,
    )


def _refuse(run: _Run, decision: Decision) -> None:
    """A study is at the destination under another Patient ID: nothing of this import goes."""
    run.conflicts.extend(decision.conflicts)
    refused = {w.file.path for w in decision.refused}
    for w in run.plan.work:
        if w.file.path in refused:
            theirs = next(c.theirs for c in decision.conflicts if c.study_uid == w.info.study_uid)
            why = (
                f"the study is at the destination under Patient ID {', '.join(theirs)}, "
                f"not {patient_of(w)}"
            )
            run.add(outcome_for(w.file.path, "import.other-patient", why, w.info.sop_instance_uid))
        else:
            why = "held back: another study of this import is filed under another Patient ID"
            run.add(outcome_for(w.file.path, "import.held-back", why, w.info.sop_instance_uid))


def _to_archive(
    reader: MediaReader, run: _Run, dest: ArchiveTarget, coercion: Coercion, dry: bool
) -> None:
    archive = ArchiveFolder(dest.root, sync=dest.sync)
    index = archive.present()
    if archive.stale_removed:
        run.findings.append(
            finding(
                "import.stale-temporary",
                f"removed {archive.stale_removed} temporary file(s) an earlier, stopped import "
                "left in the archive",
            )
        )
    decision = decide(run.plan.work, archive_holdings(index, run.plan.work))
    if decision.conflicts:
        _refuse(run, decision)
        return
    present = {w.file.path for w in decision.present}
    try:
        for w in run.plan.work:
            rel = relative_path(w.info, patient_of(w))
            if w.file.path in present:
                run.add(_present(w, str(rel), "already in the archive"))
                continue
            if dry:
                run.add(
                    FileOutcome(
                        w.file.path,
                        Outcome.IMPORTED,
                        None,
                        "would be written",
                        w.info.sop_instance_uid,
                        str(rel),
                    )
                )
                continue
            _write(reader, run, archive, w, coercion)
    except KeyboardInterrupt:
        run.stopped = INTERRUPTED
        run.rest("import.interrupted", "the import was interrupted before this file")
    finally:
        archive.finish()


def _write(
    reader: MediaReader, run: _Run, archive: ArchiveFolder, w: Work, coercion: Coercion
) -> None:
    rel = relative_path(w.info, patient_of(w))
    prepared = _prepared(reader, w, coercion)
    if isinstance(prepared, FileOutcome):
        run.add(prepared)
        return
    try:
        archive.write(rel, prepared.data)
    except OSError as exc:
        run.add(
            outcome_for(
                w.file.path,
                "import.write-failed",
                f"cannot write {str(rel)!r}: {exc}",
                w.info.sop_instance_uid,
            )
        )
        return
    run.add(_done(w, prepared, str(rel), (None, "")))


def _needs(work: Iterable[Work], coercion: Coercion) -> set[tuple[str, str]]:
    """(SOP Class, Transfer Syntax) of what will be sent (see :func:`.encode.prepare`)."""
    out = set()
    for w in work:
        ts = w.info.transfer_syntax
        if ts in _REWRITTEN and (coercion.accession is not None or w.identity is not None):
            ts = EXPLICIT_LE
        out.add((w.info.sop_class_uid, ts))
    return out


def _send_all(
    reader: MediaReader,
    run: _Run,
    todo: list[Work],
    dest: PacsTarget,
    journal: jr.Journal,
    coercion: Coercion,
    sleep: Callable[[float], None] | None,
) -> list[Work]:
    """Send ``todo`` (see :mod:`mediatool.net.send`); the instances the PACS stored, in the
    order sent."""
    from mediatool.net.store import Delivery, StoreSession

    stored: list[Work] = []
    target = str(dest.peer)
    needs = _needs(todo, coercion)
    kw: dict[str, Any] = {"sleep": sleep} if sleep is not None else {}

    def session() -> StoreSession:
        return StoreSession(dest.peer, dest.network, needs, **kw)

    def report(work: Work, prepared: Prepared | None, result: Delivery | FileOutcome) -> None:
        if isinstance(result, FileOutcome):
            run.add(result)
        elif result.ok and prepared is not None:
            stored.append(work)  # list.append is atomic: sender threads may call at once
            run.add(_done(work, prepared, target, (result.code, result.message)))
            # the PACS has it whatever happens next; a journal that cannot be written
            # stops the run (OutputError, raised again by send_parallel)
            journal.record(
                work.info.sop_instance_uid, work.info.sop_class_uid, jr.STORED, patient_of(work)
            )
        else:
            run.add(
                outcome_for(
                    work.file.path,
                    result.code or "import.refused",
                    result.message,
                    work.info.sop_instance_uid,
                )
            )

    groups = session()
    todo = sorted(todo, key=lambda w: (groups.group_of(w.info.sop_class_uid), w.info.sort_key()))
    journal.open()
    run.stopped = send_parallel(
        todo, lambda w: _prepared(reader, w, coercion), session, dest.associations, report
    )
    if run.stopped == INTERRUPTED:
        run.rest("import.interrupted", "the import was interrupted before this file was sent")
    # Whatever no association could take (every one ended) is accounted for too.
    run.rest("import.send-failed", run.stopped or "every association with the PACS ended")
    return stored


def _commit(run: _Run, dest: PacsTarget, journal: jr.Journal, works: list[Work]) -> bool:
    """Storage Commitment for ``works``; those not confirmed become "sent, not confirmed"."""
    from mediatool.importer.commit import commit_help, request_commitment

    refs = [(w.info.sop_class_uid, w.info.sop_instance_uid) for w in works]
    if not refs:
        return True
    result = request_commitment(
        dest.peer, dest.network, refs, listen_port=dest.listen_port, wait=dest.commit_wait
    )
    if result.error is not None:
        run.findings.append(
            finding(
                "import.not-committed",
                f"{result.error}. "
                + commit_help(dest.peer, dest.network, dest.listen_port, result.local_host),
            )
        )
    confirmed = True
    for w in works:
        uid = w.info.sop_instance_uid
        if uid in result.committed and uid not in result.failed:
            journal.record(uid, w.info.sop_class_uid, jr.COMMITTED, patient_of(w))
            continue
        confirmed = False
        if uid in result.failed:  # the PACS says it does not keep it: sent again next time
            journal.record(uid, w.info.sop_class_uid, jr.UNCOMMITTED, patient_of(w))
            why = f"the PACS reported a commitment failure: {result.failed[uid]}"
            run.add(
                FileOutcome(w.file.path, Outcome.NOT_IMPORTED, "import.commit-failed", why, uid)
            )
        else:
            why = (
                "stored, but the PACS did not confirm it ("
                + (result.error or "its commitment report does not name it")
                + ")"
            )
            run.add(outcome_for(w.file.path, "import.not-committed", why, uid))
    return confirmed


def _pacs_decision(run: _Run, dest: PacsTarget, journal: jr.Journal) -> Decision:
    """Ask the PACS what it holds (or, with --no-pacs-check, the journal of this workstation)."""
    works = list(run.plan.work)
    if not dest.check:
        run.findings.append(
            finding(
                "import.pacs-not-checked",
                f"{dest.peer} was not asked what it already holds (--no-pacs-check); only the "
                "journal of this workstation decided what was sent before",
            )
        )
        out = Decision()
        for w in works:
            state = journal.state(w.info.sop_instance_uid, patient_of(w))
            (out.present if state in (jr.STORED, jr.COMMITTED) else out.todo).append(w)
        return out
    try:
        held = pacs_holdings(dest.peer, dest.network, works)
    except PeerUnavailable as exc:
        kind = exc.failure.kind if exc.failure is not None else None
        first = (
            "try again when the PACS answers"
            if kind in (Kind.TIMEOUT, Kind.REFUSED, Kind.UNREACHABLE)
            else f"allow C-FIND for our AE title {dest.network.calling_aet!r} on the PACS"
        )
        raise DestinationUnchecked(
            f"{dest.peer} cannot be asked which of these studies it already holds, and under "
            f"which Patient ID: {exc}; nothing was sent",
            hint=f"{first}, or give --no-pacs-check to send anyway (then only this "
            "workstation's journal knows what was sent before)",
        ) from exc
    return decide(works, held)


def _to_pacs(
    reader: MediaReader,
    run: _Run,
    dest: PacsTarget,
    coercion: Coercion,
    dry: bool,
    sleep: Callable[[float], None] | None,
) -> bool | None:
    journal = jr.Journal(dest.state_dir, str(dest.peer))
    target = str(dest.peer)
    try:
        decision = _pacs_decision(run, dest, journal) if run.plan.work else Decision()
        if decision.conflicts:
            _refuse(run, decision)
            return None
        confirm: list[Work] = []  # at the PACS, not yet confirmed by a Storage Commitment
        for w in decision.present:
            state = journal.state(w.info.sop_instance_uid, patient_of(w))
            where = "at the PACS" if dest.check else "sent on an earlier run"
            run.add(_present(w, target, f"{where} under Patient ID {patient_of(w)!r}"))
            if state != jr.COMMITTED:
                confirm.append(w)
        if dry:
            for w in decision.todo:
                uid = w.info.sop_instance_uid
                run.add(
                    FileOutcome(w.file.path, Outcome.IMPORTED, None, "would be sent", uid, target)
                )
            return None
        lists = (decision.todo, confirm)
        return _send_and_commit(reader, run, lists, dest, journal, (coercion, sleep))
    finally:
        journal.close()


def _send_and_commit(
    reader: MediaReader,
    run: _Run,
    lists: tuple[list[Work], list[Work]],
    dest: PacsTarget,
    journal: jr.Journal,
    how: tuple[Coercion, Callable[[float], None] | None],
) -> bool | None:
    """Send, then ask for commitment; a journal that cannot be written ends the run with every
    file still accounted (``run.error`` says why, the command exits 2)."""
    todo, confirm = lists
    try:
        stored = _send_all(reader, run, todo, dest, journal, *how) if todo else []
        if not dest.commit:
            return None
        if run.stopped is not None:  # commitment is asked once everything is there
            for w in stored:
                why = "stored; Storage Commitment not asked yet because the import stopped early"
                run.add(
                    outcome_for(w.file.path, "import.not-committed", why, w.info.sop_instance_uid)
                )
            return False
        return _commit(run, dest, journal, confirm + stored)
    except OutputError as exc:
        run.error = exc
        run.stopped = str(exc)
        run.rest(
            "import.interrupted",
            "the import stopped before this file was sent: the journal cannot be written",
        )
        return False if dest.commit else None


def run_import(
    reader: MediaReader,
    plan: ImportPlan,
    destination: Destination,
    options: RunOptions | None = None,
    *,
    progress: Progress | None = None,
    clock: Clock | None = None,
    sleep: Callable[[float], None] | None = None,
) -> ImportReport:
    """Import the planned instances into ``destination``; every file of the media accounted."""
    options = options or RunOptions()
    identities = plan_identities(plan)
    coercion = Coercion(
        identity=None,
        accession=options.accession,
        modifying_system=options.modifying_system,
        source=options.source,
        stamp=stamp(clock),
    )
    run = _Run(plan, progress)
    committed: bool | None = None
    if isinstance(destination, ArchiveTarget):
        _to_archive(reader, run, destination, coercion, options.dry_run)
    else:
        committed = _to_pacs(reader, run, destination, coercion, options.dry_run, sleep)
    findings = list(run.findings) + [
        finding(
            "import.listed-missing", "the DICOMDIR lists this file but it is not on the media", path
        )
        for path in plan.listed_missing
    ]
    if not plan.reconciled and plan.work:
        patients = sorted({w.info.patient_id for w in plan.work})
        findings.append(
            finding(
                "import.not-reconciled",
                f"{len(plan.work)} instances keep the Patient ID of the media ("
                + ", ".join(repr(p) for p in patients[:5])
                + "); give --patient-id, --map or --worklist to attach them to a local patient",
            )
        )
    outcomes = tuple(sorted([*plan.decided, *run.outcomes.values()], key=lambda o: o.path))
    return ImportReport(
        media=getattr(reader, "name", ""),
        destination=str(destination),
        kind="archive" if isinstance(destination, ArchiveTarget) else "pacs",
        dry_run=options.dry_run,
        outcomes=outcomes,
        summary=summarise(outcomes, plan.files_seen, len(plan.listed_missing)),
        findings=tuple(findings),
        committed=committed,
        stopped=run.stopped,
        identities=identities,
        error=run.error,
        conflicts=tuple(run.conflicts),
        checked=not isinstance(destination, PacsTarget) or destination.check,
    )


def plan_identities(plan: ImportPlan) -> dict[str, LocalIdentity] | None:
    """Foreign Patient ID → local identity, as applied (None without reconciliation)."""
    if not plan.reconciled:
        return None
    return {w.info.patient_id: w.identity for w in plan.work if w.identity is not None}
