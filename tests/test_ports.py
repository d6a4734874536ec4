"""The port helper of the test peers: no two test processes get the same port, and the kernel
cannot hand it to anyone else (issue 13)."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

from ports import LOCALHOST, bound_port, ephemeral_range, port_range, reserve_port

HERE = Path(__file__).resolve().parent
_CHILD = (
    "import sys; sys.path.insert(0, sys.argv[1]); from ports import reserve_port;"
    "print(' '.join(str(reserve_port()) for _ in range(40)), flush=True); sys.stdin.read()"
)


def test_reserved_ports_are_free_distinct_and_never_ephemeral() -> None:
    ports = [reserve_port() for _ in range(40)]
    assert len(set(ports)) == len(ports)
    assert not set(ports) & set(ephemeral_range())
    assert set(ports) <= set(port_range())
    for port in ports[:5]:  # free: a server can listen there
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((LOCALHOST, port))
            s.listen(1)


def test_processes_running_at_once_never_share_a_port() -> None:
    mine = {reserve_port() for _ in range(40)}
    children = [
        subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(HERE)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    try:
        got = [set(map(int, child.stdout.readline().split())) for child in children if child.stdout]
    finally:
        for child in children:
            child.communicate("", timeout=30)
    assert [len(ports) for ports in got] == [40] * 4
    everything = [mine, *got]
    assert len(set().union(*everything)) == sum(map(len, everything))


def test_a_server_on_port_0_reports_the_port_it_got() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOCALHOST, 0))
        s.listen(1)
        port = bound_port(s)
        with socket.create_connection((LOCALHOST, port), 2):
            pass
