"""``mediatool serve --demo``: the station on the bundled sample, in one command.

In the data folder it makes (once) a sample patient disc (``mediatool sample`` then a build, as
``mediatool demo`` does) and offers it as a drive at the reception desk and at QA; when Orthanc
is installed (Debian: ``orthanc``) it starts one on 127.0.0.1 with its storage in the data
folder, loads the sample's studies into it (for the burn desk to find) and configures it as the
PACS, with Storage Commitment back to the station. It creates an administrator ``demo`` with a
random password kept in the data folder (mode 0600) and printed at each start. No worklist is
started (the reception desk then says none is configured and takes a typed local ID).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Final

from mediatool.errors import MediatoolError
from mediatool.station import auth
from mediatool.station.config import Drive, Node, StationConfig
from mediatool.station.store import Store

Say = Callable[[str], None]
DEMO_USER: Final = "demo"
ORTHANC_AET: Final = "ORTHANC"


def _free_port() -> int:
    # a port for a peer started once, here, by a person (not a test): the small race of
    # closing and re-binding does not matter
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _disc(folder: Path, say: Say) -> Path:
    """The sample disc (made on the first start)."""
    from mediatool import build, profiles
    from mediatool.sample import generate_sample

    disc = folder / "disc"
    if (disc / "DICOMDIR").is_file():
        return disc
    say("Making the sample disc (first start only)...")
    incoming = folder / "incoming"
    shutil.rmtree(incoming, ignore_errors=True)
    generate_sample(incoming, instances=40)
    request = build.BuildRequest(
        sources=(str(incoming),), out=disc, profile=profiles.load(profiles.DEFAULT_PROFILE),
        fileset_id="MEDIATOOL_DEMO", force=True,
    )  # fmt: skip
    build.run(request, None)
    return disc


def _account(store: Store, folder: Path) -> str:
    """The demo administrator's password (created with the account on the first start)."""
    path = folder / "demo-password.txt"
    if auth.count_users(store) and path.is_file():
        return path.read_text(encoding="utf-8").strip()
    password = secrets.token_urlsafe(12)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(password + "\n")
    if any(u["name"] == DEMO_USER for u in auth.list_users(store)):
        auth.set_password(store, DEMO_USER, password)
    else:
        auth.add_user(store, DEMO_USER, "admin", password)
    return password


def _orthanc_config(folder: Path, dicom: int, http: int, config: StationConfig) -> Path:
    storage = folder / "orthanc"
    storage.mkdir(parents=True, exist_ok=True)
    path = folder / "orthanc.json"
    path.write_text(
        json.dumps(
            {
                "Name": "mediatool-demo", "DicomAet": ORTHANC_AET, "DicomPort": dicom,
                "HttpPort": http, "StorageDirectory": str(storage),
                "IndexDirectory": str(storage), "RemoteAccessAllowed": False,
                "AuthenticationEnabled": False, "Plugins": [], "DicomAlwaysAllowStore": True,
                "DicomAlwaysAllowEcho": True, "DicomAlwaysAllowFind": True,
                "DicomAlwaysAllowMove": True, "DicomAlwaysAllowGet": True,
                "DicomModalities": {
                    "station": {
                        "AET": config.ae_title, "Host": "127.0.0.1", "Port": config.listen_port,
                        "AllowStorageCommitment": True,
                    }
                },
            },
            indent=2,
        )
    )  # fmt: skip
    return path


def _wait(port: int, process: subprocess.Popen[bytes], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise MediatoolError("Orthanc stopped at once; see orthanc.log in the demo folder")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return
        time.sleep(0.2)
    raise MediatoolError("Orthanc did not start in 30 seconds")


@contextlib.contextmanager
def _orthanc(folder: Path, config: StationConfig, say: Say) -> Iterator[Node | None]:
    binary = shutil.which("Orthanc")
    if binary is None:
        say("Orthanc is not installed: the demo runs without a PACS (apt-get install orthanc).")
        yield None
        return
    dicom, http = _free_port(), _free_port()
    path = _orthanc_config(folder, dicom, http, config)
    with (folder / "orthanc.log").open("ab") as log:
        process = subprocess.Popen([binary, str(path)], stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait(dicom, process)
        say(f"Orthanc (the demo's PACS): {ORTHANC_AET}@127.0.0.1:{dicom}, http://127.0.0.1:{http}/")
        yield Node("ORTHANC", "pacs", f"{ORTHANC_AET}@127.0.0.1:{dicom}")
    finally:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(10)


def _load_pacs(disc: Path, node: Node, config: StationConfig) -> None:
    """The sample's studies into the demo PACS (once: the importer's journal skips the rest)."""
    from mediatool.importer import PacsTarget, RunOptions, import_media
    from mediatool.media import open_media
    from mediatool.net.association import Network, parse_peer

    net = Network(calling_aet=config.ae_title, timeout=30)
    target = PacsTarget(parse_peer(node.address), net, config.data / "demo" / "load-state")
    with open_media(str(disc)) as reader:
        import_media(reader, target, options=RunOptions(source="demo"))


@contextlib.contextmanager
def demo(config: StationConfig, store: Store, say: Say) -> Iterator[StationConfig]:
    """The demo's configuration while it runs (Orthanc stopped at the end)."""
    folder = config.data / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    disc = _disc(folder, say)
    password = _account(store, folder)
    drives = (*config.drives, Drive("Sample disc", str(disc)))
    with _orthanc(folder, config, say) as node:
        nodes = config.nodes
        if node is not None:
            _load_pacs(disc, node, config)
            nodes = (*nodes, node)
        say(f"Sign in as {DEMO_USER!r} with the password {password!r} (kept in {folder}).")
        yield replace(config, drives=drives, nodes=nodes)
