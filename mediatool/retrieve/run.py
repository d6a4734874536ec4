"""★ ``build --from-pacs``: choose the studies (C-FIND), retrieve them (C-GET or C-MOVE) into a
folder. Errors that stop everything become :class:`MediatoolError` (exit 2)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mediatool.errors import MediatoolError
from mediatool.model import Progress
from mediatool.net.association import Network, PeerUnavailable, parse_peer
from mediatool.retrieve.accounting import RetrieveResult
from mediatool.retrieve.find import StudyMatch, StudyQuery, find_studies


class NothingToRetrieve(MediatoolError):
    """The query matched no study (exit 1: the PACS answered, it has nothing for us)."""

    exit_code = 1


@dataclass(frozen=True, slots=True)
class RetrieveRequest:
    peer: str  # AET@HOST:PORT
    query: StudyQuery
    method: str = "get"  # get | move
    calling_aet: str = "MEDIATOOL"
    timeout: float = 30.0
    move_aet: str | None = None
    port: int | None = None
    listen_host: str = "0.0.0.0"


def choose(request: RetrieveRequest) -> list[StudyMatch]:
    """The studies to retrieve; raises when the PACS cannot be asked or has none."""
    peer = parse_peer(request.peer)
    net = Network(request.calling_aet, request.timeout, retries=1)
    try:
        studies = find_studies(peer, net, request.query)
    except PeerUnavailable as exc:
        raise MediatoolError(f"the PACS {peer} cannot be queried: {exc}") from exc
    missing = set(request.query.study_uids) - {s.study_uid for s in studies}
    if missing:
        raise NothingToRetrieve(
            f"{peer} has no matching study with UID {', '.join(sorted(missing))}"
        )
    if not studies:
        raise NothingToRetrieve(f"no study at {peer} matches the query; nothing was written")
    return studies


def collect(
    request: RetrieveRequest,
    studies: list[StudyMatch],
    folder: Path,
    progress: Progress | None = None,
) -> RetrieveResult:
    """Retrieve ``studies`` into ``folder``."""
    peer = parse_peer(request.peer)
    net = Network(request.calling_aet, request.timeout, retries=1)
    try:
        if request.method == "move":
            from mediatool.retrieve.move import move_studies

            if not request.move_aet or not request.port:
                raise MediatoolError("C-MOVE needs --move-aet and --port")
            return move_studies(
                peer,
                net,
                studies,
                folder,
                move_aet=request.move_aet,
                port=request.port,
                listen_host=request.listen_host,
                progress=progress,
            )
        from mediatool.retrieve.get import get_studies

        return get_studies(peer, net, studies, folder, progress)
    except PeerUnavailable as exc:
        raise MediatoolError(f"cannot retrieve from {peer}: {exc}") from exc
