#!/usr/bin/env python3
"""Extract the messages and update the catalogs (Babel) of both gettext domains:

    python3 scripts/i18n.py          # writes each domain's .pot, updates its pt_BR.po
    python3 scripts/i18n.py --check  # exit 1 when a template is out of date (tests use it)

The station (``mediatool/station/i18n/messages.pot``): its Python (``_()``, ``gettext``,
``ngettext``, ``N_()``) and its jinja templates (``templates/station``). The disc
(``mediatool/web/i18n/disc.pot``): the web content's Python (``mediatool/web``, and
``mediatool/build/volumes.py`` for what each disc of a set holds) and the disc's
templates (``templates/*.htm``, ``README.TXT``, ``viewer/VIEWER.HTM``). New messages arrive in
``pt_BR.po`` untranslated; translate them there (tests/station/test_core.py and
tests/web/test_web_language.py check every message has a translation).
"""

from __future__ import annotations

import io
import sys
from datetime import UTC, datetime
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
CATALOGS = ROOT / "mediatool" / "station" / "i18n"
DISC_CATALOGS = ROOT / "mediatool" / "web" / "i18n"
#: fixed header dates: the catalogs change only when their messages do
FIXED_DATE = datetime(2026, 12, 1, tzinfo=UTC)
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
LANGUAGES = ("pt_BR",)


def _translated(string: str | tuple[str, ...] | list[str] | None) -> bool:
    """A message is translated when it has its text, every plural form included."""
    return all(string) if isinstance(string, tuple | list) else bool(string)


_JINJA = {"extensions": "jinja2.ext.i18n", "newstyle_gettext": "true"}
#: domain -> (catalog folder, template name, sources: folder and Babel method map)
DOMAINS: dict[str, tuple[Path, str, tuple[tuple[Path, list[tuple[str, str]]], ...]]] = {
    "station": (
        CATALOGS,
        "messages.pot",
        (
            (ROOT / "mediatool" / "station", [("**.py", "python")]),
            (ROOT / "templates" / "station", [("**.html", "jinja2.ext:babel_extract")]),
        ),
    ),
    "disc": (
        DISC_CATALOGS,
        "disc.pot",
        (
            (ROOT / "mediatool" / "web", [("*.py", "python")]),
            (ROOT / "mediatool" / "build", [("volumes.py", "python")]),  # a set's discs
            (
                ROOT / "templates",
                [
                    ("*.htm", "jinja2.ext:babel_extract"),
                    ("README.TXT", "jinja2.ext:babel_extract"),
                    ("viewer/VIEWER.HTM", "jinja2.ext:babel_extract"),
                ],
            ),
        ),
    ),
}


def extract(domain: str = "station") -> Catalog:
    catalog = Catalog(
        project="mediatool", charset="utf-8", fuzzy=False, creation_date=FIXED_DATE,
        revision_date=FIXED_DATE, last_translator="mediatool developers",
        language_team="mediatool developers", copyright_holder="mediatool developers",
    )  # fmt: skip
    for folder, method_map in DOMAINS[domain][2]:
        options = {pattern: _JINJA for pattern, method in method_map if method != "python"}
        for filename, lineno, message, comments, context in extract_from_dir(
            str(folder), method_map, options_map=options, keywords=KEYWORDS, strip_comment_tags=True
        ):
            where = str((folder / filename).relative_to(ROOT))
            catalog.add(message, None, [(where, lineno)], auto_comments=comments, context=context)
    return catalog


def _po_bytes(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_po(out, catalog, omit_header=False, sort_output=True, width=100, no_location=True)
    return out.getvalue()


def main(argv: list[str]) -> int:
    status = 0
    for domain in DOMAINS:
        status = max(status, update(domain, check="--check" in argv))
    return status


def update(domain: str, check: bool) -> int:
    folder, name, _ = DOMAINS[domain]
    template = extract(domain)
    pot = folder / name
    if check:
        current = read_po(pot.open("rb")) if pot.exists() else Catalog()
        want = {m.id for m in template if m.id}
        have = {m.id for m in current if m.id}
        if want != have:
            print(f"{pot}: out of date: run python3 scripts/i18n.py", file=sys.stderr)
            return 1
        return 0
    folder.mkdir(parents=True, exist_ok=True)
    pot.write_bytes(_po_bytes(template))
    for language in LANGUAGES:
        path = folder / f"{language}.po"
        if path.exists():
            with path.open("rb") as f:
                catalog = read_po(f, locale=language)
        else:
            catalog = Catalog(locale=language, project="mediatool", charset="utf-8")
        catalog.update(template, no_fuzzy_matching=True)
        catalog.fuzzy = False
        catalog.creation_date = catalog.revision_date = FIXED_DATE
        catalog.last_translator = catalog.language_team = "mediatool developers"
        catalog.obsolete.clear()
        path.write_bytes(_po_bytes(catalog))
        missing = [m.id for m in catalog if m.id and not _translated(m.string)]
        print(f"{path.relative_to(ROOT)}: {len(missing)} message(s) to translate", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
