"""A printable disc label (PNG, 120 mm square at 300 dpi) made with Pillow.

IHE PDI media identification (pdi.md 2.6): patient name, the originating institution, the
content type ("DICOM PLUS WEB") and, when given, the media creation date; plus birth date,
study dates and descriptions and "Disc k of n". Laid out inside a CD's printable ring (outer
118 mm, hub 42 mm), so it prints on disc printers and on 120 mm inserts alike.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Final

from PIL import Image, ImageDraw, ImageFont

from mediatool import modalities
from mediatool.web import i18n
from mediatool.web.fileset import PatientNode, StudyNode
from mediatool.web.site import DEFAULT_SITE, Site
from mediatool.web.text import alphabetic_name, long_date, to_ascii

DPI: Final = 300
SIZE: Final = round(120 / 25.4 * DPI)  # 1417 px
OUTER: Final = round(58 / 25.4 * DPI)  # printable ring, outer radius
HUB: Final = round(21 / 25.4 * DPI)  # printable ring, inner radius
MAX_STUDIES: Final = 3
_FONTS: Final = (
    (
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    ),
    (
        "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
        "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
    ),
    (
        "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
        "/usr/share/fonts/truetype/noto/NotoSans-Bold.ttf",
    ),
    ("C:/Windows/Fonts/arial.ttf", "C:/Windows/Fonts/arialbd.ttf"),
    (
        "/System/Library/Fonts/Supplemental/Arial.ttf",
        "/System/Library/Fonts/Supplemental/Arial Bold.ttf",
    ),
)

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@cache
def _font_files() -> tuple[str, str] | None:
    for regular, bold in _FONTS:
        if Path(regular).is_file() and Path(bold).is_file():
            return regular, bold
    return None


@cache
def font(size: int, bold: bool = False) -> Font:
    """A TrueType font of the system, else Pillow's built-in one (Latin only)."""
    files = _font_files()
    if files is not None:
        return ImageFont.truetype(files[1] if bold else files[0], size)
    return ImageFont.load_default(size)


def _text(value: str) -> str:
    """Pillow's built-in font has Latin glyphs only: transliterate when it is the one in use."""
    return value if _font_files() is not None else to_ascii(value)


Line = tuple[str, int, bool, str]  # text, size, bold, colour


def label_lines(
    patients: list[tuple[str, str, str, list[tuple[str, str]]]],
    site: Site,
    disc: tuple[int, int],
    created: str | None,
    web: bool = True,
) -> tuple[list[Line], list[Line]]:
    """(above the hub, below the hub); patients are (name, id, birth date, studies); the words
    in the site's language (:mod:`mediatool.web.i18n`); ``web``: the content type is "DICOM
    PLUS WEB", else "DICOM ONLY" (pdi.md 2.6)."""
    _, lang = i18n.gettext_for(site.language), site.language
    top: list[Line] = [(site.name or _("No institution configured"), 40, True, "#12406b")]
    if site.department:
        top.append((site.department, 28, False, "#12406b"))
    if site.phone:
        top.append((_("Phone %(phone)s") % {"phone": site.phone}, 26, False, "#333333"))
    top.append(("", 18, False, "#000000"))
    for name, patient_id, birth, _studies in patients[:2]:
        top.append((alphabetic_name(name) or _("(no name)"), 52, True, "#000000"))
        facts = [
            _("Born %(date)s") % {"date": long_date(birth, lang)} if birth else "",
            _("ID %(id)s") % {"id": patient_id} if patient_id else "",
        ]
        top.append(("  ·  ".join(f for f in facts if f), 30, False, "#333333"))
    if len(patients) > 2:
        more = len(patients) - 2
        text = _("and %(num)s more patients")
        top.append((text % {"num": more}, 28, False, "#333333"))
    studies = [s for *_rest, studies in patients for s in studies]
    bottom: list[Line] = []
    for date, description in studies[:MAX_STUDIES]:
        text = "  ".join(p for p in (long_date(date, lang), description) if p) or _("Study")
        bottom.append((text, 30, False, "#000000"))
    if len(studies) > MAX_STUDIES:
        more = len(studies) - MAX_STUDIES
        text = _("+ %(num)s more studies")
        bottom.append((text % {"num": more}, 26, False, "#333333"))
    bottom.append(("", 14, False, "#000000"))
    disc_k = _("Disc %(k)s of %(n)s") % {"k": disc[0], "n": disc[1]}
    content = "DICOM PLUS WEB" if web else "DICOM ONLY"
    bottom.append((f"{content}  ·  {disc_k}", 30, True, "#12406b"))
    if created:
        bottom.append(
            (_("Created %(date)s") % {"date": long_date(created, lang)}, 26, False, "#333333")
        )
    return top, bottom


def _fit(draw: ImageDraw.ImageDraw, text: str, size: int, bold: bool, width: float) -> Font:
    while size > 14:
        f = font(size, bold)
        if draw.textlength(text, font=f) <= width:
            return f
        size -= 2
    return font(size, bold)


def _chord(y: float) -> float:
    """Width of the printable ring's outer circle at height ``y`` (minus a margin)."""
    dy = abs(y - SIZE / 2)
    return 2 * math.sqrt(max(OUTER**2 - dy**2, 0)) - 90


def _scaled(lines: list[Line], room: float) -> list[Line]:
    """Shrink every line alike when the block is taller than ``room`` pixels."""
    height = sum(size * 1.3 for _, size, _, _ in lines)
    if height <= room:
        return lines
    factor = room / height
    return [(t, max(int(size * factor), 12), b, c) for t, size, b, c in lines]


def _place(draw: ImageDraw.ImageDraw, lines: list[Line], y: float) -> None:
    for text, size, bold, colour in lines:
        height = size * 1.3
        if text:
            shown = _text(text)
            width = min(_chord(y), _chord(y + height))
            f = _fit(draw, shown, size, bold, width)
            draw.text((SIZE / 2, y + height / 2), shown, font=f, fill=colour, anchor="mm")
        y += height


def render_label(
    patients: list[tuple[str, str, str, list[tuple[str, str]]]],
    site: Site,
    disc: tuple[int, int],
    created: str | None = None,
    text: str = "",
    web: bool = True,
) -> bytes:
    """``text``: a line of the requester's own (a media creation request's Label Text), above
    the studies; ``web``: see :func:`label_lines`."""
    image = Image.new("RGB", (SIZE, SIZE), "white")
    draw = ImageDraw.Draw(image)
    centre = SIZE / 2
    for radius in (OUTER, HUB):
        draw.ellipse(
            (centre - radius, centre - radius, centre + radius, centre + radius),
            outline="#d0d0d0",
            width=2,
        )
    top, bottom = label_lines(patients, site, disc, created, web)
    if text.strip():
        bottom.insert(0, (" ".join(text.split())[:120], 30, True, "#000000"))
    room = OUTER - HUB - 130  # between the ring's outer margin and the hub, each side
    top = _scaled(top, room)
    bottom = _scaled(bottom, room)
    top_height = sum(size * 1.3 for _, size, _, _ in top)
    _place(draw, top, centre - HUB - 30 - top_height)
    _place(draw, bottom, centre + HUB + 40)
    buffer = io.BytesIO()
    image.save(buffer, "PNG", dpi=(DPI, DPI), optimize=True)
    return buffer.getvalue()


def make_label(
    root: Path,
    *,
    site: Site | None = None,
    disc: tuple[int, int] = (1, 1),
    created: str | None = None,
    tree: Sequence[PatientNode] | None = None,
    text: str = "",
) -> bytes:
    """The label PNG of the File-set at ``root`` (``created``: DICOM date YYYYMMDD or None);
    ``tree``: its record tree when the caller has it (a build), else read from its DICOMDIR.
    The content type is "DICOM PLUS WEB" when ``root`` holds web content (INDEX.HTM)."""
    if tree is None:
        from mediatool.web.content import read_dicomdir

        tree, _ = read_dicomdir(root)
    site = site or DEFAULT_SITE
    patients = [
        (p.name, p.patient_id, p.birth_date, [(s.date, _study(s, site)) for s in p.studies])
        for p in tree
    ]
    web = (root / "INDEX.HTM").is_file()  # the File-set's own content type, as written
    return render_label(patients, site, disc, created, text, web)


#: A study line longer than this would shrink below legibility on the ring: codes only.
LABEL_MODALITIES_MAX: Final = 64


def _study(study: StudyNode, site: Site) -> str:
    """Description and the acquisition modalities by name: "Chest  ·  CT (Computed Tomography)".

    Objects that are not acquisitions (SR, KO, PR, RT plans, documents: not in PS3.16 CID 29)
    are left out; when the names would not fit the ring, the codes are shown instead."""
    codes = list(dict.fromkeys(se.modality for se in study.series if se.modality))
    acquired = [c for c in codes if _acquisition(c)] or codes
    named = modalities.labels(acquired, site.language)
    if len(named) > LABEL_MODALITIES_MAX:
        named = " ".join(acquired)
    return "  ·  ".join(p for p in (study.description, named) if p)


def _acquisition(code: str) -> bool:
    term = modalities.term(code)
    return term is None or term.retired or 29 in term.cid
