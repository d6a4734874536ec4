"""TCP ports for the test peers that cannot race (issue 13).

Binding port 0, reading the number and closing the socket (the old ``free_port``) leaves a gap in
which anything else may take the port: the kernel hands the same number to the next ``bind`` to
port 0 or to an outgoing connection, and parallel test runs do both all the time.

* A peer in this process (a pynetdicom SCP, a plain socket) binds port 0 itself and reports the
  port it got: :func:`bound_port`.
* A peer that needs its port in a configuration before it starts (Orthanc, storescp, wlmscpfs,
  our C-MOVE listener, "nobody listens here") gets one from :func:`reserve_port`: a port below
  the kernel's ephemeral range (``net.ipv4.ip_local_port_range``), which no port-0 bind and no
  outgoing connection can be given, guarded by an ``flock``'d file per port that this process
  holds until it exits, so two test processes never get the same one, and a process never gets
  one twice. The port is also checked free at the time it is handed out.
"""

from __future__ import annotations

import fcntl
import os
import random
import socket
import tempfile
from pathlib import Path
from typing import Any, Final

LOCALHOST: Final = "127.0.0.1"
LOCK_DIR: Final = Path(tempfile.gettempdir()) / "mediatool-test-ports"
_FLOOR: Final = 20000
_held: dict[int, int] = {}  # port -> open file descriptor of its lock file
_rng = random.Random()  # its own: the tests' seeds of the global generator stay untouched


def ephemeral_range() -> range:
    """The ports the kernel hands out for port 0 and outgoing connections."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return range(int(low), int(high) + 1)
    except (OSError, ValueError):
        return range(32768, 61000)  # Linux's default


def port_range() -> range:
    """Where :func:`reserve_port` takes its ports: below the ephemeral range."""
    top = ephemeral_range().start
    return range(_FLOOR, top) if top - _FLOOR >= 1000 else range(10000, 20000)


def _lock(port: int) -> int | None:
    """The descriptor of ``port``'s lock file, locked by this process, or None if another
    process holds it."""
    LOCK_DIR.mkdir(mode=0o777, exist_ok=True)
    fd = os.open(LOCK_DIR / f"{port}.lock", os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((LOCALHOST, port))
        except OSError:
            return False
    return True


def reserve_port() -> int:
    """A TCP port on 127.0.0.1 that is free now and that no other test process gets."""
    ports = port_range()
    start = _rng.randrange(len(ports))
    for i in range(len(ports)):
        port = ports[(start + i) % len(ports)]
        if port in _held:
            continue
        fd = _lock(port)
        if fd is None:
            continue
        if _bindable(port):
            _held[port] = fd
            return port
        os.close(fd)  # something outside the tests listens there: leave it
    raise RuntimeError(f"no free port left in {ports.start}-{ports.stop - 1}")


def bound_port(server: Any) -> int:
    """The port a server bound to port 0 got (a socket, or a ``socketserver`` such as the one
    pynetdicom's ``AE.start_server`` returns)."""
    if isinstance(server, socket.socket):
        return int(server.getsockname()[1])
    return int(server.server_address[1])
