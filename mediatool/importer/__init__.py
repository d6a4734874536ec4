"""Import outside media (IHE PDI Portable Media Importer, grouped with the IRWF Importer).

A disc, ISO image, zip or folder → a local archive folder or a PACS, reconciled to the local
patient, with every file of the media accounted for. The stages, in order::

    survey_media(reader)                      ★ what each file is (one header read per file)
    check_selection(survey, selection)          --study / --patient name something real
    identity.single / from_map / worklist       local identity per patient of the media
    plan_import(survey, selection, identities)  pure: what is sent, and every other file's reason
    run_import(reader, plan, destination)     ★ archive folder or PACS, resumable; ImportReport

:func:`import_media` composes them for callers with no user to ask.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from mediatool.importer.accounting import FileOutcome, Outcome, Summary
    from mediatool.importer.listing import Listing, listing
    from mediatool.importer.reconcile import Coercion, LocalIdentity, coerce
    from mediatool.importer.run import (
        ArchiveTarget,
        Destination,
        ImportReport,
        PacsTarget,
        RunOptions,
        run_import,
    )
    from mediatool.importer.select import ImportPlan, Selection, check_selection, plan_import
    from mediatool.importer.survey import MediaFile, Survey, survey_media
    from mediatool.media.base import MediaReader
    from mediatool.net.association import EchoResult, Network, Peer, echo, parse_peer

#: Public names → their module (in this package unless a full name), imported on first use
#: (PEP 562): ``import mediatool.importer`` stays cheap, and pynetdicom is loaded only when a
#: PACS is used.
_LAZY: Final = {
    **dict.fromkeys(("FileOutcome", "Outcome", "Summary"), "accounting"),
    **dict.fromkeys(("Listing", "listing"), "listing"),
    **dict.fromkeys(
        ("EchoResult", "Network", "Peer", "echo", "parse_peer"), "mediatool.net.association"
    ),
    **dict.fromkeys(("Coercion", "LocalIdentity", "coerce"), "reconcile"),
    **dict.fromkeys(
        ("ArchiveTarget", "Destination", "ImportReport", "PacsTarget", "RunOptions", "run_import"),
        "run",
    ),
    **dict.fromkeys(("ImportPlan", "Selection", "check_selection", "plan_import"), "select"),
    **dict.fromkeys(("MediaFile", "Survey", "survey_media"), "survey"),
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    path = module if module.startswith("mediatool.") else f"{__name__}.{module}"
    value = getattr(importlib.import_module(path), name)
    globals()[name] = value
    return value


__all__ = [
    "ArchiveTarget",
    "Coercion",
    "Destination",
    "EchoResult",
    "FileOutcome",
    "ImportPlan",
    "ImportReport",
    "Listing",
    "LocalIdentity",
    "MediaFile",
    "Network",
    "Outcome",
    "PacsTarget",
    "Peer",
    "RunOptions",
    "Selection",
    "Summary",
    "Survey",
    "check_selection",
    "coerce",
    "echo",
    "import_media",
    "listing",
    "parse_peer",
    "plan_import",
    "run_import",
    "same_content",
    "survey_media",
]


def same_content(reader: MediaReader) -> Callable[[MediaFile, MediaFile], bool]:
    """Whether two files of the media under one SOP Instance UID send the same instance: equal
    data sets, whatever their File Meta (C-STORE carries none; :mod:`mediatool.dicom.sameness`)."""

    from mediatool.dicom.sameness import same_instance  # lazily, like the rest of this package
    from mediatool.media.base import stored

    def same(a: MediaFile, b: MediaFile) -> bool:
        ea, _ = reader.resolve(tuple(a.path.split("/")))
        eb, _ = reader.resolve(tuple(b.path.split("/")))
        if ea is None or eb is None:
            return False
        return same_instance(stored(reader, ea, a.info), stored(reader, eb, b.info))

    return same


def import_media(
    reader: MediaReader,
    destination: Destination,
    *,
    selection: Selection | None = None,
    identities: Mapping[str, LocalIdentity] | None = None,
    options: RunOptions | None = None,
    jobs: int | None = None,
) -> ImportReport:
    """Survey ``reader``, plan and run the import into ``destination`` in one call."""
    from mediatool.importer.run import run_import
    from mediatool.importer.select import Selection, check_selection, plan_import
    from mediatool.importer.survey import survey_media

    selection = selection or Selection()
    survey = survey_media(reader, jobs=jobs)
    check_selection(survey, selection)
    plan = plan_import(survey, selection, identities, same_content(reader))
    return run_import(reader, plan, destination, options)
