"""The station as the tests run it: a real ``mediatool serve`` process on a reserved port, its
accounts made with ``mediatool users add``, and Debian's chromium driven by Playwright.

No browser download: Playwright launches ``/usr/bin/chromium`` (the Debian package). A missing
chromium or Playwright fails the test (it is an oracle, not an option).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Self

import httpx
from pacs_peers import wait_port
from ports import LOCALHOST, reserve_port

if TYPE_CHECKING:
    from playwright.sync_api import Page

CHROMIUM: Final = "/usr/bin/chromium"
PASSWORD: Final = "station-test-password"
START_TIMEOUT: Final = 30.0


def chromium() -> str:
    path = shutil.which("chromium") or (CHROMIUM if Path(CHROMIUM).exists() else None)
    assert path, "chromium is missing: apt-get install chromium (scripts/test.sh does)"
    return path


def _env() -> dict[str, str]:
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    return env


def mediatool(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mediatool", *args], input=stdin, capture_output=True,
        text=True, timeout=120, env=_env(),
    )  # fmt: skip


class Client(httpx.Client):
    """An httpx client that may be used in ``with`` after it signed in (closed at the end)."""

    def __enter__(self) -> Self:
        return self


@dataclass
class StationServer:
    """``mediatool serve --data DATA --port PORT [--config FILE]`` in its own process."""

    data: Path
    config: Path | None = None
    port: int = field(default_factory=reserve_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{LOCALHOST}:{self.port}"

    @property
    def log(self) -> Path:
        return self.data.parent / f"{self.data.name}-serve.log"

    def add_user(self, name: str, role: str, password: str = PASSWORD) -> None:
        args = ["users", "add", name, "--role", role, "--password-stdin", "--data", str(self.data)]
        if self.config is not None:
            args += ["--config", str(self.config)]
        done = mediatool(*args, stdin=password + "\n")
        assert done.returncode == 0, done.stderr

    def start(self) -> Self:
        command = [sys.executable, "-m", "mediatool", "serve", "--data", str(self.data)]
        command += ["--port", str(self.port)]
        if self.config is not None:
            command += ["--config", str(self.config)]
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, env=_env(), start_new_session=True
            )
        wait_port(self.port, START_TIMEOUT, self.proc)
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None

    def kill(self) -> None:
        """SIGKILL the server alone (its job workers notice and stop)."""
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait()
        self.proc = None

    def client(self, name: str | None = None, password: str = PASSWORD, **kw: Any) -> Client:
        """An HTTP client, signed in as ``name`` when given (use it in ``with``)."""
        c = Client(base_url=self.url, follow_redirects=True, timeout=30, **kw)
        if name is not None:
            page = c.get("/login")
            r = c.post(
                "/login",
                data={"name": name, "password": password, "csrf": csrf_of(page.text), "next": "/"},
            )
            assert r.status_code == 200 and "/login" not in str(r.url), r.text[-500:]
        return c


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def sign_in(page: Page, server: StationServer, name: str, password: str = PASSWORD) -> None:
    page.goto(server.url + "/login")
    page.locator("#name").fill(name)
    page.locator("#password").fill(password)
    page.locator("form[action='/login'] button[type=submit]").click()
    page.wait_for_url(re.compile(r"^(?!.*/login).*$"))


def wait_job(client: httpx.Client, job_id: int, timeout: float = 120.0) -> dict[str, Any]:
    """The job's state once it ends (done, failed, cancelled)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state: dict[str, Any] = client.get(f"/jobs/{job_id}/state").json()
        if state["final"]:
            return state
        time.sleep(0.3)
    raise TimeoutError(f"job {job_id} did not end in {timeout} s")
