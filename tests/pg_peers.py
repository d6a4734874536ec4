"""A real PostgreSQL for the tests: Debian's server binaries (package ``postgresql``), a cluster
in a temporary folder, its own port (:func:`ports.reserve_port`) and unix socket folder, trust
authentication for local connections, stopped at the end.

Debian keeps ``initdb``/``pg_ctl`` in ``/usr/lib/postgresql/<version>/bin`` (not on PATH): they
are looked for there too. PostgreSQL refuses to run as root: as root the cluster belongs to
``nobody`` and its commands run through ``runuser`` (CI runs as root). A missing PostgreSQL fails
the test (it is an oracle, not an option).
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Self

from ports import LOCALHOST, reserve_port

USER: Final = "nobody"  # the cluster's owner when the tests run as root
_names = itertools.count(1)


def pg_bin(tool: str) -> str:
    """``initdb``/``pg_ctl``: on PATH, else the newest /usr/lib/postgresql/<v>/bin."""
    found = shutil.which(tool)
    if found:
        return found
    versions = sorted(
        Path("/usr/lib/postgresql").glob(f"*/bin/{tool}"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    assert versions, f"{tool} is missing: apt-get install postgresql (scripts/test.sh does)"
    return str(versions[-1])


def _as_owner(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    runuser = shutil.which("runuser") or "/usr/sbin/runuser"
    return [runuser, "-u", USER, "--", *command]


@dataclass
class Postgres:
    """``Postgres().start()``; :meth:`database` makes an empty database and gives its URL."""

    port: int = field(default_factory=reserve_port)
    folder: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="mediatool-pg-")))

    @property
    def cluster(self) -> Path:
        return self.folder / "cluster"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{USER}@{LOCALHOST}:{self.port}/{database}"

    def _run(self, *command: str) -> None:
        done = subprocess.run(
            _as_owner(list(command)), capture_output=True, text=True, timeout=120, cwd="/"
        )
        assert done.returncode == 0, f"{command[0]} failed: {done.stdout}{done.stderr}"

    def start(self) -> Self:
        self.folder.chmod(0o755)
        if os.geteuid() == 0:
            shutil.chown(self.folder, USER)
        self._run(
            pg_bin("initdb"), "-D", str(self.cluster), "-U", USER, "--auth=trust",
            "--encoding=UTF8", "--locale=C", "--no-sync",
        )  # fmt: skip
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses={LOCALHOST} -c fsync=off "
            "-c max_connections=200 -c full_page_writes=off"
        )
        log = self.folder / "server.log"
        self._run(pg_bin("pg_ctl"), "-D", str(self.cluster), "-o", options, "-l", str(log),
                  "-w", "-t", "60", "start")  # fmt: skip
        return self

    def stop(self) -> None:
        if self.cluster.exists():
            subprocess.run(
                _as_owner([pg_bin("pg_ctl"), "-D", str(self.cluster), "-m", "immediate", "stop"]),
                capture_output=True, timeout=60, cwd="/",
            )  # fmt: skip
        shutil.rmtree(self.folder, ignore_errors=True)

    def database(self, prefix: str = "t") -> str:
        """A new empty database; its URL."""
        import psycopg

        name = f"{prefix}_{os.getpid()}_{next(_names)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)
