"""Start the station: check the configuration and the data folder, say where it listens and
what to do first, and run the application under uvicorn."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from pathlib import Path

from mediatool.errors import MediatoolError
from mediatool.station import auth
from mediatool.station.config import SAVED, StationConfig
from mediatool.station.datafolder import prepare_data
from mediatool.station.store import Store

Say = Callable[[str], None]


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_tls(config: StationConfig) -> None:
    for what, path in (("certificate", config.tls_certificate), ("key", config.tls_key)):
        if path is not None and not path.is_file():
            raise MediatoolError(
                f"the TLS {what} {str(path)!r} does not exist",
                hint="fix [tls] in the configuration file",
            )


def address(config: StationConfig) -> str:
    """The address people type: for "every interface" (0.0.0.0, ::), this computer's name."""
    import socket

    scheme = "https" if config.tls else "http"
    host = socket.gethostname() if config.host in ("0.0.0.0", "::") else config.host
    host = f"[{host}]" if ":" in host else host
    return f"{scheme}://{host}:{config.port}/"


def _local(config: StationConfig) -> str:
    scheme = "https" if config.tls else "http"
    return f"{scheme}://127.0.0.1:{config.port}/"


def announce(config: StationConfig, store: Store, say: Say, data_option: str) -> None:
    """What a person needs to read when the station starts."""
    say(f"mediatool station: {address(config)}  (data: {config.data})")
    if config.database:
        from mediatool.station.store import shown

        say(f"Job store: {shown(config.database)} (shared with the stations that use it)")
    if not is_loopback(config.host) and not config.tls:
        say(
            f"Warning: listening on {config.host} without TLS: passwords and patient data "
            "cross the network in clear. Configure [tls] certificate and key."
        )
    if auth.count_users(store) == 0:
        say(
            "No accounts yet. Create the first administrator on this computer at "
            f"{_local(config)}first-run, or with:\n"
            f"  mediatool users add NAME --role admin --password-stdin{data_option}"
        )
    say(node_line(config))
    if node_open(config):
        say(
            "Warning: the DICOM node takes instances from any calling AE title on the network "
            "(they fill the disk down to [node] reserve_mb): name the PACS in [node] accept."
        )
    if not config.nodes_of("pacs"):
        say("No PACS configured yet: an administrator adds one on the Administration page.")


def node_open(config: StationConfig) -> bool:
    """The node listens beyond this computer and accepts any calling AE title."""
    host = config.dicom_host or config.host
    return bool(config.dicom_port) and not is_loopback(host) and not config.accepted_callers()


def node_line(config: StationConfig) -> str:
    """The DICOM node in one line: where a PACS sends to, and whom it accepts."""
    if not config.dicom_port:
        return "DICOM node: off (give it a port: --dicom-port N or [node] port)"
    callers = config.accepted_callers()
    if config.accept:
        who = "calling AE titles " + ", ".join(callers) + " ([node] accept)"
    elif callers:
        who = "calling AE titles " + ", ".join(callers) + " (the configured nodes; [node] accept)"
    else:
        who = "any calling AE title (to choose: [node] accept)"
    host = config.dicom_host or config.host
    if host in ("0.0.0.0", "::"):  # what a PACS is given: this computer's name
        import socket

        host = f"{socket.gethostname()} (every interface)"
    elif is_loopback(host):
        host += " (this computer only: [node] host)"
    return (
        f"DICOM node: AE title {config.ae_title} on {host} port {config.dicom_port} (C-ECHO, "
        f"C-STORE into the inbox, Media Creation Management), accepting {who}"
    )


def run(config: StationConfig, say: Say, data_option: str = "", demo: bool = False) -> None:
    """Serve until interrupted (Ctrl+C); ``demo``: on the bundled sample (:mod:`.demo`)."""
    check_tls(config)
    store = prepare_data(config)
    if not demo:
        _serve(config, store, say, data_option)
        return
    from mediatool.station.demo import demo as demo_setup

    with demo_setup(config, store, say) as demo_config:
        _serve(demo_config, store, say, data_option)


def _serve(config: StationConfig, store: Store, say: Say, data_option: str) -> None:
    import uvicorn

    from mediatool.station.app import create_app
    from mediatool.station.node import scp

    app = create_app(config, store)
    node = scp.start(config, store)
    announce(config, store, say, data_option)
    try:
        uvicorn.run(
            app,
            host=config.host,
            port=config.port,
            log_level="warning",
            ssl_certfile=str(config.tls_certificate) if config.tls else None,
            ssl_keyfile=str(config.tls_key) if config.tls else None,
            timeout_graceful_shutdown=5,
        )
    finally:
        if node is not None:
            node.stop()


def data_of(
    config_path: Path | None, data: Path | None, database: str | None = None
) -> StationConfig:
    """The configuration to use: the file's (or, without --config, the one the administration
    page saved in the data folder, else the defaults), the data folder from --data, the job
    store from --database."""
    from mediatool.station import config as cfg

    if config_path is None:
        saved = (data if data is not None else cfg.DEFAULT.data) / SAVED
        config_path = saved if saved.is_file() else None
    base = cfg.load(config_path) if config_path is not None else cfg.DEFAULT
    if database is not None:
        database = cfg.check_database(database, "--database")
    return cfg.merge(base, data=data, database=database)
