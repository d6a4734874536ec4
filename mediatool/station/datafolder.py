"""The station's data folder (jobs, uploads, the SQLite job store) and its job store, opened
once for ``serve``, ``users`` and the application."""

from __future__ import annotations

import os

from mediatool.errors import MediatoolError
from mediatool.station.config import StationConfig
from mediatool.station.store import Store


def prepare_data(config: StationConfig, folders: bool = True) -> Store:
    """The data folder (made, writable) and the job store; ``folders=False``: the job store
    alone, when it is not in the data folder (``mediatool users --database URL``)."""
    if not folders and config.database:
        return Store(config.database_url)
    data = config.data
    try:
        data.mkdir(parents=True, exist_ok=True)
        (data / "jobs").mkdir(exist_ok=True)
        (data / "uploads").mkdir(exist_ok=True)
    except OSError as exc:
        raise MediatoolError(
            f"cannot use the data folder {str(data)!r}: {exc.strerror or exc}",
            hint="give a folder this user may write with --data DIR",
        ) from None
    if not os.access(data, os.W_OK):
        raise MediatoolError(
            f"the data folder {str(data)!r} is not writable by this user",
            hint="give another folder with --data DIR",
        )
    return Store(config.database_url)
