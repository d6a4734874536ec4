"""What every job kind shares: the library's errors as :class:`JobFailed`, peers and the
network from the job's parameters, the progress callback, and values read from ``params``."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mediatool.errors import MediatoolError
from mediatool.station.jobs.context import JobCancelled, JobContext, JobFailed

if TYPE_CHECKING:
    from mediatool.media.base import MediaReader
    from mediatool.net.association import Network, Peer


@contextlib.contextmanager
def library_errors() -> Iterator[None]:
    """A :class:`MediatoolError` ("cannot continue") becomes :class:`JobFailed` (message and
    hint for the desk); JobCancelled and anything else pass through."""
    try:
        yield
    except MediatoolError as exc:
        raise JobFailed(str(exc), exc.hint) from exc


def text(params: Mapping[str, Any], key: str, default: str = "") -> str:
    value = params.get(key, default)
    if value is None:
        return default
    if not isinstance(value, str):
        raise JobFailed(f"the job parameter {key!r} must be text, not {value!r}")
    return value


def shown(params: Mapping[str, Any]) -> str:
    """The name a person knows the medium by: ``shown`` (an upload's own file name) when the
    desk gives it, else the last part of ``media``."""
    return text(params, "shown") or Path(text(params, "media", "?")).name


def required(params: Mapping[str, Any], key: str) -> str:
    value = text(params, key)
    if not value:
        raise JobFailed(f"the job has no {key!r}", hint="this is a bug of the page that made it")
    return value


def path(params: Mapping[str, Any], key: str) -> Path:
    return Path(required(params, key))


def peer(text_: str, what: str) -> Peer:
    """``AE@host:port`` → :class:`Peer`; a bad one fails the job with the rule it breaks."""
    from mediatool.net.association import parse_peer

    with library_errors():
        try:
            return parse_peer(text_)
        except MediatoolError as exc:
            raise MediatoolError(f"{what}: {exc}", hint=exc.hint) from exc


def network(params: Mapping[str, Any], retries: int = 3) -> Network:
    """Our AE title and time-out from the job (``calling_aet``, ``timeout``)."""
    from mediatool.net.association import Network, check_ae_title

    with library_errors():
        aet = check_ae_title(text(params, "calling_aet", "MEDIATOOL"), "calling_aet")
    timeout = params.get("timeout") or 30.0
    if not isinstance(timeout, int | float) or timeout <= 0:
        raise JobFailed(f"the job parameter 'timeout' must be seconds > 0, not {timeout!r}")
    return Network(calling_aet=aet, timeout=float(timeout), retries=retries)


class Watched:
    """The library's progress callback: the job's, which raises :class:`JobCancelled` after a
    cancel. Some library stages turn any exception into a finding and carry on (validate's
    "check failed"; a header read falls back from its worker processes): once cancelled, every
    later call raises again, and :meth:`check` after each library call raises it for good."""

    def __init__(self, ctx: JobContext) -> None:
        self.ctx = ctx
        self.cancelled: JobCancelled | None = None

    def __call__(self, done: int, total: int | None, label: str) -> None:
        if self.cancelled is not None:
            raise self.cancelled
        try:
            self.ctx.progress(done, total, label)
        except JobCancelled as exc:
            self.cancelled = exc
            raise

    def check(self) -> None:
        """Raise the cancel a library call may have swallowed."""
        if self.cancelled is not None:
            raise self.cancelled


def progress(ctx: JobContext) -> Watched:
    return Watched(ctx)


def open_medium(where: str) -> MediaReader:
    """The medium (folder, ISO image, zip) of the job; unreadable: JobFailed."""
    from mediatool.media import open_media

    with library_errors():
        return open_media(where)
