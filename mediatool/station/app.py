"""The station's ASGI application (Starlette, served by uvicorn).

Middleware, outermost first: sessions (a signed cookie: HttpOnly, SameSite=Strict, Secure with
TLS; the key is a file in the data folder), then :class:`Identify` (who is asking, in which
language). Every form post checks the session's CSRF token (:func:`.web.posted`). Nothing long
runs inside a request: desks create jobs, the supervisor (:mod:`.jobs.runner`) runs them.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from mediatool import resources
from mediatool.station import auth, i18n, web
from mediatool.station.config import StationConfig
from mediatool.station.jobs.runner import Supervisor, station_name
from mediatool.station.store import Store

SESSION_HOURS = 12


class Identify:
    """Puts the signed-in :class:`~.auth.User` in ``scope["user"]`` and sets the language of
    the request: the user's setting, else the session's choice, else Accept-Language, else the
    configuration's."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        station: web.Station = scope["app"].state.station
        session = scope.get("session", {})
        who = None
        if isinstance(session.get("user"), int):
            who = auth.get_user(station.store, session["user"])
            if who is None:  # the account was removed or disabled: signed out
                session.clear()
        scope["user"] = who
        language = (who.language if who else None) or session.get("language")
        if language not in i18n.LANGUAGES:
            accept = request.headers.get("accept-language", "")
            language = i18n.negotiate(accept, station.config.language)
        token = i18n.use(language)
        try:
            await self.app(scope, receive, send)
        finally:
            i18n.reset(token)


def _secret(data: Path) -> str:
    """The key that signs session cookies: made once, kept in the data folder (mode 0600)."""
    path = data / "session.key"
    with contextlib.suppress(FileNotFoundError):
        return path.read_text(encoding="ascii").strip()
    data.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    key = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(key)
    return key


async def _not_signed_in(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, web.NotSignedIn)
    return web.redirect(f"/login?next={exc.next_url}")


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return web.render(request, "error.html", status=exc.status_code, message=exc.detail)


def routes() -> list[BaseRoute]:
    from mediatool.station.desks import admin, burn, burn_inbox, history, home, jobs, qa, reception

    static = resources.data_dir("templates") / "station" / "static"
    return [
        *home.routes, *jobs.routes, *reception.routes, *burn.routes, *burn_inbox.routes,
        *qa.routes, *history.routes, *admin.routes,
        Mount("/static", StaticFiles(directory=str(static)), name="static"),
    ]  # fmt: skip


def create_app(config: StationConfig, store: Store | None = None, run_jobs: bool = True) -> Any:
    """The application; ``run_jobs`` starts the supervisor with it (tests may run it alone)."""
    if store is None:
        from mediatool.station.datafolder import prepare_data

        store = prepare_data(config)
    supervisor = Supervisor(
        store, config.data, workers=config.workers, owner=station_name(config.name),
        lease=config.lease, capabilities=config.all_capabilities(),
        burners={b.name: {"device": b.device, "capacity": b.capacity} for b in config.burners},
    )  # fmt: skip

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if run_jobs:
            supervisor.start()
        try:
            yield
        finally:
            if run_jobs:
                supervisor.stop()

    app = Starlette(
        routes=routes(),
        middleware=[
            Middleware(
                SessionMiddleware,
                secret_key=_secret(config.data),
                session_cookie="mediatool_session",
                max_age=SESSION_HOURS * 3600,
                same_site="strict",
                https_only=config.tls,
            ),
            Middleware(Identify),
        ],
        exception_handlers={web.NotSignedIn: _not_signed_in, HTTPException: _http_error},
        lifespan=lifespan,
    )
    app.state.station = web.Station(config, store, auth.RateLimit())
    app.state.supervisor = supervisor
    return app
