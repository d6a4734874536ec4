"""A :class:`Report` as text (stdout), one JSON document, or a self-contained HTML page.

The HTML template is ``templates/validate_report.html`` (found through
:func:`mediatool.resources.data_dir`), rendered with autoescaping on: patient names and every
other value come from foreign media. It gets a plain view model (dicts of strings), never
pydicom objects, and links to nothing outside the page.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from typing import Any, Final

from jinja2 import Environment

from mediatool import __version__
from mediatool.findings import CODES, Finding, Severity
from mediatool.resources import templates
from mediatool.validate.report import Report

TEMPLATE: Final = "validate_report.html"
_PER_CODE: Final = 20  # findings listed per code in the text report (all with verbose)
_PATIENTS: Final = 50


def _grouped(findings: Sequence[Finding]) -> list[tuple[str, list[Finding]]]:
    groups: dict[str, list[Finding]] = defaultdict(list)
    for f in findings:
        groups[f.code].append(f)
    return sorted(groups.items(), key=lambda kv: (-int(max(f.severity for f in kv[1])), kv[0]))


def _verdict(report: Report, threshold: Severity) -> str:
    return "PASS" if report.passes(threshold) else "FAIL"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _size(n: int) -> str:
    value = float(n)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{n} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} bytes"


def _counter(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def text(report: Report, threshold: Severity = Severity.ERROR, *, verbose: bool = False) -> str:
    """The human summary printed on stdout."""
    c = report.counts()
    m = report.media
    inv = report.inventory
    n = inv.counts()
    lines = [
        f"{_verdict(report, threshold)}: {m.kind} {m.name!r}: {_plural(c['error'], 'error')}, "
        f"{_plural(c['warning'], 'warning')}, {_plural(c['info'], 'notice')}"
        + (f" (profile {m.profile})" if m.profile else ""),
        _fileset_line(m.dicomdir, m.fileset_id, m.fileset_uid),
        f"Inventory: {_plural(n['patients'], 'patient')}, {_plural(n['studies'], 'study')}".replace(
            "studys", "studies"
        )
        + f", {n['series']} series, {_plural(n['instances'], 'instance')} in "
        f"{_plural(n['files'], 'file')} ({_size(n['bytes'])}); "
        f"{n['other_files']} non-DICOM, {n['referenced_missing']} missing",
    ]
    if inv.by_modality:
        lines.append(f"  by modality: {_counter(dict(inv.by_modality))}")
    if inv.by_record_type:
        lines.append(f"  by record type: {_counter(dict(inv.by_record_type))}")
    if inv.by_transfer_syntax:
        lines.append(f"  by Transfer Syntax: {_counter(dict(inv.by_transfer_syntax))}")
    lines += _patient_lines(report, verbose)
    for code, group in _grouped(report.findings):
        shown = [f for f in group if verbose or f.severity >= Severity.WARNING]
        if not shown:
            continue
        entry = CODES.get(code)
        ref = "; ".join(x for x in (entry.ref, entry.check) if x) if entry else ""
        title = entry.title if entry else code
        lines.append("")
        lines.append(f"{shown[0].severity.name} {code} ({len(group)}): {title} [{ref}]")
        if entry and entry.action:
            lines.append(f"  what to do: {entry.action}")
        limit = len(shown) if verbose else _PER_CODE
        for f in shown[:limit]:
            lines.append(f"  {f.where or '-'}: {f.message}")
        if len(shown) > limit:
            lines.append(f"  ... and {len(shown) - limit} more (see --json or --html)")
    return "\n".join(lines)


def _fileset_line(dicomdir: str | None, fileset_id: str | None, uid: str | None) -> str:
    """ "File-set: ID 'X', UID 1.2.3, DICOMDIR in the root" (nothing printed as "None")."""
    if dicomdir is None:
        return "File-set: no DICOMDIR read"
    parts = [
        "no File-set ID"
        if fileset_id is None
        else ("File-set ID empty" if not fileset_id else f"ID {fileset_id!r}")
    ]
    if uid:
        parts.append(f"UID {uid}")
    parts.append("DICOMDIR in the root" if dicomdir == "DICOMDIR" else f"DICOMDIR {dicomdir!r}")
    return "File-set: " + ", ".join(parts)


def _patient_lines(report: Report, verbose: bool) -> list[str]:
    patients = report.inventory.as_dict()["patients"]
    lines: list[str] = []
    limit = len(patients) if verbose else _PATIENTS
    for p in patients[:limit]:
        lines.append(
            f"  patient {p['patient_id']!r} {p['name']!r} {p['birth_date'] or '-'} "
            f"{p['sex'] or '-'}: {_plural(len(p['studies']), 'study')}".replace("studys", "studies")
        )
        for st in p["studies"]:
            series = ", ".join(
                f"{se['modality'] or '?'} #{se['number'] or '?'} ({se['instances']})"
                for se in st["series"]
            )
            lines.append(f"    study {st['date'] or '-'} {st['description']!r}: {series}")
    if len(patients) > limit:
        lines.append(f"  ... and {len(patients) - limit} more patients")
    return lines


def as_json(report: Report, threshold: Severity = Severity.ERROR) -> str:
    return json.dumps(report.as_dict(threshold), indent=2, ensure_ascii=False)


def environment() -> Environment:
    return templates()


def html(report: Report, threshold: Severity = Severity.ERROR) -> str:
    """A self-contained QA report (inline CSS, no script, no external resource)."""
    doc = report.as_dict(threshold)
    groups = []
    for code, group in _grouped(report.findings):
        entry = CODES.get(code)
        groups.append(
            {
                "code": code,
                "severity": str(group[0].severity),
                "title": entry.title if entry else code,
                "ref": (entry.ref or "") if entry else "",
                "check": (entry.check or "") if entry else "",
                "action": (entry.action or "") if entry else "",
                "items": [{"where": f.where or "", "message": f.message} for f in group],
            }
        )
    model: dict[str, Any] = {
        "verdict": _verdict(report, threshold),
        "fail_on": str(threshold),
        "version": __version__,
        "media": {k: "" if v is None else str(v) for k, v in doc["media"].items()},
        "summary": doc["summary"],
        "counts": doc["inventory"]["counts"],
        "tables": [
            ("Modality", doc["inventory"]["by_modality"]),
            ("Directory Record Type", doc["inventory"]["by_record_type"]),
            ("SOP Class", doc["inventory"]["by_sop_class"]),
            ("Transfer Syntax", doc["inventory"]["by_transfer_syntax"]),
        ],
        "patients": doc["inventory"]["patients"],
        "groups": groups,
    }
    return environment().get_template(TEMPLATE).render(**model)
