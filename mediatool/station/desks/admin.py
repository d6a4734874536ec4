"""The administration desk (role admin): the configuration, the PACS and worklist nodes with a
Test button (C-ECHO), the accounts, and the audit trail with its CSV export.

The configuration is edited with the same checks as the file: the page builds the new
:class:`~mediatool.station.config.StationConfig`, writes it as TOML (``config.to_toml``) and
reads that back through ``config.parse`` before anything is saved. It is saved atomically to the
file the station was started with (``--config``), else to ``data/station.toml`` (which
``mediatool serve`` reads when it has no ``--config``), and used at once.
"""

from __future__ import annotations

import csv
import io
import secrets
import tomllib
from dataclasses import replace
from pathlib import Path
from typing import Final

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mediatool.errors import MediatoolError
from mediatool.station import auth, web
from mediatool.station import config as cfg
from mediatool.station.i18n import N_
from mediatool.station.i18n import gettext as _
from mediatool.station.store import ROLES

#: a node's role, as the page shows it
NODE_ROLES: Final = (N_("pacs"), N_("worklist"))
ECHO_TIMEOUT: Final = 3.0  # seconds: the Test button answers quickly
AUDIT_ROWS: Final = 500  # rows on the page; the CSV has them all
AUDIT_EXPORT: Final = 1_000_000
AUDIT_COLUMNS: Final = ("at", "user_name", "patient_id", "patient_name", "action", "outcome",
                        "job_id", "client")  # fmt: skip


def _message(exc: MediatoolError) -> str:
    return f"{exc} ({exc.hint})" if exc.hint else str(exc)


def target(config: cfg.StationConfig) -> Path:
    """Where the page saves: the --config file, else the data folder's station.toml."""
    return config.path if config.path is not None else config.data / cfg.SAVED


def save(request: Request, new: cfg.StationConfig) -> str:
    """Check ``new`` as the file would be checked, save it atomically and use it: "" when
    saved, else the check's message (nothing saved)."""
    st = web.station(request)
    path = target(st.config)
    text = cfg.to_toml(new)
    try:
        checked = cfg.parse(tomllib.loads(text), path)
    except MediatoolError as exc:
        return _message(exc)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_text(text, encoding="utf-8")
        temporary.replace(path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        return _("Cannot write %(path)s: %(why)s") % {"path": path, "why": exc.strerror or exc}
    st.config = checked
    web.audit(request, "edit configuration", "", "", "saved")
    return ""


def _page(request: Request, status: int = 200, **values: object) -> Response:
    st = web.station(request)
    from mediatool import profiles

    defaults: dict[str, object] = {
        "error": "", "saved": "", "echo": None, "form": {}, "config": st.config,
    }  # fmt: skip
    return web.render(
        request, "admin.html", status=status, file=target(st.config),
        profiles=[p.id for p in profiles.list_profiles()], media=cfg.MEDIA, roles=cfg.ROLES,
        **(defaults | values),
    )  # fmt: skip


async def overview(request: Request) -> Response:
    web.require(request, "admin")
    return _page(request)


def _drives(text: str) -> tuple[cfg.Drive, ...]:
    """One drive a line, ``name = path``; ValueError says which line is wrong."""
    drives = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        name, eq, path = line.partition("=")
        if not eq or not name.strip() or not path.strip():
            raise ValueError(
                _("Drives, line %(n)d: write it as name = path (e.g. CD drive = /media/cdrom).")
                % {"n": number}
            )
        drives.append(cfg.Drive(name.strip(), path.strip()))
    return tuple(drives)


def _settings(form: FormData, config: cfg.StationConfig) -> cfg.StationConfig:
    """The settings posted, over ``config``; ValueError for what the file cannot even say."""
    size = str(form.get("upload_mb", "")).strip()
    if not size.isdigit() or int(size) < 1:
        raise ValueError(_("The upload limit is a whole number of megabytes (1 or more)."))
    site = str(form.get("site", "")).strip()
    return replace(
        config, ae_title=str(form.get("ae_title", "")).strip(),
        profile=str(form.get("profile", "")), media=str(form.get("media", "")),
        web=form.get("web") == "on", site=Path(site) if site else None,
        language=str(form.get("language", config.language)),
        drives=_drives(str(form.get("drives", ""))), upload_mb=int(size),
    )  # fmt: skip


async def settings(request: Request) -> Response:
    web.require(request, "admin")
    form = await web.posted(request)
    try:
        new = _settings(form, web.station(request).config)
    except ValueError as exc:
        return _page(request, 400, error=str(exc))
    error = save(request, new)
    if error:  # the page shows what was typed, to be corrected
        return _page(request, 400, error=error, config=new)
    return _page(request, saved=_("The settings are saved and in use."))


def _node_of(form: FormData) -> cfg.Node:
    name = str(form.get("name", "")).strip()
    if not name:
        raise ValueError(_("A node needs a name."))
    return cfg.Node(name, str(form.get("role", "")), str(form.get("address", "")).strip())


def _nodes(form: FormData, nodes: tuple[cfg.Node, ...]) -> tuple[cfg.Node, ...]:
    """The node list after the posted add, save or remove."""
    action = str(form.get("action", ""))
    original = str(form.get("original", ""))
    if action == "add":
        return (*nodes, _node_of(form))
    if original not in [n.name for n in nodes]:
        raise ValueError(_("There is no node %(name)s.") % {"name": original})
    if action == "remove":
        return tuple(n for n in nodes if n.name != original)
    if action == "save":
        changed = _node_of(form)
        return tuple(changed if n.name == original else n for n in nodes)
    raise ValueError(_("This action is not known."))


async def test_node(request: Request, name: str) -> Response:
    """C-ECHO to the node, quickly: "answers", or why not in plain words."""
    from mediatool.net.association import Network, PeerError, echo, parse_peer

    config = web.station(request).config
    node = config.node(name)
    if node is None:
        return _page(request, 400, error=_("There is no node %(name)s.") % {"name": name})
    try:
        peer = parse_peer(node.address)
    except PeerError as exc:
        return _page(request, 400, error=_message(exc))
    net = Network(calling_aet=config.ae_title, timeout=ECHO_TIMEOUT, retries=0)
    result = await run_in_threadpool(echo, peer, net)
    return _page(request, echo={"node": name, "ok": result.ok, "message": result.message,
                                "ms": int(result.seconds * 1000)})  # fmt: skip


async def nodes(request: Request) -> Response:
    web.require(request, "admin")
    form = await web.posted(request)
    if form.get("action") == "test":
        return await test_node(request, str(form.get("original", "")))
    config = web.station(request).config
    try:
        changed = _nodes(form, config.nodes)
    except ValueError as exc:
        return _page(request, 400, error=str(exc), form=dict(form))
    error = save(request, replace(config, nodes=changed))
    if error:
        return _page(request, 400, error=error, form=dict(form))
    return _page(request, saved=_("The nodes are saved and in use."))


# --- accounts ------------------------------------------------------------------------------
def _accounts_page(request: Request, status: int = 200, **values: object) -> Response:
    defaults: dict[str, object] = {"error": "", "saved": "", "form": {}}
    users = auth.list_users(web.station(request).store)
    return web.render(
        request, "admin_accounts.html", status=status, users=users, roles=ROLES,
        **(defaults | values),
    )  # fmt: skip


async def accounts(request: Request) -> Response:
    web.require(request, "admin")
    return _accounts_page(request)


def _change(request: Request, form: FormData) -> str:
    """Apply the posted change to an account; what the page says afterwards."""
    store = web.station(request).store
    me = web.require(request, "admin")
    action = str(form.get("action", ""))
    name = str(form.get("name", "")).strip()
    if action == "add":
        auth.add_user(store, name, str(form.get("role", "")), str(form.get("password", "")))
        return _("The account %(name)s is created.") % {"name": name}
    if name not in [u["name"] for u in auth.list_users(store)]:
        raise auth.AccountError(_("There is no account %(name)s.") % {"name": name})
    if name == me.name and action in ("role", "disable"):
        raise auth.AccountError(_("You cannot change your own role or disable your own account."))
    if action == "role":
        auth.update_user(store, name, role=str(form.get("role", "")))
    elif action in ("disable", "enable"):
        auth.update_user(store, name, disabled=action == "disable")
    elif action == "password":
        auth.set_password(store, name, str(form.get("password", "")))
    else:
        raise auth.AccountError(_("This action is not known."))
    return _("The account %(name)s is changed.") % {"name": name}


async def change_account(request: Request) -> Response:
    web.require(request, "admin")
    form = await web.posted(request)
    try:
        done = _change(request, form)
    except auth.AccountError as exc:
        shown = {k: v for k, v in form.items() if k in ("name", "role")}
        return _accounts_page(request, 400, error=_message(exc), form=shown)
    action = f"account {form.get('action', '')} {form.get('name', '')}"
    web.audit(request, action, "", "", "done")
    return _accounts_page(request, saved=done)


# --- audit trail ---------------------------------------------------------------------------
async def audit_page(request: Request) -> Response:
    web.require(request, "admin")
    text = request.query_params.get("q", "").strip()
    rows = web.station(request).store.audit_rows(text=text, limit=AUDIT_ROWS)
    return web.render(request, "admin_audit.html", rows=rows, q=text, limit=AUDIT_ROWS)


def _cell(value: object) -> str:
    """A CSV cell a spreadsheet will not run as a formula (names come from outside discs)."""
    text = "" if value is None else str(value)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


async def audit_csv(request: Request) -> Response:
    """The audit trail (the search's rows) as CSV; the export is in the trail itself."""
    web.require(request, "admin")
    text = request.query_params.get("q", "").strip()
    web.audit(request, "export audit", "", "", "sent")
    rows = web.station(request).store.audit_rows(text=text, limit=AUDIT_EXPORT)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(AUDIT_COLUMNS)
    for row in rows:
        row = dict(row, at=web.environment().filters["when"](row["at"]))
        writer.writerow([_cell(row[c]) for c in AUDIT_COLUMNS])
    headers = {"Content-Disposition": 'attachment; filename="audit.csv"'}
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers=headers)


routes = [
    Route("/admin", overview, methods=["GET"]),
    Route("/admin/settings", settings, methods=["POST"]),
    Route("/admin/nodes", nodes, methods=["POST"]),
    Route("/admin/accounts", accounts, methods=["GET"]),
    Route("/admin/accounts", change_account, methods=["POST"]),
    Route("/admin/audit", audit_page, methods=["GET"]),
    Route("/admin/audit.csv", audit_csv, methods=["GET"]),
]
