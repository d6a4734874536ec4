"""Benchmark: the station's pages under load while an import runs (issue 14).

Run:  python3 benchmarks/bench_station.py [--work DIR] [--clients 20] [--seconds 20]
                                          [--instances 600]

A real ``mediatool serve`` (its own process, SQLite job store) with a real Orthanc as its PACS.
An import job of a ``--instances`` disc (built by mediatool from synthetic CT, no web content)
is queued as the reception desk queues it; while it runs, ``--clients`` signed-in clients
(threads, one HTTP connection each, like browsers) loop over what the desks do all day:
list the history (``/history``), poll the running job (``/jobs/N/state``), open the job's page
(``/jobs/N``) and the start page (``/``). Every response time is recorded; the figures are
p50, p95 and max per page and overall, requests per second, and whether the import ended with
every instance at the PACS. Target (issue 14): p95 under 300 ms.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

from _common import generate  # noqa: E402
from pacs_peers import Orthanc, build_fileset  # noqa: E402
from station_peers import StationServer, wait_job  # noqa: E402

from mediatool.station.store import Store  # noqa: E402

TARGET_P95_MS = 300.0


def _config(work: Path, orthanc: Orthanc) -> Path:
    path = work / "station.toml"
    path.write_text(
        f'[station]\nae_title = "{orthanc.scu_aet}"\nworkers = 2\n'
        f'[[nodes]]\nname = "PACS1"\nrole = "pacs"\naddress = "{orthanc.peer}"\n'
        f"[import]\ncommit = false\n"
    )
    return path


def _queue_import(server: StationServer, disc: Path, orthanc: Orthanc) -> int:
    """The job the reception desk queues (kinds.md: the import kind's params)."""
    store = Store(f"sqlite:///{(server.data / 'station.db').resolve()}")
    return store.add_job(
        kind="import", title=f"Import {disc.name} -> PACS1", user_name="admin",
        patient_id="", patient_name="",
        params={
            "media": str(disc), "pacs": orthanc.peer, "calling_aet": orthanc.scu_aet,
            "timeout": 30, "commit": False, "listen_port": 0,
            "state_folder": str(server.data / "import-state"), "studies": [],
            "identities": {}, "accession": None, "no_pacs_check": False,
        },
    )  # fmt: skip


def _client_loop(
    server: StationServer, job_id: int, stop: threading.Event, out: dict[str, list[float]]
) -> None:
    pages = ["/history", f"/jobs/{job_id}/state", f"/jobs/{job_id}", "/"]
    with server.client("admin") as c:
        n = 0
        while not stop.is_set():
            path = pages[n % len(pages)]
            n += 1
            t0 = time.perf_counter()
            r = c.get(path)
            elapsed = (time.perf_counter() - t0) * 1000
            if r.status_code != 200:
                out.setdefault("errors", []).append(float(r.status_code))
                continue
            key = path.split("/")[1] or "home"
            key = "job state" if path.endswith("/state") else ("job page" if key == "jobs" else key)
            out.setdefault(key, []).append(elapsed)


def _p(values: list[float], q: float) -> float:
    return (
        statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]
        if len(values) > 1
        else values[0]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", type=Path)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--instances", type=int, default=600)
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-station-"))
    disc = build_fileset(generate(work / "src", args.instances, 50), work / "disc")
    orthanc = Orthanc(work / "orthanc")
    orthanc.folder.mkdir(parents=True, exist_ok=True)
    orthanc.start()
    server = StationServer(work / "data", config=_config(work, orthanc))
    server.add_user("admin", "admin")
    server.start()
    try:
        job_id = _queue_import(server, disc, orthanc)
        stop = threading.Event()
        results: list[dict[str, list[float]]] = [{} for _ in range(args.clients)]
        threads = [
            threading.Thread(target=_client_loop, args=(server, job_id, stop, results[i]))
            for i in range(args.clients)
        ]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        time.sleep(args.seconds)
        stop.set()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
        with server.client("admin") as c:
            final = wait_job(c, job_id, timeout=600)
        running_during = final.get("state")
        merged: dict[str, list[float]] = {}
        for r in results:
            for k, v in r.items():
                merged.setdefault(k, []).extend(v)
        errors = merged.pop("errors", [])
        every = [x for v in merged.values() for x in v]
        print(
            f"station under load: {args.clients} clients for {args.seconds:.0f} s while an import "
            f"of {args.instances} instances runs (2 job workers, SQLite)"
        )
        print(f"{'page':<12} {'requests':>9} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
        for k in sorted(merged):
            v = merged[k]
            print(f"{k:<12} {len(v):>9} {_p(v, 50):>8.1f} {_p(v, 95):>8.1f} {max(v):>8.1f}")
        p95 = _p(every, 95)
        print(f"{'all':<12} {len(every):>9} {_p(every, 50):>8.1f} {p95:>8.1f} {max(every):>8.1f}")
        print(
            f"requests/s {len(every) / wall:.0f}; errors {len(errors)}; import {running_during}; "
            f"Orthanc holds {len(orthanc.sop_uids())} instances"
        )
        print(
            f"p95 {p95:.1f} ms vs target {TARGET_P95_MS:.0f} ms: "
            f"{'met' if p95 < TARGET_P95_MS else 'NOT met'}"
        )
        return 0 if p95 < TARGET_P95_MS and not errors else 1
    finally:
        server.stop()
        orthanc.stop()


if __name__ == "__main__":
    sys.exit(main())
