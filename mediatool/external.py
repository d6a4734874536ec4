"""Run the Debian tools that write and read the file systems pycdlib cannot (dosfstools, mtools,
genisoimage): a clear error naming the package when one is missing, and the tool's own words
when it fails (exit 2), never a traceback."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from typing import Final

from mediatool.errors import OutputError

#: tool -> the Debian package that has it (scripts/test.sh installs the same ones)
PACKAGES: Final[Mapping[str, str]] = {
    "mkfs.fat": "dosfstools",
    "fsck.fat": "dosfstools",
    "mcopy": "mtools",
    "mdir": "mtools",
    "genisoimage": "genisoimage",
    "faketime": "faketime",  # genisoimage at the build's date (writers/udf.py)
}
#: mtools reads no user or system configuration and does not refuse an image whose geometry
#: it cannot check (an unpartitioned image has none)
MTOOLS_ENV: Final[Mapping[str, str]] = {"MTOOLSRC": os.devnull, "MTOOLS_SKIP_CHECK": "1"}


def find(tool: str) -> str:
    """The path of ``tool``; :class:`OutputError` naming the package to install when missing."""
    found = shutil.which(tool) or shutil.which(tool, path="/usr/sbin:/sbin")
    if found is None:
        package = PACKAGES.get(tool, tool)
        raise OutputError(
            f"{tool} is not installed", hint=f"install {package} (Debian: apt install {package})"
        )
    return found


def run(args: Sequence[str], what: str, *, env: Mapping[str, str] | None = None) -> str:
    """Run ``args`` (the first is looked up with :func:`find`); its stdout, or
    :class:`OutputError` saying ``what`` failed with the tool's own last lines."""
    argv = [find(args[0]), *args[1:]]
    environment = {**os.environ, "LC_ALL": "C", **(env or {})}
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, errors="replace", env=environment, check=False
        )
    except OSError as exc:
        raise OutputError(f"{what} failed: {args[0]}: {exc.strerror}") from exc
    if done.returncode != 0:
        said = " ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
        raise OutputError(f"{what} failed ({args[0]} exit {done.returncode}): {said}")
    return done.stdout
