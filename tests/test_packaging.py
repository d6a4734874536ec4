"""profiles/ and templates/ must work from an installed wheel, not only from the checkout."""

from __future__ import annotations

import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


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
    venv.EnvBuilder(system_site_packages=True, with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--no-deps", "--force-reinstall", str(wheel)],
        check=True,
    )
    code = (
        "import mediatool, mediatool.resources as r, mediatool.profiles as p;"
        "print(mediatool.__file__); print(r.data_dir('profiles')); print(r.data_dir('templates'));"
        "print(p.load('STD-GEN-CD').title);"
        "import mediatool.modalities as m; print(m.label('CT', 'pt-BR'), len(m.expectations()))"
    )
    out = subprocess.run(
        [python, "-c", code], check=True, capture_output=True, text=True, cwd=tmp_path
    ).stdout.splitlines()
    assert out[0].startswith(str(env_dir))  # the installed copy, not the checkout
    assert out[1] == str(Path(out[0]).parent / "_data" / "profiles")
    assert out[2] == str(Path(out[0]).parent / "_data" / "templates")
    assert out[3] == "General Purpose CD-R Interchange"
    assert out[4].startswith("CT (Tomografia computadorizada) ")
