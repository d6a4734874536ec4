"""The Modality (0008,0060) rule, shared by build, validate and import (one checker, every caller
through :func:`mediatool.scan.scan_stream`).

- a retired defined term is a notice naming the current term PS3.3 gives for it
  (PS3.3 C.7.3.1.1.1);
- a value that is not a defined term is a warning (``DR`` gets the term PS3.3 uses instead);
- a value the IOD of the SOP Class does not allow (``MR`` in a CT Image Storage instance) is a
  warning (``mediatool/standard/sop_modalities.toml`` says where each constraint is).
"""

from __future__ import annotations

import difflib

from pydicom.uid import UID

from mediatool import modalities
from mediatool.findings import Finding, finding

_ELEMENT = "(0008,0060) Modality"


def check_modality(sop_class_uid: str, value: str, where: str | None) -> list[Finding]:
    """Findings about one instance's Modality; none when it is empty (the record keys report a
    missing Type 1 Modality)."""
    code = value.strip()
    if not code:
        return []
    out: list[Finding] = []
    term = modalities.term(code)
    if term is None or not term.defined:
        out.append(finding("modality.unknown", _unknown(code, term), where))
    elif term.retired:
        instead = f"; use {modalities.label(term.use)}" if term.use else ""
        why = "" if term.use else "; PS3.3 names no term that replaces it"
        out.append(
            finding(
                "modality.retired",
                f"{_ELEMENT} {code!r} ({term.names['en']}) is a retired defined term{instead}{why}",
                where,
            )
        )
    allowed = modalities.expected(sop_class_uid)
    # the same modality under an old name or in lower case is reported above, not twice
    upper = modalities.term(code.upper())
    same = {code, code.upper(), *(t.use for t in (term, upper) if t is not None and t.use)}
    if allowed is not None and not same & set(allowed.modalities):
        named = modalities.label(code) if term is not None else repr(code)
        want = " or ".join(modalities.label(m) for m in allowed.modalities)
        out.append(
            finding(
                "modality.sop-class-mismatch",
                f"{_ELEMENT} is {named} in a {UID(allowed.sop_class_uid).name} instance, whose "
                f"IOD expects {want} ({allowed.ref})",
                where,
            )
        )
    return out


def _unknown(code: str, term: modalities.Term | None) -> str:
    if term is not None and term.use:
        return (
            f"{_ELEMENT} {code!r} ({term.names['en']}) is not a defined term of PS3.3; "
            f"the defined term is {modalities.label(term.use)}"
        )
    close = difflib.get_close_matches(code.upper(), list(modalities.terms()), n=1, cutoff=0.6)
    if close and close[0] == code.upper():
        hint = f"; defined terms are upper case: did you mean {modalities.label(close[0])}?"
    elif close:
        hint = f"; did you mean {modalities.label(close[0])}?"
    else:
        hint = ""
    use = modalities.replacement(close[0]) if close else None
    if use and modalities.is_retired(close[0]):
        hint += f" (retired: the current term is {modalities.label(use)})"
    return f"{_ELEMENT} {code!r} is not a defined term{hint}"
