"""English and Brazilian Portuguese for the station's pages (Babel, gettext catalogs).

The catalogs are text (``i18n/messages.pot``, ``i18n/pt_BR.po``) made and updated by
``python3 scripts/i18n.py`` (Babel's extractor over the station's templates and Python); they are
compiled in memory when the station starts (Babel's ``write_mo``), so no binary file is kept in
the repository. English is the source language. The language of a page is the user's own
setting, else the browser's Accept-Language (Babel's negotiation), else the configuration's.
"""

from __future__ import annotations

import contextvars
import functools
import io
from pathlib import Path
from typing import Final

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LANGUAGES: Final = ("en", "pt-BR")  # the station's; the same tags as mediatool.modalities
NAMES: Final = {"en": "English", "pt-BR": "Português (Brasil)"}
CATALOGS: Final = Path(__file__).with_name("i18n")
_current: contextvars.ContextVar[str] = contextvars.ContextVar("language", default="en")


def _babel(tag: str) -> str:
    return tag.replace("-", "_")


@functools.cache
def translations(language: str) -> NullTranslations:
    if language == "en":
        return NullTranslations()
    with (CATALOGS / f"{_babel(language)}.po").open("rb") as f:
        catalog = read_po(f, locale=_babel(language))
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(buffer)


def negotiate(accept_language: str, default: str) -> str:
    """The station language the browser prefers (``Accept-Language``), else ``default``."""
    wanted = []
    for part in accept_language.split(","):
        tag, _, q = part.strip().partition(";q=")
        try:
            weight = float(q) if q else 1.0
        except ValueError:
            weight = 0.0
        if tag and weight > 0:
            wanted.append((weight, tag.strip()))
    ordered = [tag.replace("-", "_") for _, tag in sorted(wanted, key=lambda w: -w[0])]
    found = Locale.negotiate(ordered, [_babel(t) for t in LANGUAGES], sep="_")
    if found is None:  # "pt" or "pt-PT": Brazilian Portuguese is the Portuguese we have
        portuguese = any(t.lower().split("_")[0] == "pt" for t in ordered)
        return "pt-BR" if portuguese else default
    tag = str(found).replace("_", "-")
    return tag if tag in LANGUAGES else ("pt-BR" if tag.startswith("pt") else default)


def use(language: str) -> contextvars.Token[str]:
    """Make ``language`` the one of this request (or job); :func:`gettext` follows it."""
    return _current.set(language if language in LANGUAGES else "en")


def reset(token: contextvars.Token[str]) -> None:
    _current.reset(token)


def current() -> str:
    return _current.get()


def gettext(message: str) -> str:
    return translations(_current.get()).ugettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(_current.get()).ungettext(singular, plural, n)


_ = gettext


def N_(message: str) -> str:  # gettext's name for "extract now, translate when shown"
    return message


#: words shown from data (a job's state, a role): in the catalogs through N_()
STATE_NAMES: Final = (
    N_("queued"), N_("running"), N_("done"), N_("failed"), N_("cancelled"), N_("interrupted"),
)  # fmt: skip
ROLE_NAMES: Final = (N_("reception"), N_("burn"), N_("qa"), N_("admin"))
#: the library's progress labels (mediatool.model.Progress), shown on a job's live page
PROGRESS_LABELS: Final = (
    N_("reading headers"), N_("importing"), N_("retrieving"), N_("writing files"),
    N_("rendering web content"), N_("web content written"), N_("Writing ISO image"),
    N_("thumbnails"),
)  # fmt: skip
