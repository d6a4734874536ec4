"""profiles/ and templates/ must work from an installed wheel, not only from the checkout.

The wheel goes into a fresh venv of its own (no system site-packages) whatever runs the tests:
the system's python3, the ``.venv`` of scripts/test.sh (Debian 12: the dependencies are in that
venv, not in the system), with or without PYTHONPATH pointing at the checkout. The wheel's
dependencies come from the interpreter running the tests (its site-packages directories, listed
in a ``.pth`` file: no download), and the venv's python runs isolated (``-I``: no PYTHONPATH, no
user site, no current directory), so ``import mediatool`` can only find the installed wheel.
"""

from __future__ import annotations

import os
import site
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

#: Run in the venv: every requirement of the installed mediatool is met there.
_REQUIREMENTS_MET = """
import importlib.metadata as md
from packaging.requirements import Requirement
unmet = []
for text in md.requires("mediatool") or []:
    req = Requirement(text)
    if req.marker is not None and not req.marker.evaluate({"extra": ""}):
        continue
    try:
        version = md.version(req.name)
    except md.PackageNotFoundError:
        version = None
    if version is None or not req.specifier.contains(version, prereleases=True):
        unmet.append(f"{req} (found {version})")
print(md.distribution("mediatool").locate_file(""))
print("unmet:", "; ".join(unmet))
"""


def _run(*cmd: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    return subprocess.run(
        [str(c) for c in cmd], check=True, capture_output=True, text=True, cwd=cwd, env=env
    )


def _dependency_dirs() -> list[str]:
    """Where the interpreter running the tests has mediatool's dependencies: its site-packages
    (a venv's own, plus the system's if the venv includes them); never PYTHONPATH entries."""
    dirs = site.getsitepackages()
    if site.ENABLE_USER_SITE:
        dirs.append(site.getusersitepackages())
    return [d for d in dirs if Path(d).is_dir()]


def _venv_with_wheel(env_dir: Path, wheel: Path) -> Path:
    """A venv without system site-packages holding the wheel; its python."""
    venv.EnvBuilder(system_site_packages=False, with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    _run(python, "-I", "-m", "pip", "install", "--quiet", "--no-index", "--no-deps", wheel)
    purelib = _run(python, "-I", "-c", "import sysconfig; print(sysconfig.get_path('purelib'))")
    # added after the install, so pip never sees (nor touches) the distributions found there;
    # plain directory lines: the .pth files in them (an editable checkout) are not processed
    Path(purelib.stdout.strip(), "zz_test_dependencies.pth").write_text(
        "".join(f"{d}\n" for d in _dependency_dirs())
    )
    return python


@pytest.mark.slow
def test_wheel_carries_profiles_and_templates(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--quiet",
            "-w",
            str(tmp_path / "dist"),
            str(REPO),
        ],
        check=True,
    )
    wheel = next((tmp_path / "dist").glob("mediatool-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "mediatool/_data/profiles/STD-GEN-CD.toml" in names
    assert any(n.startswith("mediatool/_data/templates/") for n in names)
    assert "mediatool/standard/modalities.toml" in names  # issue 18: the tables are data
    assert "mediatool/standard/sop_modalities.toml" in names

    env_dir = tmp_path / "venv"
    python = _venv_with_wheel(env_dir, wheel)
    code = (
        "import mediatool, mediatool.resources as r, mediatool.profiles as p;"
        "print(mediatool.__file__); print(r.data_dir('profiles')); print(r.data_dir('templates'));"
        "print(p.load('STD-GEN-CD').title);"
        "import mediatool.modalities as m; print(m.label('CT', 'pt-BR'), len(m.expectations()))"
    )
    out = _run(python, "-I", "-c", code, cwd=tmp_path).stdout.splitlines()
    assert out[0].startswith(str(env_dir))  # the installed copy, not the checkout
    assert out[1] == str(Path(out[0]).parent / "_data" / "profiles")
    assert out[2] == str(Path(out[0]).parent / "_data" / "templates")
    assert out[3] == "General Purpose CD-R Interchange"
    assert out[4].startswith("CT (Tomografia computadorizada) ")
    meta = _run(python, "-I", "-c", _REQUIREMENTS_MET, cwd=tmp_path).stdout.splitlines()
    assert meta[0].startswith(str(env_dir)), meta  # the wheel's metadata, not the checkout's
    assert meta[1] == "unmet: ", meta
