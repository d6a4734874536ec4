"""What the burn desk shows of the DICOM node's inbox (by sender), apart from its actions
(:mod:`.burn_inbox`), so that the burn desk's page (:mod:`.burn`) can show it without an import
circle."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from mediatool.station import web
from mediatool.station.config import StationConfig
from mediatool.station.node import inbox
from mediatool.station.node.inbox import InboxStudy


@dataclass(frozen=True, slots=True)
class Sender:
    """The studies one calling AE sent, under the name people know it by."""

    ae_title: str
    name: str  # the configured node's name with this AE title, else the AE title
    studies: tuple[InboxStudy, ...]


def sender_name(config: StationConfig, ae_title: str) -> str:
    """The name of the ``[[nodes]]`` entry whose address has this AE title, else the title."""
    found = (n.name for n in config.nodes if n.address.split("@", 1)[0] == ae_title)
    return next(found, ae_title)


def senders(config: StationConfig, studies: Iterable[InboxStudy]) -> list[Sender]:
    """The inbox grouped by calling AE (the order of the studies kept: newest first)."""
    groups: dict[str, list[InboxStudy]] = {}
    for s in studies:
        groups.setdefault(s.calling_ae, []).append(s)
    return [Sender(ae, sender_name(config, ae), tuple(rows)) for ae, rows in groups.items()]


def section(request: Request) -> dict[str, Any] | None:
    """What burn.html shows of the inbox (None: nothing, the node is off and the inbox empty);
    the patients shown are in the audit trail."""
    station = web.station(request)
    studies = inbox.studies(station.store)
    if not studies and not station.config.dicom_port:
        return None
    for (pid, name), rows in sorted(by_patient(studies).items()):
        web.audit(request, "view inbox", pid, name, f"{len(rows)} studies shown")
    return {
        "senders": senders(station.config, studies),
        "ae_title": station.config.ae_title,
        "port": station.config.dicom_port,
    }


def by_patient(studies: Iterable[InboxStudy]) -> dict[tuple[str, str], list[InboxStudy]]:
    out: dict[tuple[str, str], list[InboxStudy]] = {}
    for s in studies:
        out.setdefault((s.patient_id, s.patient_name), []).append(s)
    return out
