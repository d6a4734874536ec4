"""Text and JSON for ``mediatool import``: plain words for people, one document for scripts.

Pure: values in, strings and dicts out; :mod:`mediatool.cli.importer` prints them.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Final

from mediatool.importer.accounting import FileOutcome, Outcome
from mediatool.importer.listing import (
    PLAIN,
    Listing,
    expected_text,
    modalities,
    patients,
    studies,
)
from mediatool.importer.run import ImportReport
from mediatool.modalities import label as modality_label
from mediatool.modalities import labels as modality_labels
from mediatool.validate.discfiles import expected_companion

SCHEMA: Final = "mediatool.import/1"
_WORDS: Final = {
    Outcome.IMPORTED: "imported",
    Outcome.ALREADY_PRESENT: "already there",
    Outcome.SKIPPED: "nothing to import",
    Outcome.NOT_IMPORTED: "NOT imported",
    Outcome.NOT_CONFIRMED: "sent, not confirmed by the PACS",
}
#: Failures of one cause shown one by one up to this many; more are one line with a count.
_EACH: Final = 3
_REASON: Final = {
    "import.not-dicom": "not DICOM",
    "import.dicomdir": "the DICOMDIR index",
    "import.not-selected": "not selected",
    "import.duplicate": "second copy",
}


def person(name: str) -> str:
    """``Müller^Jürgen^^Dr.`` → ``Müller, Jürgen`` (first, alphabetic, component group)."""
    parts = [p.strip() for p in name.split("=", 1)[0].split("^")]
    family = parts[0] if parts else ""
    given = " ".join(p for p in parts[1:3] if p)
    return f"{family}, {given}" if family and given else (family or given or "(no name)")


def day(value: str) -> str:
    """``20240312`` → ``2024-03-12``; anything else as given (or "no date")."""
    v = value.strip()
    if len(v) == 8 and v.isdigit():
        return f"{v[:4]}-{v[4:6]}-{v[6:]}"
    return v or "no date"


def listing_text(listing: Listing, *, verbose: bool = False, language: str = "en") -> str:
    """The listing for a person; modality names in ``language`` (en, pt-BR)."""
    report = listing.report
    counts = report.inventory.counts()
    lines = [
        f"{report.media.name} ({report.media.kind}): {counts['patients']} patient(s), "
        f"{counts['studies']} study(ies), {counts['series']} series, {counts['instances']} "
        f"image(s) and other objects, {counts['other_files']} other file(s)",
    ]
    for p in patients(report):
        lines.append("")
        lines.append(
            f"Patient {person(p.name)}   ID {p.patient_id or '(none)'}   born "
            f"{day(p.birth_date)}   sex {p.sex or '?'}"
        )
        for st in studies(p):
            n = sum(s.instances for s in st.series.values())
            desc = f'"{st.description}"' if st.description else "(no description)"
            acc = f"accession {st.accession}" if st.accession else "no accession number"
            names = modality_labels(modalities(st), language) or "?"
            lines.append(
                f"  Study {day(st.date)}  {desc}  {names}  {acc}  "
                f"{len(st.series)} series, {n} image(s)"
            )
            if verbose:
                lines.append(f"    Study Instance UID {st.uid}")
                for se in sorted(st.series.values(), key=lambda s: (s.number.zfill(8), s.uid)):
                    name = modality_label(se.modality, language) or "?"
                    lines.append(
                        f"    Series {se.number or '?'}  {name}  "
                        f"{se.description or ''}  {se.instances} image(s)"
                    )
    lines.append("")
    expected = expected_text(report)
    if expected:
        lines.append(expected)
    if listing.problems:
        lines.append("Problems found:")
        lines += [f"  {'!' if p.blocks else '-'} {p.text}" for p in listing.problems]
    else:
        lines.append("No problems found.")
    return "\n".join(lines)


def _reason(o: FileOutcome) -> str:
    if o.code == "import.not-dicom" and expected_companion(o.path):
        return "viewer and web pages"  # the same words as import --list (issue 10, case 8)
    return _REASON.get(o.code or "", o.code or "")


def _reasons(outcomes: list[FileOutcome]) -> str:
    counts = Counter(_reason(o) for o in outcomes)
    return ", ".join(f"{n} {text}" for text, n in sorted(counts.items()))


def _grouped(outcomes: list[FileOutcome]) -> list[str]:
    """One line per file for a few; one line with a count per cause for many (issue 10)."""
    by_cause: dict[str, list[FileOutcome]] = {}
    for o in outcomes:
        by_cause.setdefault(o.message or o.code or "", []).append(o)
    lines = []
    for cause, items in sorted(by_cause.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        if len(items) <= _EACH:
            lines += [f"  {o.path}: {cause}" for o in items]
        else:
            lines.append(f"  {len(items)} files: {cause} (e.g. {items[0].path})")
    return lines


def _conflicts(report: ImportReport) -> list[str]:
    lines = []
    for c in report.conflicts:
        theirs = " and ".join(repr(t) for t in c.theirs)
        lines += [
            f"REFUSED: study {c.label} ({c.study_uid}) is already at {report.destination} "
            f"under Patient ID {theirs};",
            f"  this import would file it under {c.ours!r}. Nothing was sent or written.",
            f"  What to do: if {theirs} is wrong, correct the Patient ID on the PACS (or in the "
            f"archive) and import again; if it is right, import with --patient-id {c.theirs[0]}.",
        ]
    return lines


def import_text(report: ImportReport, *, verbose: bool = False, log_path: str | None = None) -> str:
    s = report.summary
    verb = "Would import" if report.dry_run else "Imported"
    counts = (
        f"  imported: {s.imported}   already there: {s.already_present}   nothing to import: "
        f"{s.skipped}   NOT imported: {s.not_imported}"
    )
    if s.not_confirmed:
        counts += f"   sent, not confirmed: {s.not_confirmed}"
    lines = [
        f"{verb} from {report.media} into {report.destination}: {s.files} file(s) on the media"
    ]
    lines.append(counts)
    skipped = [o for o in report.outcomes if o.outcome is Outcome.SKIPPED]
    if skipped:
        lines.append(f"  nothing to import: {_reasons(skipped)}")
    for foreign, identity in sorted((report.identities or {}).items()):
        lines.append(
            f"  patient {foreign!r} of the media -> local {identity.patient_id!r}"
            + (f" ({identity.issuer})" if identity.issuer else "")
            + (f" {person(identity.name)}" if identity.name else "")
        )
    lines += _conflicts(report)
    failed = [o for o in report.outcomes if o.outcome is Outcome.NOT_IMPORTED]
    if failed and not report.conflicts:
        lines.append("Not imported:")
        lines += _grouped(failed)
    unconfirmed = [o for o in report.outcomes if o.outcome is Outcome.NOT_CONFIRMED]
    if unconfirmed:
        lines.append("Sent, not confirmed by the PACS:")
        lines += _grouped(unconfirmed)
    if s.listed_missing:
        lines.append(f"Missing from the media although its DICOMDIR lists them: {s.listed_missing}")
    if verbose:
        lines.append("Every file:")
        lines += [
            f"  {o.path}: {_WORDS[o.outcome]}" + (f" ({o.message})" if o.message else "")
            for o in report.outcomes
        ]
    if log_path:
        lines.append(f"Every file and its outcome: {log_path}")
    if report.stopped:
        told = any(o.message == report.stopped for o in failed)  # the cause is shown above
        cause = "see above" if told else report.stopped
        lines.append(f"Stopped early ({cause}). Run the same command again to resume.")
    lines.append(_verdict(report))
    return "\n".join(lines)


def _verdict(report: ImportReport) -> str:
    if not report.found_dicom:
        return f"{PLAIN['inventory.empty'][0]} Nothing was imported (is it the right folder?)."
    if report.conflicts:
        return "NOTHING was imported: the destination files these studies under another patient."
    if report.dry_run:
        return "Dry run: nothing was written or sent."
    if report.summary.not_confirmed and not report.summary.not_imported:
        return (
            "Sent, but NOT confirmed by the PACS: keep the disc until the PACS confirms (see "
            "above what it must be configured with), then run the same command again."
        )
    if not report.ok:
        return "NOT everything was imported: see the reasons above."
    if report.committed:
        return "Safely imported: the PACS has committed to keep every instance."
    return "Everything that is DICOM on the media is at the destination."


def outcome_log(report: ImportReport) -> str:
    """Every file and its outcome, one per line (the log file whose path the text names)."""
    head = f"# mediatool import {report.media} -> {report.destination}\n"
    return head + "".join(
        f"{o.path}\t{o.outcome}\t{o.code or ''}\t{o.sop_instance_uid or ''}\t{o.message}\n"
        for o in report.outcomes
    )


def import_json(report: ImportReport) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "ok": report.ok,
        "dry_run": report.dry_run,
        "media": report.media,
        "destination": {"kind": report.kind, "name": report.destination},
        "summary": report.summary.as_dict(),
        "committed": report.committed,
        "destination_checked": report.checked,
        "conflicts": [
            {
                "study_instance_uid": c.study_uid,
                "patient_id": c.ours,
                "destination_patient_ids": list(c.theirs),
            }
            for c in report.conflicts
        ],
        "stopped": report.stopped,
        "error": None if report.error is None else str(report.error),
        "identities": (
            None
            if report.identities is None
            else {k: v.as_dict() for k, v in sorted(report.identities.items())}
        ),
        "files": [o.as_dict() for o in report.outcomes],
        "findings": [f.as_dict() for f in report.findings],
    }
