"""``mediatool update`` without ``--profile`` keeps the medium's Application Profile: the one its
records fit (mediatool/update/profile.py), on our media, on a USB stick and on foreign media."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import oracles
import pytest
from click.testing import CliRunner, Result
from factories import make_instance, write_instance
from pydicom import dcmread
from pydicom.fileset import FileSet

from mediatool import profiles
from mediatool.cli import main
from mediatool.update.profile import MediumFacts, choose, misfits
from mediatool.writers import usb

CT = "1.2.840.10008.5.1.4.1.1.2"
ELE = "1.2.840.10008.1.2.1"


def run(*args: object, env: dict[str, str] | None = None) -> Result:
    return CliRunner(env=env).invoke(main, [str(a) for a in args], catch_exceptions=False)


def instances(folder: Path, specs: list[tuple[int, int, int, int]]) -> Path:
    for p, st, se, n in specs:
        write_instance(folder / f"p{p}s{st}e{se}i{n}.dcm", make_instance(p, st, se, n))
    return folder


def update(disc: Path, new: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    result = run("update", disc, "--add", new, "--json", "-q", env=env)
    report: dict[str, Any] = json.loads(result.stdout)
    assert result.exit_code == 0, report
    return report


def said(report: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (f["code"], f["message"])
        for f in report["findings"]
        if f["code"].startswith("update.profile")
    ]


def built(tmp_path: Path, profile: str, src: Path | None = None) -> Path:
    src = src or instances(tmp_path / "src", [(1, 1, 1, 1), (1, 1, 1, 2)])
    disc = tmp_path / "disc"
    result = run("build", src, "--out", disc, "--profile", profile, "--no-web", "-q")
    assert result.exit_code == 0, result.stderr
    return disc


@pytest.mark.parametrize("profile", ["STD-GEN-CD", "STD-CTMR-CD", "STD-GEN-DVD-JPEG"])
def test_the_profile_a_disc_was_built_for_is_the_one_update_applies(
    tmp_path: Path, profile: str
) -> None:
    """Each of these fits a disc of CT images; the records tell them apart (the CT/MR keys and
    icons, the DVD profile's patient and image keys), and update keeps the disc conformant."""
    disc = built(tmp_path, profile)
    report = update(disc, instances(tmp_path / "new", [(1, 1, 1, 3)]))
    assert report["profile"] == profile
    [(code, message)] = said(report)
    assert code == "update.profile"
    assert message.startswith(f"Application Profile {profile}: the medium's files")
    valid = run("validate", disc, "--profile", profile, "--fail-on", "warning")
    assert valid.exit_code == 0, valid.stdout


def test_a_usb_stick_is_updated_for_its_usb_profile(tmp_path: Path) -> None:
    """The same records fit STD-GEN-DVD-JPEG and STD-GEN-USB-JPEG: on a mounted FAT file system
    (PS3.12 Annex R) the USB profile is the one; in a plain folder the DVD one comes first."""
    disc = built(tmp_path, "STD-GEN-USB-JPEG")
    folder = tmp_path / "copy"
    shutil.copytree(disc, folder)
    table = tmp_path / "mountinfo"
    point = str(disc.resolve()).replace(" ", "\\040")
    table.write_text(
        "1 0 8:1 / / rw - ext4 /dev/sda1 rw\n"
        f"36 1 8:17 / {point} rw,nosuid - vfat /dev/sdb1 rw,fmask=0022\n"
    )
    new = instances(tmp_path / "new", [(1, 1, 1, 3)])
    on_stick = update(disc, new, env={usb.MOUNTINFO_ENV: str(table)})
    assert on_stick["profile"] == "STD-GEN-USB-JPEG"
    assert "USB stick" in said(on_stick)[0][1]
    assert update(folder, new)["profile"] == "STD-GEN-DVD-JPEG"


def test_a_foreign_medium_no_profile_fits_gets_the_default_and_a_warning(tmp_path: Path) -> None:
    """pydicom's FileSet (an independent writer) with Implicit VR files: no profile allows them
    (PS3.11 D.3.1 asks for Explicit VR Little Endian), so the added files are written for
    STD-GEN-CD and the warning says why; the files already there stay as they are."""
    fs = FileSet()
    fs.ID = "FOREIGN"
    for n in (1, 2):
        path = write_instance(tmp_path / f"x{n}.dcm", make_instance(5, 1, 1, n), implicit=True)
        fs.add(dcmread(path))
    disc = tmp_path / "foreign"
    fs.write(disc)
    fs._stage["t"].cleanup()  # FileSet's staging folder, left to the GC it warns later
    before = {
        p.name: p.read_bytes() for p in disc.rglob("*") if p.is_file() and p.name != "DICOMDIR"
    }
    report = update(disc, instances(tmp_path / "new", [(5, 1, 1, 3)]))
    assert report["profile"] == "STD-GEN-CD"
    [(code, message)] = said(report)
    assert code == "update.profile-unknown"
    assert "Implicit VR Little Endian is not allowed" in message
    after = {
        p.name: p.read_bytes() for p in disc.rglob("*") if p.is_file() and p.name != "DICOMDIR"
    }
    assert {k: after[k] for k in before} == before
    assert oracles.dciodvfy(disc / "DICOMDIR").errors == []


def test_an_explicit_profile_is_applied_and_nothing_is_guessed(tmp_path: Path) -> None:
    disc = built(tmp_path, "STD-GEN-CD")
    new = instances(tmp_path / "new", [(1, 1, 1, 3)])
    result = run("update", disc, "--add", new, "--profile", "STD-CTMR-CD", "--json", "-q")
    report = json.loads(result.stdout)
    assert report["profile"] == "STD-CTMR-CD"
    assert said(report) == []


def test_the_rules_of_the_choice() -> None:
    gen, ctmr, dvd = (profiles.load(p) for p in ("STD-GEN-CD", "STD-CTMR-CD", "STD-GEN-DVD-JPEG"))
    plain = MediumFacts(frozenset({(CT, ELE)}), {"IMAGE": frozenset()}, on_fat=False)
    assert misfits(gen, plain) == []
    assert misfits(ctmr, plain) == ["IMAGE records lack keys STD-CTMR-CD requires"]
    xa = profiles.load("STD-XABC-CD")
    xa_class = "1.2.840.10008.5.1.4.1.1.12.1"
    bare = MediumFacts(frozenset({(xa_class, ELE)}), {"IMAGE": frozenset()}, on_fat=False)
    assert "IMAGE records lack the icons STD-XABC-CD requires (PS3.3 F.7)" in misfits(xa, bare)
    assert choose([dvd, ctmr, gen], plain) is gen
    jpeg = MediumFacts(
        frozenset({(CT, "1.2.840.10008.1.2.4.50")}), {"IMAGE": frozenset()}, on_fat=False
    )
    assert choose([gen, ctmr], jpeg) is None
    assert "JPEG Baseline (Process 1) is not allowed" in misfits(gen, jpeg)[0]
