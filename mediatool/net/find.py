"""C-FIND as SCU on an established association (PS3.4 C.4.1, K.4.1): one response loop for
``find``, ``build --from-pacs``, ``import``'s check of what the PACS holds and ``--worklist``."""

from __future__ import annotations

import time
import warnings
from typing import Any, Final

from mediatool.net.association import Network, Peer, PeerUnavailable, no_answer
from mediatool.net.dimse import hold_reactor
from mediatool.net.failure import status_failure

#: Study Root Query/Retrieve Information Model - FIND (PS3.4 C.6.2)
#: Pending statuses of C-FIND, C-GET and C-MOVE responses (PS3.4 C.4.1.1.4, C.4.2.1.5).
PENDING: Final = frozenset({0xFF00, 0xFF01})


def c_find(
    assoc: Any,
    peer: Peer,
    net: Network,
    query: Any,
    model: str,
    *,
    service: str = "find",
    doing: str = "the query",
) -> list[Any]:
    """The identifiers of every pending response to ``query`` in the information ``model``.

    ``service`` names the status table (:func:`.failure.status_failure`), ``doing`` the
    exchange in messages.

    Raises
    ------
    PeerUnavailable
        A failure status, or no response in time (the association was lost).
    """
    answers: list[Any] = []
    started = time.monotonic()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # send_c_find pauses the reactor itself, trusting a flag that can be stale: a response
        # taken off the queue in that moment was lost, a 30 s time-out (see .dimse)
        hold_reactor(assoc)
        for status, identifier in assoc.send_c_find(query, model):
            code = status.get("Status") if status else None
            if code is None:
                raise PeerUnavailable(no_answer(assoc, peer, net, started, doing))
            if code in PENDING:
                if identifier is not None:
                    answers.append(identifier)
            elif code != 0:
                raise PeerUnavailable(status_failure(peer, int(code), service, doing))
    return answers
