"""Real DICOM peers for the import tests, all on 127.0.0.1 with ports from :mod:`ports`.

* :class:`Orthanc` (Debian package ``orthanc``): a temporary storage folder, its REST API to
  check what arrived, our AE title registered in ``DicomModalities`` so it can send Storage
  Commitment reports back to us (it always opens a new association for them).
* :class:`Storescp`: DCMTK's ``storescp`` with any options (``+xi`` accepts Implicit VR Little
  Endian only; ``--abort-after`` aborts every association after a C-STORE-RQ).
* :class:`AbortingPeer`: a pynetdicom Storage SCP in a thread that sends A-ABORT after a number
  of C-STOREs (once, then behaves), and can close its port to play "the PACS is gone".
* :class:`Worklist`: DCMTK's ``wlmscpfs`` over a folder of ``.wl`` files made with ``dump2dcm``.

A missing tool FAILS the test (never skips): ``scripts/test.sh`` installs them. Every start and
stop is bounded in time; every process started is stopped at teardown.

DCMTK's command names clash with pynetdicom's console scripts (``storescp`` may be a Python
script earlier on ``PATH``), so :func:`dcmtk` picks the executable that is a native binary.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import pytest
from ports import LOCALHOST, reserve_port
from pydicom.dataset import Dataset
from pynetdicom import AE, AllStoragePresentationContexts, evt
from pynetdicom.sop_class import Verification  # type: ignore[attr-defined]  # names made at run time

START_TIMEOUT = 20.0
_INSTALL_HINT = "run scripts/test.sh"


def wait_port(
    port: int, timeout: float = START_TIMEOUT, proc: subprocess.Popen[bytes] | None = None
) -> None:
    """Wait until something accepts TCP connections on ``port``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the peer exited with {proc.returncode} before listening")
        with contextlib.suppress(OSError), socket.create_connection((LOCALHOST, port), 0.2):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on port {port} after {timeout} s")


def _is_native(path: Path) -> bool:
    try:
        with path.open("rb") as fp:
            return fp.read(4) == b"\x7fELF"
    except OSError:
        return False


def dcmtk(name: str) -> str:
    """Absolute path of DCMTK's ``name`` (a native executable on PATH or in /usr/bin)."""
    for folder in [*os.environ.get("PATH", "").split(os.pathsep), "/usr/bin"]:
        candidate = Path(folder, name)
        if os.access(candidate, os.X_OK) and _is_native(candidate):
            return str(candidate)
    pytest.fail(f"DCMTK {name} not installed: {_INSTALL_HINT}", pytrace=False)


def orthanc_binary() -> str:
    exe = shutil.which("Orthanc") or (
        "/usr/sbin/Orthanc" if Path("/usr/sbin/Orthanc").exists() else None
    )
    if exe is None:
        pytest.fail(f"Orthanc not installed: {_INSTALL_HINT}", pytrace=False)
    return exe


def _env() -> dict[str, str]:
    env = dict(os.environ)
    # DCMTK (storescp, wlmscpfs, and Orthanc's DICOM server) leaves Nagle's algorithm on unless
    # TCP_NODELAY is set; with it on, every C-STORE waits ~40 ms for a delayed ACK.
    env.update(LANG="C", LC_ALL="C", TCP_NODELAY="1")
    return env


def _stop(proc: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)


# --------------------------------------------------------------------------------------------
# Orthanc
# --------------------------------------------------------------------------------------------


@dataclass
class Orthanc:
    """A running Orthanc. ``report_port`` is where it sends Storage Commitment reports for the
    AE title ``scu_aet``."""

    folder: Path
    aet: str = "ORTHANC"
    scu_aet: str = "MEDIATOOL"
    dicom_port: int = field(default_factory=reserve_port)
    http_port: int = field(default_factory=reserve_port)
    report_port: int = field(default_factory=reserve_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def peer(self) -> str:
        return f"{self.aet}@{LOCALHOST}:{self.dicom_port}"

    def config(self) -> dict[str, Any]:
        storage = self.folder / "storage"
        return {
            "Name": "mediatool-test",
            "DicomAet": self.aet,
            "DicomPort": self.dicom_port,
            "HttpPort": self.http_port,
            "StorageDirectory": str(storage),
            "IndexDirectory": str(storage),
            "RemoteAccessAllowed": False,
            "AuthenticationEnabled": False,
            "HttpServerEnabled": True,
            "SyncStorageArea": False,
            "Plugins": [],
            "DicomAlwaysAllowStore": True,
            "DicomAlwaysAllowEcho": True,
            "DicomModalities": {
                "mediatool": {
                    "AET": self.scu_aet,
                    "Host": LOCALHOST,
                    "Port": self.report_port,
                    "AllowStorageCommitment": True,
                }
            },
        }

    def start(self) -> Self:
        path = self.folder / "orthanc.json"
        path.write_text(json.dumps(self.config(), indent=2))
        log = (self.folder / "orthanc.log").open("wb")
        self.proc = subprocess.Popen(
            [orthanc_binary(), str(path)], stdout=log, stderr=subprocess.STDOUT, env=_env()
        )
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                text = (self.folder / "orthanc.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"Orthanc exited ({self.proc.returncode}):\n{text}")
            with contextlib.suppress(OSError, urllib.error.URLError):
                if self.get("/system").get("DicomPort") == self.dicom_port:
                    wait_port(self.dicom_port, 5.0, self.proc)
                    return self
            time.sleep(0.1)
        self.stop()
        raise TimeoutError("Orthanc did not start in time")

    def stop(self) -> None:
        if self.proc is not None:
            _stop(self.proc)
            self.proc = None

    # -- REST ----------------------------------------------------------------------------------

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            f"http://{LOCALHOST}:{self.http_port}{path}", data=data, method=method
        )
        with urllib.request.urlopen(req, timeout=10) as rsp:
            raw = rsp.read()
        return json.loads(raw) if raw else None

    def get(self, path: str) -> Any:
        return self._call("GET", path)

    def instances(self) -> list[dict[str, Any]]:
        """Every stored instance: its simplified tags (keyword names), by SOP Instance UID."""
        out = []
        for oid in self.get("/instances"):
            tags = self.get(f"/instances/{oid}/tags?simplify")
            tags["_id"] = oid
            out.append(tags)
        return out

    def sop_uids(self) -> set[str]:
        found = self._call(
            "POST", "/tools/find", {"Level": "Instance", "Query": {}, "Expand": True}
        )
        return {i["MainDicomTags"]["SOPInstanceUID"] for i in found}

    def transfer_syntax(self, oid: str) -> str:
        meta = self.get(f"/instances/{oid}/header?simplify")
        return str(meta["TransferSyntaxUID"])

    def reset(self) -> None:
        for pid in self.get("/patients"):
            self._call("DELETE", f"/patients/{pid}")


# --------------------------------------------------------------------------------------------
# DCMTK storescp and wlmscpfs
# --------------------------------------------------------------------------------------------


@dataclass
class Storescp:
    """``storescp`` writing what it receives into ``folder/in``."""

    folder: Path
    options: Sequence[str] = ()
    aet: str = "STORESCP"
    port: int = field(default_factory=reserve_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def peer(self) -> str:
        return f"{self.aet}@{LOCALHOST}:{self.port}"

    @property
    def received(self) -> Path:
        return self.folder / "in"

    def start(self) -> Self:
        self.received.mkdir(parents=True, exist_ok=True)
        cmd = [
            dcmtk("storescp"),
            "--output-directory",
            str(self.received),
            "-aet",
            self.aet,
            "--socket-timeout",
            "20",
            "--acse-timeout",
            "10",
            *self.options,
            str(self.port),
        ]
        log = (self.folder / "storescp.log").open("wb")
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=_env())
        log.close()
        wait_port(self.port, START_TIMEOUT, self.proc)
        return self

    def stop(self) -> None:
        if self.proc is not None:
            _stop(self.proc)
            self.proc = None

    def files(self) -> list[Path]:
        return sorted(p for p in self.received.iterdir() if p.is_file())


WORKLIST_AET = "WORKLIST"


def worklist_dump(entry: dict[str, str]) -> str:
    """A ``dump2dcm`` text for one worklist item (Patient and Scheduled Procedure Step)."""
    lines = [
        "(0008,0005) CS [ISO_IR 100]",
        f"(0008,0050) SH [{entry.get('accession', '')}]",
        f"(0010,0010) PN [{entry['name']}]",
        f"(0010,0020) LO [{entry['patient_id']}]",
        f"(0010,0021) LO [{entry.get('issuer', '')}]",
        f"(0010,0030) DA [{entry['birth_date']}]",
        f"(0010,0040) CS [{entry.get('sex', '')}]",
        f"(0020,000d) UI [{entry.get('study_uid', '1.2.3.4')}]",
        f"(0032,1060) LO [{entry.get('procedure', 'Import of outside images')}]",
        "(0040,0100) SQ",
        "(fffe,e000) -",
        "(0008,0060) CS [OT]",
        "(0040,0001) AE [IMPORT]",
        "(0040,0002) DA [20240401]",
        "(0040,0003) TM [080000]",
        "(0040,0009) SH [SPS1]",
        "(fffe,e00d) -",
        "(fffe,e0dd) -",
        f"(0040,1001) SH [{entry.get('requested_procedure', 'RP1')}]",
    ]
    return "\n".join(lines) + "\n"


@dataclass
class Worklist:
    """``wlmscpfs`` answering for AE title :data:`WORKLIST_AET` from ``entries``."""

    folder: Path
    entries: Sequence[dict[str, str]]
    port: int = field(default_factory=reserve_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def peer(self) -> str:
        return f"{WORKLIST_AET}@{LOCALHOST}:{self.port}"

    def start(self) -> Self:
        base = self.folder / "wlm"
        db = base / WORKLIST_AET
        db.mkdir(parents=True, exist_ok=True)
        (db / "lockfile").write_bytes(b"")
        for n, entry in enumerate(self.entries):
            dump = db / f"item{n}.dump"
            dump.write_text(worklist_dump(entry), encoding="latin-1")
            subprocess.run(
                [dcmtk("dump2dcm"), "-g", str(dump), str(db / f"item{n}.wl")],
                check=True,
                capture_output=True,
                timeout=30,
                env=_env(),
            )
        cmd = [dcmtk("wlmscpfs"), "--single-process", "-dfr", "-dfp", str(base), str(self.port)]
        log = (self.folder / "wlmscpfs.log").open("wb")
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=_env())
        log.close()
        wait_port(self.port, START_TIMEOUT, self.proc)
        return self

    def stop(self) -> None:
        if self.proc is not None:
            _stop(self.proc)
            self.proc = None


# --------------------------------------------------------------------------------------------
# A misbehaving Storage SCP (pynetdicom, in this process)
# --------------------------------------------------------------------------------------------


class AbortingPeer:
    """Storage SCP that sends A-ABORT on receiving C-STORE number ``abort_after + 1`` of an
    association, ``times`` times in all; after that it stores normally. With ``vanish`` it also
    closes its port at the first abort (the PACS is gone). It rejects an association beyond
    ``max_associations`` at once (A-ASSOCIATE-RJ, local limit exceeded)."""

    aet = "FLAKY"

    def __init__(
        self,
        abort_after: int,
        times: int = 1,
        vanish: bool = False,
        port: int = 0,
        max_associations: int = 10,
    ) -> None:
        self.max_associations = max_associations  # more at once are rejected (transient)
        self.received: list[str] = []  # SOP Instance UID of every C-STORE, in order
        self.abort_after = abort_after
        self.times = times
        self.vanish = vanish
        self.port = port or reserve_port()  # a restart reuses it
        self.stored: dict[str, Dataset] = {}
        self.aborts = 0
        self.associations = 0
        self._lock = threading.Lock()
        self._counts: dict[int, int] = {}
        self._server: Any = None

    @property
    def peer(self) -> str:
        return f"{self.aet}@{LOCALHOST}:{self.port}"

    def _on_store(self, event: Any) -> int:
        with self._lock:
            key = id(event.assoc)
            self._counts[key] = self._counts.get(key, 0) + 1
            abort = self._counts[key] > self.abort_after and self.aborts < self.times
            if abort:
                self.aborts += 1
        if abort:
            event.assoc.abort()
            if self.vanish:
                threading.Thread(target=self.stop, daemon=True).start()
            return 0xA700
        ds = event.dataset
        ds.file_meta = event.file_meta
        with self._lock:
            self.stored[str(ds.SOPInstanceUID)] = ds
            self.received.append(str(ds.SOPInstanceUID))
        return 0x0000

    def _on_open(self, event: Any) -> None:
        with self._lock:
            self.associations += 1

    def start(self) -> Self:
        ae = AE(ae_title=self.aet)
        ae.supported_contexts = AllStoragePresentationContexts
        ae.add_supported_context(Verification)
        ae.network_timeout = 10
        ae.dimse_timeout = 10
        ae.maximum_associations = self.max_associations
        ae.acse_timeout = 0.1  # a connection closed before its request is let go soon
        handlers: list[evt.EventHandlerType] = [
            (evt.EVT_C_STORE, self._on_store),
            (evt.EVT_ESTABLISHED, self._on_open),
        ]
        self._server = ae.start_server((LOCALHOST, self.port), block=False, evt_handlers=handlers)
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()


@contextlib.contextmanager
def running(peer: Any) -> Iterator[Any]:
    """Start a peer, yield it, always stop it."""
    try:
        yield peer.start()
    finally:
        peer.stop()


# --------------------------------------------------------------------------------------------
# Media for the import tests
# --------------------------------------------------------------------------------------------


def build_fileset(source: Path, out: Path, *extra: str) -> Path:
    """``mediatool build SOURCE --out OUT --no-web`` in this process; returns OUT."""
    from click.testing import CliRunner

    from mediatool.cli import main

    result = CliRunner().invoke(
        main, ["build", str(source), "--out", str(out), "--no-web", "-q", "--jobs", "1", *extra]
    )
    assert result.exit_code == 0, result.output
    return out


def tree_digest(root: Path) -> dict[str, str]:
    """sha256 of every file below ``root`` (to prove the media was not modified)."""
    import hashlib

    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }
