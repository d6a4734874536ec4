"""``mediatool serve``: the media station (a web application for the desks) and
``mediatool users``: its accounts. Both need the optional extra ``mediatool[station]``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from mediatool.cli.errors import handle_errors
from mediatool.errors import MediatoolError

STATION_MODULES = ("starlette", "uvicorn", "sqlalchemy", "argon2", "babel", "multipart")


def _need_station() -> None:
    import importlib.util

    missing = [m for m in STATION_MODULES if importlib.util.find_spec(m) is None]
    if missing:
        raise MediatoolError(
            f"the station needs Python packages that are not installed: {', '.join(missing)}",
            hint="install them with: python3 -m pip install 'mediatool[station]'",
        )


def _say(text: str) -> None:
    click.echo(text, err=True)


config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The station's TOML configuration (nodes, site, media, drives, data folder).",
)
data_option = click.option(
    "--data",
    type=click.Path(file_okay=False, path_type=Path),
    help="The data folder (job store, uploads, discs made). Default: the configuration's, "
    "else ./mediatool-data.",
)

database_option = click.option(
    "--database",
    metavar="URL",
    help="The job store: postgresql://USER:PASSWORD@HOST:PORT/DATABASE for several stations "
    "sharing one queue. Default: the configuration's, else SQLite in the data folder.",
)

password_stdin_option = click.option(
    "--password-stdin", is_flag=True, help="Read the password from the first line of stdin."
)


@click.command("serve")
@config_option
@data_option
@database_option
@click.option("--host", help="Address to listen on (default 127.0.0.1: this computer only).")
@click.option("--port", type=click.IntRange(1, 65535), help="Port to listen on (default 8080).")
@click.option(
    "--ae-title",
    help="The station's AE title (default MEDIATOOL): calling AE to the PACS, "
    "called AE of its DICOM node.",
)
@click.option(
    "--dicom-port",
    type=click.IntRange(1, 65535),
    help="Run the DICOM node on this port: C-ECHO, C-STORE into the burn desk's inbox, "
    "Media Creation Management (default: [node] port; none: no node).",
)
@click.option(
    "--demo",
    is_flag=True,
    help="Run on the bundled sample: a sample disc as a drive, a local Orthanc as the PACS when "
    "one is installed, and an administrator 'demo' (its password is printed). Data default: "
    "./mediatool-station-demo.",
)
def serve(  # noqa: PLR0913 - a click command: one parameter per option
    config_path: Path | None, data: Path | None, database: str | None, host: str | None,
    port: int | None, ae_title: str | None, dicom_port: int | None, demo: bool,
) -> None:  # fmt: skip
    """Start the media station: the web pages of the reception desk, the burn desk and QA.

    Open the address it prints in a browser. Options given here override the configuration
    file. Stop it with Ctrl+C; jobs it was running are resumed when it starts again.

    \b
    Example:
      mediatool serve --data /srv/mediatool
      mediatool serve --config station.toml --host 0.0.0.0 --port 8443
      mediatool serve --demo
      mediatool serve --data /mnt/shared --database postgresql://mt:PASSWORD@db/mediatool
      mediatool serve --data /srv/mediatool --ae-title BURNER --dicom-port 11112
    """
    with handle_errors():
        _need_station()
        from mediatool.station import config as cfg
        from mediatool.station import serve as station

        if demo and data is None and config_path is None:
            data = Path("mediatool-station-demo")
        if ae_title is not None:
            from mediatool.net.association import check_ae_title

            ae_title = check_ae_title(ae_title, "--ae-title")
        config = cfg.merge(
            station.data_of(config_path, data, database), host=host, port=port,
            ae_title=ae_title, dicom_port=dicom_port,
        )  # fmt: skip
        hint = f" --data {config.data}" if data is not None else ""
        if config_path is not None:
            hint = f" --config {config_path}"
        elif database is not None:
            hint = " --database URL"  # the same URL (its password is not printed)
        station.run(config, _say, hint, demo=demo)


@click.group("users")
def users_group() -> None:
    """The station's accounts: reception, burn, qa, admin.

    \b
    Example:
      mediatool users add maria --role admin --password-stdin --data /srv/mediatool
      mediatool users list --data /srv/mediatool
    """


def _store(config_path: Path | None, data: Path | None, database: str | None):  # type: ignore[no-untyped-def]
    _need_station()
    from mediatool.station import serve as station
    from mediatool.station.datafolder import prepare_data

    return prepare_data(station.data_of(config_path, data, database), folders=False)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True, err=True))


@users_group.command("add")
@click.argument("name")
@click.option(
    "--role", required=True, type=click.Choice(["admin", "reception", "burn", "qa"]),
    help="What the person does at the station.",
)  # fmt: skip
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from the first line of stdin."
)
@config_option
@data_option
@database_option
def users_add(
    name: str, role: str, password_stdin: bool, config_path: Path | None, data: Path | None,
    database: str | None,
) -> None:  # fmt: skip
    """Create an account.

    \b
    Example:
      echo 'a long passphrase' | mediatool users add maria --role admin --password-stdin
    """
    with handle_errors():
        from mediatool.station import auth

        store = _store(config_path, data, database)
        auth.add_user(store, name, role, _password(password_stdin))
        click.echo(f"Account {name} ({role}) created.", err=True)


@users_group.command("passwd")
@click.argument("name")
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from the first line of stdin."
)
@config_option
@data_option
@database_option
def users_passwd(
    name: str, password_stdin: bool, config_path: Path | None, data: Path | None,
    database: str | None,
) -> None:  # fmt: skip
    """Set an account's password."""
    with handle_errors():
        from mediatool.station import auth

        auth.set_password(_store(config_path, data, database), name, _password(password_stdin))
        click.echo(f"Password of {name} changed.", err=True)


@users_group.command("list")
@config_option
@data_option
@database_option
def users_list(config_path: Path | None, data: Path | None, database: str | None) -> None:
    """List the accounts (name, role, disabled)."""
    with handle_errors():
        from mediatool.station import auth

        for u in auth.list_users(_store(config_path, data, database)):
            flag = "  (disabled)" if u["disabled"] else ""
            click.echo(f"{u['name']}\t{u['role']}{flag}")
