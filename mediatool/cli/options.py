"""Options and values shared by several commands, each declared once.

The network options (``--calling-aet``, ``--timeout``, ``--retries``, ``--retry-delay``) have
one spelling, one range and one help text everywhere; a command chooses only the default of
``--timeout``. Parsing of values that several commands take (dates, sizes, ``AET@HOST:PORT``)
turns a bad value into click's usage error (exit 2).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TypeVar

import click

from mediatool import profiles

if TYPE_CHECKING:  # pynetdicom is imported only by the commands that talk to a peer
    from _typeshed import DataclassInstance

    from mediatool.net.association import Peer

F = TypeVar("F", bound=Callable[..., Any])
D = TypeVar("D", bound="DataclassInstance")

PEER: Final = "AET@HOST:PORT"
#: pynetdicom's ACSE, DIMSE, network and connection time-outs (``net.association.make_ae``)
TIMEOUT_RANGE: Final = click.FloatRange(0.5, 3600)


def option_group(*decorators: Callable[[Any], Any]) -> Callable[[F], F]:
    """Several option decorators as one, listed in the order ``--help`` shows them."""

    def apply(f: F) -> F:
        for decorate in reversed(decorators):
            f = decorate(f)
        return f

    return apply


def json_option(f: F) -> F:
    return click.option(
        "--json", "as_json", is_flag=True, help="Print one JSON document on stdout instead of text."
    )(f)


def fail_on_option(f: F) -> F:
    return click.option(
        "--fail-on",
        type=click.Choice(["error", "warning"]),
        default="error",
        show_default=True,
        help="Exit 1 when a finding at or above this severity exists.",
    )(f)


def profile_option(f: F) -> F:
    """``--profile`` defaulting to STD-GEN-CD (what ``build`` writes)."""
    return _profile_options(f, profiles.DEFAULT_PROFILE, "Application Profile (PS3.11) to apply.")


def claimed_profile_option(f: F) -> F:
    """``--profile`` with no default: the profile a medium claims is checked only when given."""
    return _profile_options(
        f, None, "Application Profile (PS3.11) the media claims; its rules are checked."
    )


def medium_profile_option(f: F) -> F:
    """``--profile`` with no default: ``update`` reads the profile from the medium."""
    return _profile_options(
        f,
        None,
        "Application Profile (PS3.11) for the added files (default: the one the medium's "
        "records fit).",
    )


def _profile_options(f: F, default: str | None, text: str) -> F:
    f = profile_dir_option(f)
    return click.option(
        "--profile", "profile_id", default=default, show_default=default is not None, help=text
    )(f)


def profile_dir_option(f: F) -> F:
    return click.option(
        "--profile-dir",
        type=click.Path(file_okay=False, path_type=Path),
        help="Folder with Application Profile files of your own.",
    )(f)


def language_option(f: F) -> F:
    """The language of the modality names a person reads (issue 18); JSON keeps the codes."""
    from mediatool.modalities import DEFAULT_LANGUAGE, LANGUAGES

    return click.option(
        "--language",
        type=click.Choice(LANGUAGES),
        default=DEFAULT_LANGUAGE,
        show_default=True,
        help="Language of the modality names shown (CT: Computed Tomography / Tomografia "
        "Computadorizada); --json keeps the codes.",
    )(f)


def quiet_option(f: F) -> F:
    f = click.option("-v", "--verbose", is_flag=True, help="Also show notices.")(f)
    return click.option("-q", "--quiet", is_flag=True, help="No progress on stderr.")(f)


def jobs_option(text: str) -> Callable[[F], F]:
    return click.option("--jobs", type=click.IntRange(1, 64), help=text)


# --- talking to a DICOM peer ---------------------------------------------------------------


def calling_aet_option(f: F) -> F:
    return click.option(
        "--calling-aet", default="MEDIATOOL", show_default=True, help="Our AE title."
    )(f)


def timeout_option(default: float = 30.0) -> Callable[[F], F]:
    """``--timeout`` in seconds: one range everywhere, the default per command."""
    return click.option(
        "--timeout",
        default=default,
        show_default=True,
        type=TIMEOUT_RANGE,
        help="Network time-out in seconds.",
    )


def retries_option(f: F) -> F:
    return click.option(
        "--retries",
        default=3,
        show_default=True,
        type=click.IntRange(0, 20),
        help="Tries again after a lost association or a busy PACS.",
    )(f)


def retry_delay_option(f: F) -> F:
    return click.option(
        "--retry-delay",
        default=1.0,
        show_default=True,
        type=click.FloatRange(0),
        help="Seconds before the first retry (doubling the pause each time).",
    )(f)


def peer(text: str, what: str) -> Peer:
    """``AET@HOST:PORT`` given for the parameter ``what`` -> the peer (usage error, exit 2)."""
    from mediatool.net import association as pacs

    try:
        return pacs.parse_peer(text)
    except pacs.PeerError as exc:
        raise click.BadParameter(str(exc), param_hint=what) from None


# --- values ----------------------------------------------------------------------------------


def parse_date(text: str | None) -> datetime | None:
    """``YYYY-MM-DD`` or ``YYYY-MM-DDTHH:MM:SS`` (optionally with ``Z``/``+HH:MM``; naive = UTC)."""
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError as exc:
        raise click.BadParameter(
            f"{text!r} is not YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS", param_hint="'--date'"
        ) from exc


def parse_size(text: str) -> int:
    """``700M``, ``4.7G``, ``650000000`` → bytes (K, M, G: powers of 1000; KiB, MiB, GiB too)."""
    units = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
    units |= {"KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "KB": 10**3, "MB": 10**6, "GB": 10**9}
    raw = text.strip().upper().replace(" ", "")
    number = raw.rstrip("KMGTIB")
    unit = raw[len(number) :]
    try:
        value = float(number)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a size such as 700M or 4.7G") from None
    if unit not in units or value <= 0:
        raise click.BadParameter(f"{text!r} is not a size such as 700M or 4.7G")
    return int(value * units[unit])


def take(cls: type[D], params: dict[str, Any]) -> D:
    """The typed option group ``cls`` (a dataclass) from click's parameters: each field takes
    (and removes) the parameter of its name, so a command can split its options in groups."""
    return cls(**{f.name: params.pop(f.name) for f in dataclasses.fields(cls)})
