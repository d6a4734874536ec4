#!/usr/bin/env python3
"""Extract the station's messages and update its catalogs (Babel):

    python3 scripts/i18n.py          # writes mediatool/station/i18n/messages.pot, updates pt_BR.po
    python3 scripts/i18n.py --check  # exit 1 when the template is out of date (tests use it)

Sources: the station's Python (``_()``, ``gettext``, ``ngettext``, ``N_()``) and its jinja
templates (``templates/station``). New messages arrive in ``pt_BR.po`` untranslated; translate
them there (tests/station/test_i18n.py checks every message has a translation).
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
#: fixed header dates: the catalogs change only when their messages do
FIXED_DATE = datetime(2026, 12, 1, tzinfo=UTC)
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
LANGUAGES = ("pt_BR",)


def _translated(string: str | tuple[str, ...] | list[str] | None) -> bool:
    """A message is translated when it has its text, every plural form included."""
    return all(string) if isinstance(string, tuple | list) else bool(string)


def extract() -> Catalog:
    catalog = Catalog(
        project="mediatool", charset="utf-8", fuzzy=False, creation_date=FIXED_DATE,
        revision_date=FIXED_DATE, last_translator="mediatool developers",
        language_team="mediatool developers", copyright_holder="mediatool developers",
    )  # fmt: skip
    sources = (
        (ROOT / "mediatool" / "station", [("**.py", "python")]),
        (ROOT / "templates" / "station", [("**.html", "jinja2.ext:babel_extract")]),
    )
    for folder, method_map in sources:
        options = {"**.html": {"extensions": "jinja2.ext.i18n", "newstyle_gettext": "true"}}
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
    template = extract()
    pot = CATALOGS / "messages.pot"
    if "--check" in argv:
        current = read_po(pot.open("rb")) if pot.exists() else Catalog()
        want = {m.id for m in template if m.id}
        have = {m.id for m in current if m.id}
        if want != have:
            print(f"{pot}: out of date: run python3 scripts/i18n.py", file=sys.stderr)
            return 1
        return 0
    CATALOGS.mkdir(parents=True, exist_ok=True)
    pot.write_bytes(_po_bytes(template))
    for language in LANGUAGES:
        path = CATALOGS / f"{language}.po"
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
