"""What every desk's handler uses: who is asking, may they, the posted form (CSRF checked), a
rendered page in their language, and the audit trail.

Handlers stay thin: they read the request, call the library or create a job, and render.
"""

from __future__ import annotations

import functools
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import jinja2
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from mediatool import resources
from mediatool.station import i18n
from mediatool.station.i18n import gettext as _

if TYPE_CHECKING:
    from mediatool.station.auth import RateLimit, User
    from mediatool.station.config import StationConfig
    from mediatool.station.store import Store

CSRF_FIELD: Final = "csrf"
CSRF_HEADER: Final = "x-csrf-token"
#: which desk a job kind belongs to (who may see it)
DESK_OF_KIND: Final = {
    "survey": "reception", "import": "reception", "build": "burn", "burn": "burn",
    "validate": "qa",
}  # fmt: skip


@dataclass
class Station:
    """What the app holds: configuration, store, login limit (``app.state.station``)."""

    config: StationConfig
    store: Store
    limit: RateLimit


class NotSignedIn(Exception):
    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


def station(request: Request) -> Station:
    value: Station = request.app.state.station
    return value


def user(request: Request) -> User | None:
    value: User | None = request.scope.get("user")
    return value


def require(request: Request, desk: str | None = None) -> User:
    """The signed-in user allowed at ``desk``; else the login page, or 403 with a page."""
    who = user(request)
    if who is None:
        raise NotSignedIn(str(request.url.path))
    if desk is not None and not who.may(desk):
        raise HTTPException(403, _("Your role does not open this page."))
    return who


def csrf_token(request: Request) -> str:
    token = request.session.get(CSRF_FIELD)
    if not token:
        token = secrets.token_urlsafe(32)
        request.session[CSRF_FIELD] = token
    return str(token)


async def posted(request: Request) -> FormData:
    """The posted form, refused (403) unless it carries this session's CSRF token."""
    form = await request.form()
    given = form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    expected = request.session.get(CSRF_FIELD) or ""
    if not expected or not isinstance(given, str) or not secrets.compare_digest(given, expected):
        raise HTTPException(
            403, _("The form has expired or did not come from this station. Reload the page.")
        )
    return form


def client(request: Request) -> str:
    return request.client.host if request.client else ""


def audit(
    request: Request, action: str, patient_id: str, patient_name: str, outcome: str,
    job_id: int | None = None,
) -> None:  # fmt: skip
    """Who (the signed-in user) saw or changed which patient's data, from where."""
    who = user(request)
    station(request).store.audit(
        user_name=who.name if who else "-", patient_id=patient_id, patient_name=patient_name,
        action=action, outcome=outcome, job_id=job_id, client=client(request),
    )  # fmt: skip


@functools.cache
def environment() -> jinja2.Environment:
    """The pages' jinja Environment: ``templates/station/``, escaped, gettext from :mod:`.i18n`."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(resources.data_dir("templates") / "station")),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.gettext, i18n.ngettext, newstyle=True
    )
    env.filters["when"] = _when
    env.globals["job_title"] = job_title
    return env


def job_title(job: Any) -> str:
    """A job's title in the reader's language (the stored one, in the language of the person
    who queued it, serves the history's search)."""
    from mediatool.station.jobs.kinds import describe

    return describe(job.kind, job.params) if job.kind in web_kinds() else str(job.title)


def web_kinds() -> frozenset[str]:
    from mediatool.station.jobs.kinds import KINDS

    return frozenset(KINDS)


def _when(stamp: float | None) -> str:
    import time

    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(stamp)) if stamp else ""


def render(
    request: Request, template: str | list[str], status: int = 200, **values: Any
) -> HTMLResponse:
    """The page ``template`` (or the first of a list that exists) in the request's language."""
    who = user(request)
    context = {
        "request": request, "user": who, "csrf": csrf_token(request), "language": i18n.current(),
        "languages": i18n.NAMES, "state_names": {s: _(s) for s in i18n.STATE_NAMES},
        "label_names": {s: _(s) for s in i18n.PROGRESS_LABELS},
    }  # fmt: skip
    html = environment().select_template([template] if isinstance(template, str) else template)
    html_text = html.render(**context, **values)
    return HTMLResponse(html_text, status_code=status)


def redirect(url: str) -> Response:
    return RedirectResponse(url, status_code=303)
