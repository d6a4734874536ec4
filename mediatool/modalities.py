"""Modality (0008,0060) defined terms by name, in English and Brazilian Portuguese.

The table is data: ``mediatool/standard/modalities.toml`` (PS3.3 C.7.3.1.1.1, PS3.16 CID 29 and
CID 33, with the retired terms and the current term PS3.3 names for them) and
``mediatool/standard/sop_modalities.toml`` (the Modality values an IOD allows, where it
constrains them). Both files carry their provenance. Pure look-ups; the rule that reports
findings is :mod:`mediatool.modality_check`.

Where a person reads a modality, show :func:`label` ("CT (Computed Tomography)"); JSON keeps the
code.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Final, Literal

Language = Literal["en", "pt-BR"]
LANGUAGES: Final[tuple[Language, ...]] = ("en", "pt-BR")
DEFAULT_LANGUAGE: Final[Language] = "en"
STATUSES: Final = ("current", "retired", "nonstandard")


@dataclass(frozen=True, slots=True)
class Term:
    """One code of the table."""

    code: str
    names: Mapping[str, str]  # language -> name
    status: str  # "current" | "retired" | "nonstandard"
    use: str | None = None  # the term to use instead (retired or nonstandard codes)
    cid: tuple[int, ...] = ()  # PS3.16 context groups that hold the code
    note: str = ""

    @property
    def retired(self) -> bool:
        return self.status == "retired"

    @property
    def defined(self) -> bool:
        """A defined term of PS3.3 (current or retired), not only a name we know."""
        return self.status != "nonstandard"


@dataclass(frozen=True, slots=True)
class Expected:
    """The Modality values an IOD allows (``sop_modalities.toml``)."""

    sop_class_uid: str
    keyword: str
    modalities: tuple[str, ...]
    basis: str  # "enumerated" | "iod"
    ref: str


def _read(name: str) -> dict[str, object]:
    text = resources.files("mediatool").joinpath("standard", name).read_text("utf-8")
    return tomllib.loads(text)


def _term(code: str, raw: Mapping[str, object]) -> Term:
    names: dict[str, str] = {lang: str(raw[lang]) for lang in LANGUAGES}
    status = str(raw["status"])
    if status not in STATUSES:
        raise ValueError(f"modalities.toml: {code}: status {status!r}")
    use = raw.get("use")
    cid = raw.get("cid", [])
    assert isinstance(cid, list)
    return Term(
        code,
        names,
        status,
        str(use) if use else None,
        tuple(int(c) for c in cid),
        str(raw.get("note", "")),
    )


@cache
def terms() -> Mapping[str, Term]:
    """Every code of ``modalities.toml``, by code."""
    table = _read("modalities.toml")["terms"]
    assert isinstance(table, dict)
    return {code: _term(code, raw) for code, raw in table.items()}


@cache
def expectations() -> Mapping[str, Expected]:
    """SOP Class UID -> the Modality values its IOD allows."""
    from pydicom import uid as pydicom_uid  # not at import: ``find`` and ``--help`` need none

    table = _read("sop_modalities.toml")["sop_classes"]
    assert isinstance(table, dict)
    out: dict[str, Expected] = {}
    for keyword, raw in table.items():
        uid = str(getattr(pydicom_uid, keyword))
        out[uid] = Expected(
            uid, keyword, tuple(raw["modality"]), str(raw["basis"]), str(raw["ref"])
        )
    return out


def term(code: str) -> Term | None:
    return terms().get(code.strip())


def name(code: str, language: str = DEFAULT_LANGUAGE) -> str | None:
    """The name of ``code`` in ``language`` (English when the language is not in the table)."""
    found = term(code)
    if found is None:
        return None
    return found.names.get(language) or found.names[DEFAULT_LANGUAGE]


def known(code: str) -> bool:
    return term(code) is not None


def is_retired(code: str) -> bool:
    found = term(code)
    return found is not None and found.retired


def replacement(code: str) -> str | None:
    found = term(code)
    return found.use if found is not None else None


def label(code: str, language: str = DEFAULT_LANGUAGE) -> str:
    """``"CT (Computed Tomography)"``; an unknown code as it is; ``""`` for no code."""
    code = code.strip()
    named = name(code, language) if code else None
    return f"{code} ({named})" if named else code


def labels(codes: Iterable[str], language: str = DEFAULT_LANGUAGE, sep: str = ", ") -> str:
    """Several codes (e.g. a study's modalities) labelled and joined."""
    return sep.join(label(c, language) for c in codes if c.strip())


def expected(sop_class_uid: str) -> Expected | None:
    return expectations().get(sop_class_uid.strip())
