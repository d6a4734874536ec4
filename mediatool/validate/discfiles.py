"""Which non-DICOM files of a disc are its expected companions (pure).

A patient disc carries more than images: IHE PDI web content (PS3.12 / IHE RAD TF-3 4.47: an
``INDEX.HTM`` at the root and ``IHE_PDI/``), a ``README.TXT``, a viewer program, reports and
autorun files. mediatool's own layout is ``INDEX.HTM``, ``README.TXT``, ``IHE_PDI/``,
``VIEWER/``, ``REPORTS/``, ``APP/`` and ``AUTORUN.INF``; other vendors put their viewers in
folders such as ``VIEWER``, ``WEASIS`` or ``RADIANT``. Such files are "viewer and web pages
(expected)" for the person at the desk, not a problem of the disc.
"""

from __future__ import annotations

from typing import Final

#: Top-level file names (upper case) a disc carries beside its images.
ROOT_FILES: Final = frozenset(
    {
        "INDEX.HTM",
        "INDEX.HTML",
        "README.TXT",
        "README.HTM",
        "README.HTML",
        "README",
        "AUTORUN.INF",
        "AUTORUN.EXE",
        "AUTORUN.ICO",
        "AUTORUN.BAT",
        "AUTORUN.SH",
        "SETUP.EXE",
        "START.EXE",
        "START.HTM",
        "VIEWER.EXE",
        "RUN.BAT",
        "LABEL.PNG",
        "DICOMDIR.TXT",
    }
)
#: Top-level folders (upper case) of web content, viewers and reports.
FOLDERS: Final = frozenset(
    {
        "IHE_PDI",
        "VIEWER",
        "VIEWERS",
        "REPORTS",
        "APP",
        "APPS",
        "WEB",
        "HTML",
        "JRE",
        "JAVA",
        "PROGRAM",
        "PROGRAMS",
        "BIN",
        "LIB",
        "TOOLS",
        "DOCS",
        "CSS",
        "JS",
        "IMAGES",
        "WEASIS",
        "RADIANT",
        "MICRODICOM",
        "KPACS",
        "K-PACS",
        "EFILM",
        "EFILMLT",
        "SYNGO",
        "OSIRIX",
        "CDVIEWER",
        "DICOMVIEWER",
        "VIEWER_WIN",
        "VIEWER_MAC",
        "MAC",
        "WIN",
        "WINDOWS",
        "AUTORUN",
    }
)
_EXTENSIONS: Final = frozenset({".EXE", ".DLL", ".INF", ".ICO", ".HTM", ".HTML", ".PDF"})


def expected_companion(path: str) -> bool:
    """``path`` (POSIX, relative to the media root) is web content, a viewer or autorun file."""
    parts = [p for p in path.replace("\\", "/").split("/") if p]
    if not parts:
        return False
    first = parts[0].upper()
    if len(parts) == 1:
        dot = first.rfind(".")
        return first in ROOT_FILES or (dot > 0 and first[dot:] in _EXTENSIONS)
    return first in FOLDERS
