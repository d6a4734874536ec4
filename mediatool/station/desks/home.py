"""Signing in and out, the first administrator, the language, and the home page (the desks the
user's role opens)."""

from __future__ import annotations

from typing import Final

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mediatool.station import auth, i18n, web
from mediatool.station.i18n import gettext as _

LOCAL: Final = frozenset({"127.0.0.1", "::1", "localhost"})


def _safe_next(url: str) -> str:
    """Only a path of this station (never another site) after signing in."""
    return url if url.startswith("/") and not url.startswith("//") else "/"


async def home(request: Request) -> Response:
    who = web.require(request)
    desks = [d for d in ("reception", "burn", "qa", "history", "admin") if who.may(d)]
    return web.render(request, "home.html", desks=desks)


async def login_page(request: Request) -> Response:
    st = web.station(request)
    if auth.count_users(st.store) == 0:
        return web.redirect("/first-run")
    return web.render(request, "login.html", next=_safe_next(request.query_params.get("next", "/")))


async def login(request: Request) -> Response:
    st = web.station(request)
    form = await web.posted(request)
    name = str(form.get("name", "")).strip()
    password = str(form.get("password", ""))
    next_url = _safe_next(str(form.get("next", "/")))
    keys = (f"client:{web.client(request)}", f"name:{name.lower()}")
    wait = st.limit.wait(*keys)
    if wait > 0:
        message = _("Too many failed attempts. Try again in %(seconds)d seconds.") % {
            "seconds": int(wait) + 1
        }
        return web.render(request, "login.html", status=429, error=message, next=next_url)
    who = auth.authenticate(st.store, name, password)
    if who is None:
        st.limit.failed(*keys)
        st.store.audit(
            user_name=name or "-", patient_id="", patient_name="", action="sign in",
            outcome="refused", client=web.client(request),
        )  # fmt: skip
        error = _("The name or the password is not right.")
        return web.render(request, "login.html", status=401, error=error, next=next_url)
    request.session.clear()  # a new session at each sign-in (no fixation)
    request.session["user"] = who.id
    web.csrf_token(request)
    return web.redirect(next_url)


async def logout(request: Request) -> Response:
    await web.posted(request)
    request.session.clear()
    return web.redirect("/login")


def _first_run_allowed(request: Request) -> None:
    st = web.station(request)
    if auth.count_users(st.store) > 0:
        raise HTTPException(404, _("The station has its administrator already."))
    if web.client(request) not in LOCAL:
        raise HTTPException(
            403,
            _(
                "The first administrator is created on the station itself (localhost), or "
                "with: mediatool users add NAME --role admin --password-stdin"
            ),
        )


async def first_run_page(request: Request) -> Response:
    _first_run_allowed(request)
    return web.render(request, "first_run.html")


async def first_run(request: Request) -> Response:
    _first_run_allowed(request)
    form = await web.posted(request)
    name = str(form.get("name", "")).strip()
    password = str(form.get("password", ""))
    if password != str(form.get("again", "")):
        error = _("The two passwords differ.")
        return web.render(request, "first_run.html", status=400, error=error, name=name)
    try:
        who = auth.add_user(web.station(request).store, name, "admin", password)
    except auth.AccountError as exc:
        return web.render(request, "first_run.html", status=400, error=str(exc), name=name)
    request.session.clear()
    request.session["user"] = who.id
    web.csrf_token(request)
    return web.redirect("/")


async def language(request: Request) -> Response:
    """The language chosen in the page's footer: the user's setting (or the session's)."""
    form = await web.posted(request)
    chosen = str(form.get("language", ""))
    if chosen not in i18n.LANGUAGES:
        raise HTTPException(400, _("This language is not offered."))
    who = web.user(request)
    if who is not None:
        auth.update_user(web.station(request).store, who.name, language=chosen)
    request.session["language"] = chosen
    return web.redirect(_safe_next(str(form.get("next", "/"))))


routes = [
    Route("/", home),
    Route("/login", login_page, methods=["GET"]),
    Route("/login", login, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/first-run", first_run_page, methods=["GET"]),
    Route("/first-run", first_run, methods=["POST"]),
    Route("/language", language, methods=["POST"]),
]
