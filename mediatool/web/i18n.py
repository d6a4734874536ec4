"""The language of the disc's own pages, README.TXT, viewer and label (the site's ``language``).

A gettext domain of its own, ``disc`` (``i18n/disc.pot``, ``i18n/pt_BR.po`` beside this module),
apart from the station's (``mediatool/station/i18n``), made and updated by
``python3 scripts/i18n.py`` (Babel's extractor over the disc's templates and this package's
Python). The ``.po`` text is compiled in memory when a disc is first written in that language;
no binary catalog is kept. English is the source language: an English disc never reads a catalog,
so its bytes are those the templates give.
"""

from __future__ import annotations

import functools
import gettext
import io
from collections.abc import Callable
from pathlib import Path
from typing import Final

from mediatool.errors import MediatoolError
from mediatool.modalities import DEFAULT_LANGUAGE, LANGUAGES

DOMAIN: Final = "disc"
CATALOGS: Final = Path(__file__).with_name("i18n")
Gettext = Callable[[str], str]


def babel_tag(language: str) -> str:
    """``"pt-BR"`` → ``"pt_BR"`` (the catalogs' file names)."""
    return language.replace("-", "_")


def compile_catalog(path: Path, locale: str) -> gettext.NullTranslations:
    """A ``.po`` file compiled in memory (Babel's reader and ``write_mo``); fuzzy entries unused."""
    try:
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po
    except ImportError as exc:  # Babel comes with mediatool; a broken install lacks it
        raise MediatoolError(
            f"the {locale} catalog needs the Babel library, which is not installed",
            hint="pip install 'babel>=2.14'",
        ) from exc
    with path.open("rb") as f:
        catalog = read_po(f, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


@functools.cache
def translations(language: str) -> gettext.NullTranslations:
    """The disc's messages in ``language`` (a tag of :data:`mediatool.modalities.LANGUAGES`)."""
    if language == DEFAULT_LANGUAGE:
        return gettext.NullTranslations()
    if language not in LANGUAGES:
        raise MediatoolError(f"the disc language {language!r} is not one of {', '.join(LANGUAGES)}")
    return compile_catalog(CATALOGS / f"{babel_tag(language)}.po", babel_tag(language))


def gettext_for(language: str) -> Gettext:
    """``_`` for Python code that writes the disc: ``_ = gettext_for(site.language)``."""
    return translations(language).gettext


def N_(message: str) -> str:  # gettext's name for "extract now, translate when shown"
    return message
