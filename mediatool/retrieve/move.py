"""C-MOVE (PS3.4 C.4.2) to a Storage SCP we run ourselves: the PACS opens a new association to
``--move-aet`` at the host and port it has configured for that AE title (our ``--port``)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from pydicom.dataset import Dataset

from mediatool.dicom.uids import PATIENT_ROOT_MOVE, STUDY_ROOT_MOVE, VERIFICATION
from mediatool.errors import MediatoolError
from mediatool.model import Progress
from mediatool.net.association import (
    NATIVE,
    Network,
    Peer,
    PeerUnavailable,
    associate,
    check_ae_title,
    make_ae,
)
from mediatool.retrieve.accounting import RetrieveResult
from mediatool.retrieve.find import StudyMatch
from mediatool.retrieve.get import run_studies
from mediatool.retrieve.sink import Sink


def move_studies(  # noqa: PLR0913 - the peer, the studies and the SCP's keyword settings
    peer: Peer,
    net: Network,
    studies: Sequence[StudyMatch],
    folder: Path,
    *,
    move_aet: str,
    port: int,
    listen_host: str = "0.0.0.0",
    progress: Progress | None = None,
) -> RetrieveResult:
    """Run a Storage SCP (AE ``move_aet`` on ``listen_host:port``), C-MOVE each study to it.

    Raises
    ------
    MediatoolError
        The port cannot be opened (in use, no permission).
    PeerUnavailable
        No association with the PACS, or it offers no C-MOVE model.
    """
    from pynetdicom import ALL_TRANSFER_SYNTAXES, AllStoragePresentationContexts, evt

    check_ae_title(move_aet, "--move-aet")
    sink = Sink(folder, progress)
    sink.total = sum(s.instances or 0 for s in studies) or None
    scp = make_ae(Network(move_aet, net.timeout))
    for cx in AllStoragePresentationContexts:
        scp.add_supported_context(cx.abstract_syntax, list(ALL_TRANSFER_SYNTAXES))
    scp.add_supported_context(VERIFICATION)
    try:
        server = scp.start_server(
            (listen_host, port),
            block=False,
            ae_title=move_aet,
            evt_handlers=[(evt.EVT_C_STORE, sink.handle_store)],
        )
    except OSError as exc:
        raise MediatoolError(
            f"cannot listen on {listen_host}:{port} for C-MOVE ({exc.strerror or exc})"
        ) from exc
    try:
        result = _move(peer, net, studies, sink, move_aet)
    finally:
        server.shutdown()
    result.move_destination = f"{move_aet!r} at {listen_host}:{port}"
    return result


def _move(
    peer: Peer, net: Network, studies: Sequence[StudyMatch], sink: Sink, move_aet: str
) -> RetrieveResult:
    ae = make_ae(net)
    ae.add_requested_context(STUDY_ROOT_MOVE, list(NATIVE))
    ae.add_requested_context(PATIENT_ROOT_MOVE, list(NATIVE))
    assoc, reason = associate(ae, peer, net)
    if assoc is None:
        raise PeerUnavailable(reason)

    def send(identifier: Dataset, model: str) -> Iterator[tuple[Dataset, Dataset | None]]:
        return assoc.send_c_move(identifier, move_aet, model)  # type: ignore[no-any-return]

    return run_studies(
        assoc,
        studies,
        sink,
        RetrieveResult(str(peer), "move"),
        (STUDY_ROOT_MOVE, PATIENT_ROOT_MOVE),
        send,
        "C-MOVE",
    )
