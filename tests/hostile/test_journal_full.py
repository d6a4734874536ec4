"""Issue 12: the ``--state`` folder full during ``import --to-pacs`` (a tmpfs filled to the last
page; tests run as root, as CI does) is a clear error naming the folder, exit 2, with the
accounting so far printed, and ``--json`` still prints its one document."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from factories import make_instance, write_instance
from hostile_media import mediatool
from pacs_peers import Storescp, running

pytestmark = pytest.mark.oracle

FAST = ["--timeout", "5", "--retries", "1", "--retry-delay", "0.05", "--associations", "1"]


@pytest.fixture
def full_state(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs with no free byte left."""
    state = tmp_path / "state"
    state.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(state)], check=True)
    try:
        with (state / "filler").open("wb", buffering=0) as out:
            try:
                while True:
                    out.write(b"\0" * 4096)
            except OSError:
                pass
        yield state
    finally:
        subprocess.run(["umount", str(state)], check=True)


def _media(root: Path, n: int) -> Path:
    for i in range(1, n + 1):
        write_instance(root / f"im{i}.dcm", make_instance(1, 1, 1, i))
    return root


@pytest.mark.parametrize("as_json", [True, False])
def test_a_full_state_folder_stops_with_a_clear_error_and_the_accounting(
    as_json: bool, tmp_path: Path, full_state: Path
) -> None:
    media = _media(tmp_path / "media", 5)
    with running(Storescp(tmp_path / "scp")) as scp:
        done = mediatool(
            "import", media, "--to-pacs", scp.peer, "--state", full_state, *FAST, "--no-pacs-check",
            *(["--json"] if as_json else []),
        )  # fmt: skip
        received = len(scp.files())
    assert done.returncode == 2, done.stderr
    assert "Internal error" not in done.stderr
    assert (
        f"Error: cannot write the import journal in the state folder {str(full_state)!r}: "
        "No space left on device"
    ) in done.stderr
    assert "Hint: free space there, or give another folder with --state DIR" in done.stderr
    if not as_json:
        assert "imported: 1" in done.stdout and "NOT imported: 4" in done.stdout
        return
    report = json.loads(done.stdout)  # one document, also on exit 2
    summary = report["summary"]
    assert (summary["imported"], summary["not_imported"], summary["files"]) == (1, 4, 5)
    assert received == 1  # what the accounting says the PACS has, it has
    assert report["error"].startswith("cannot write the import journal")
    reasons = {o["code"] for o in report["files"] if o["outcome"] == "not-imported"}
    assert reasons == {"import.interrupted"}
