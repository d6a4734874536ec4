"""The zero-install browser viewer (``VIEWER/``) and an optional third-party viewer (``APP/``).

Browsers refuse ``fetch``/XHR of ``file://`` URLs and taint canvases drawn from local images,
so the viewer reads its data from ``VIEWER/DATA.JS`` (a ``<script src>`` that sets one global)
and shows the JPEGs of the web content (and the CT preset renderings) as plain ``<img>``
elements addressed by relative URLs. It needs no server, no network and no install, and works
from ``file://`` in current Chrome, Edge, Firefox and Safari.

A third-party viewer is copied as it is into ``APP/``; its names must already be ISO 9660
level 1 names (8.3, upper case, A-Z 0-9 _), and exactly one ``*.EXE`` at its top level is the
program ``AUTORUN.INF`` starts (IHE PDI: the medium must stay usable without autorun).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Final

from mediatool.dicom.fileids import is_level1_directory, is_level1_file
from mediatool.errors import MediatoolError
from mediatool.modalities import DEFAULT_LANGUAGE
from mediatool.resources import data_dir
from mediatool.web import i18n
from mediatool.web.i18n import N_
from mediatool.web.links import lower_links, lower_path
from mediatool.web.pages import Model, environment
from mediatool.web.product import exe_version_info
from mediatool.web.text import to_ascii

#: The words VIEWER.JS shows, as its string literals spell them: a disc in another language gets
#: a copy of VIEWER.JS with these literals replaced by their translations (``viewer_script``);
#: an English disc gets VIEWER.JS as it is. Each must occur in VIEWER.JS (tests check).
SCRIPT_MESSAGES: Final = (
    N_("\nZoom "),
    N_("Window "),
    N_("Window as stored"),
    N_("Window"),
    N_("Default"),
    N_("As stored in the images (1)"),
    N_("Series "),
    N_("Study"),
    N_("No description"),
    N_(" image"),
    N_(" images"),
    N_("No images in this study."),
    N_("Reports ("),
    N_("Open the PDF document"),
    N_(" other object(s) of this study are not shown "),
    N_("here; open DICOMDIR with a DICOM viewer to see them."),
)
APP_DIR: Final = "APP"
STATIC: Final = ("VIEWER.JS", "VIEWER.CSS")
MAX_DEPTH: Final = 7  # APP itself is the 8th level (ISO 9660 level 1: 8 levels)


def _up(path: str) -> str:
    """A path of the disc as the viewer links it: from ``VIEWER/``, in lower case (links.py)."""
    return lower_path(f"../{path}") if path else ""


def _series(series: dict[str, Any]) -> dict[str, Any]:
    prefix = series["image_dir"] + "/"
    return {
        "number": series["number"],
        "modality": series["modality"],
        "modalityLabel": series["modality_label"],
        "description": series["description"],
        "thumb": _up(series["thumb"]),
        "dir": _up(prefix),
        "files": [lower_path(i["src"].removeprefix(prefix)) for i in series["images"]],
        "captions": [i["caption"] for i in series["images"]],
        "window": series["window"],
        "presets": [
            {
                "key": p["key"],
                "label": p["label"],
                "dir": _up(p["dir"] + "/"),
                "center": p["center"],
                "width": p["width"],
            }
            for p in series["presets"]
        ],
    }


def _links(study: dict[str, Any]) -> dict[str, list[int]]:
    """SOP Instance UID → [series index, image index], for SR image references."""
    where: dict[str, list[int]] = {}
    for s, series in enumerate(study["series"]):
        for i, image in enumerate(series["images"]):
            where.setdefault(image["src"], [s, i])
    return {uid: where[src] for uid, src in study["links"].items() if src in where}


def viewer_data(model: Model) -> dict[str, Any]:
    """What ``DATA.JS`` carries: the model with paths relative to ``VIEWER/``."""
    site = model["site"]
    return {
        "site": {
            "name": site["name"],
            "department": site["department"],
            "contact": site["contact"],
            "logo": _up(site["logo"]),
            "configured": site["configured"],
        },
        "disc": model["disc"],
        "generator": model["generator"],
        "patients": [
            {
                "name": p["name"],
                "id": p["id"],
                "birthDate": p["birth_date"],
                "sex": p["sex"],
                "studies": [
                    {
                        "date": s["date"],
                        "time": s["time"],
                        "description": s["description"],
                        "accession": s["accession"],
                        "modalities": ", ".join(s["modality_labels"]),
                        "series": [_series(se) for se in s["series"]],
                        "reports": [
                            {
                                "kind": r["kind"],
                                "title": r["title"],
                                "date": r["date"],
                                "href": _up(r["href"]),
                                "meta": r["meta"],
                                "content": r["content"],
                            }
                            for r in s["reports"]
                        ],
                        "links": _links(s),
                        "others": len(s["others"]),
                    }
                    for s in p["studies"]
                ],
            }
            for p in model["patients"]
        ],
    }


def data_js(model: Model) -> bytes:
    """``window.MEDIATOOL_DISC = {...};``: ASCII JSON (no U+2028 surprises, deterministic) with
    ``<``, ``>`` and ``&`` as ``\\u`` escapes, so no markup from the data appears even there."""
    text = json.dumps(viewer_data(model), ensure_ascii=True, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return f"window.MEDIATOOL_DISC = {text};\n".encode("ascii")


def viewer_files(model: Model) -> list[tuple[str, bytes]]:
    """``VIEWER/*`` and, with a third-party viewer, ``AUTORUN.INF``."""
    page = (
        environment(model["language"])
        .get_template("viewer/VIEWER.HTM")
        .render(site=model["site"], disc=model["disc"], generator=model["generator"])
    )
    page = lower_links(page)
    files = [("VIEWER/VIEWER.HTM", page.encode("utf-8")), ("VIEWER/DATA.JS", data_js(model))]
    folder = data_dir("templates") / "viewer"
    files += [(f"VIEWER/{name}", (folder / name).read_bytes()) for name in STATIC]
    if model["language"] != DEFAULT_LANGUAGE:
        files = [
            (n, viewer_script(d, model["language"]) if n == "VIEWER/VIEWER.JS" else d)
            for n, d in files
        ]
    if model["app"]:
        files.append(("AUTORUN.INF", autorun(model)))
    return files


def viewer_script(script: bytes, language: str) -> bytes:
    """VIEWER.JS with the string literals of :data:`SCRIPT_MESSAGES` in ``language`` (as ASCII
    JSON strings: the file stays ASCII, whatever the translation)."""
    _ = i18n.gettext_for(language)
    text = script.decode("ascii")
    for message in SCRIPT_MESSAGES:
        text = text.replace(json.dumps(message), json.dumps(_(message)))
    return text.encode("ascii")


def autorun(model: Model) -> bytes:
    app = model["app"]
    label = to_ascii(model["site"]["name"] if model["site"]["configured"] else "Medical images")
    text = environment().get_template("AUTORUN.INF").render(app=app, label=label[:32])
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode("ascii", "replace")


def check_third_party(folder: Path) -> list[Path]:
    """The files of a third-party viewer folder, if every name fits ISO 9660 level 1."""
    if not folder.is_dir():
        raise MediatoolError(f"viewer folder {str(folder)!r} is not a folder")
    files: list[Path] = []
    bad: list[str] = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if path.is_symlink():
            raise MediatoolError(f"viewer folder {str(folder)!r}: {str(relative)!r} is a link")
        parts = relative.parts
        ok = len(parts) <= MAX_DEPTH and all(is_level1_directory(p) for p in parts[:-1])
        ok = ok and (is_level1_file if path.is_file() else is_level1_directory)(parts[-1])
        if not ok:
            bad.append(relative.as_posix())
        if path.is_file():
            files.append(path)
    if bad:
        shown = ", ".join(repr(b) for b in bad[:5]) + (" ..." if len(bad) > 5 else "")
        raise MediatoolError(
            f"viewer folder {str(folder)!r} has names a CD (ISO 9660 level 1) cannot hold: {shown}",
            hint="names must be 8.3, upper case A-Z 0-9 _, at most 7 folders deep",
        )
    exes = [p.name for p in files if p.parent == folder and p.suffix == ".EXE"]
    if len(exes) != 1:
        found = ", ".join(exes) if exes else "none"
        raise MediatoolError(
            f"viewer folder {str(folder)!r} needs exactly one .EXE at its top level for "
            f"AUTORUN.INF (found: {found})"
        )
    return files


def copy_third_party(folder: Path, root: Path) -> dict[str, str]:
    """Copy the viewer into ``root/APP``; returns what README, INDEX.HTM and AUTORUN.INF say."""
    files = check_third_party(folder)
    target = root / APP_DIR
    if target.exists():
        raise MediatoolError(f"{str(target)!r} already exists in the File-set folder")
    for path in files:
        dest = target / path.relative_to(folder)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, dest)
    exe = next(p.name for p in files if p.parent == folder and p.suffix == ".EXE")
    about = {k: to_ascii(v) for k, v in exe_version_info((folder / exe).read_bytes()).items()}
    return {
        "dir": APP_DIR,
        "exe": f"{APP_DIR}\\{exe}",
        "name": to_ascii(folder.name),
        "product": about.get("name", ""),
        "version": about.get("version", ""),
        "vendor": about.get("vendor", ""),
    }
