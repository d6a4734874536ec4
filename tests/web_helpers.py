"""Helpers of the web content tests (tests/web): a File-set built with the real pipeline, the
hostile text, and Chromium."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mediatool import build as build_mod
from mediatool import profiles

EVIL = "<script>alert(1)</script>"


def build_fileset(sources: Path, out: Path) -> Path:
    request = build_mod.BuildRequest(
        sources=(str(sources),),
        out=out,
        profile=profiles.load(profiles.DEFAULT_PROFILE),
        fileset_id="WEBTEST",
        force=True,
        web=False,  # the tests write the web content themselves
    )
    build_mod.run(request)
    return out


def chromium_executable() -> str:
    """The browser for the end-to-end tests; missing is a failure (scripts/test.sh installs it)."""
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    pytest.fail(
        "Chromium is not installed (Debian package 'chromium'; scripts/test.sh installs "
        "it): the viewer cannot be tested"
    )
