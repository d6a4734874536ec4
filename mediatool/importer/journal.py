"""What was already sent to a PACS, so an interrupted import resumes where it stopped.

A PACS cannot be listed the way a folder can, so each PACS destination (``AET@HOST:PORT``) has
a journal: one JSON object per line, appended and flushed as soon as the PACS answers, so a
Ctrl-C, a crash or a lost association loses at most the instance in flight. States per SOP
Instance UID (the last line wins):

``stored``
    the PACS answered the C-STORE with success or a warning;
``committed``
    the PACS confirmed Storage Commitment for it (PS3.4 J);
``uncommitted``
    the PACS reported a commitment failure: the next run sends it again.

Each line also names the Patient ID the instance was sent under: a state counts only for that
same reconciled identity (issue 10: a corrected ID is a different import, never "already
there"). The journal is a resume aid; what the PACS holds is asked of the PACS itself
(:mod:`.destination`), except with ``--no-pacs-check``.

The journal lives in the state folder (``--state DIR``; default ``$XDG_CACHE_HOME/mediatool``,
else ``~/.cache/mediatool``), one file per destination named by a hash of it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
from pathlib import Path
from typing import IO, Final

from mediatool.errors import OutputError

STORED: Final = "stored"
COMMITTED: Final = "committed"
UNCOMMITTED: Final = "uncommitted"
_STATES: Final = frozenset({STORED, COMMITTED, UNCOMMITTED})


def default_state_dir() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME")
    base = Path(cache) if cache else Path.home() / ".cache"
    return base / "mediatool"


class Journal:
    """The journal of one destination. Unreadable lines (a torn last write) are ignored."""

    def __init__(self, state_dir: Path, destination: str) -> None:
        digest = hashlib.sha256(destination.encode("utf-8")).hexdigest()[:16]
        self.path = state_dir / f"sent-{digest}.jsonl"
        self.destination = destination
        self._fp: IO[str] | None = None
        self._lock = threading.Lock()  # several associations send at once
        self.states: dict[str, tuple[str, str]] = {}  # SOP Instance UID → (state, SOP Class UID)
        self.patients: dict[str, str | None] = {}  # SOP Instance UID → Patient ID sent under
        self._load()

    def _load(self) -> None:
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return
        except OSError as exc:
            raise OutputError(f"cannot read the import journal {str(self.path)!r}: {exc}") from exc
        for line in lines:
            try:
                item = json.loads(line)
            except ValueError:
                continue
            if not isinstance(item, dict):
                continue
            uid, state, cls = item.get("sop"), item.get("state"), item.get("class", "")
            if isinstance(uid, str) and state in _STATES and isinstance(cls, str):
                self.states[uid] = (state, cls)
                patient = item.get("patient")
                self.patients[uid] = patient if isinstance(patient, str) else None

    def sent(self) -> set[str]:
        """SOP Instance UIDs the PACS has (stored or committed)."""
        return {uid for uid, (state, _) in self.states.items() if state != UNCOMMITTED}

    def uncommitted(self) -> list[tuple[str, str]]:
        """(SOP Class UID, SOP Instance UID) stored but not yet committed, sorted."""
        return sorted((cls, uid) for uid, (state, cls) in self.states.items() if state == STORED)

    def state(self, uid: str, patient: str | None = None) -> str | None:
        """The last state of ``uid``; with ``patient``, only when it was sent under that
        Patient ID (a line of an older journal, without one, matches no patient)."""
        entry = self.states.get(uid)
        if entry is None or (patient is not None and self.patients.get(uid) != patient):
            return None
        return entry[0]

    def record(self, uid: str, sop_class: str, state: str, patient: str | None = None) -> None:
        """Append one state change, flushed at once.

        Raises
        ------
        OutputError
            The state folder cannot be written.
        """
        with self._lock:
            self._record(uid, sop_class, state, patient)

    def open(self) -> IO[str]:
        """Open the journal for appending (done before sending, so that a state folder that
        cannot be written stops the import before anything is sent).

        Raises
        ------
        OutputError
            The state folder cannot be written.
        """
        if self._fp is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._fp = self.path.open("a", encoding="utf-8")
            except OSError as exc:
                raise OutputError(
                    f"cannot write the import journal {str(self.path)!r}: {exc}",
                    hint="give a writable folder with --state DIR",
                ) from exc
        return self._fp

    def _record(self, uid: str, sop_class: str, state: str, patient: str | None) -> None:
        fp = self.open()
        if patient is None:
            patient = self.patients.get(uid)
        item = {"sop": uid, "class": sop_class, "state": state, "patient": patient}
        line = json.dumps(item, sort_keys=True)
        try:
            fp.write(line + "\n")
            fp.flush()
        except OSError as exc:
            raise OutputError(
                f"cannot write the import journal in the state folder "
                f"{str(self.path.parent)!r}: {exc.strerror or exc}",
                hint="free space there, or give another folder with --state DIR; running the "
                "same command again sends only what the PACS did not get",
            ) from exc
        self.states[uid] = (state, sop_class)
        self.patients[uid] = patient

    def close(self) -> None:
        if self._fp is not None:
            fp, self._fp = self._fp, None
            with contextlib.suppress(OSError):  # a full disk is reported by ``record``
                os.fsync(fp.fileno())
            with contextlib.suppress(OSError):
                fp.close()
