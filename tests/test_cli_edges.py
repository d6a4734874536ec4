"""Bad invocations end in a clear message and exit 2, never a traceback or 'internal error'."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from factories import make_instance, write_instance

from mediatool.cli import main


def test_bad_peer_is_a_usage_error() -> None:
    result = CliRunner().invoke(main, ["find", "nonsense", "--patient-id", "1"])
    assert result.exit_code == 2
    assert "Invalid value for PEER: 'nonsense' is not of the form AET@HOST:PORT" in result.stderr
    assert "Internal error" not in result.stderr


def test_archive_inside_the_media_is_refused(tmp_path: Path) -> None:
    media = tmp_path / "disc"
    write_instance(media / "IM1", make_instance())
    before = sorted(p.name for p in media.rglob("*"))
    result = CliRunner().invoke(main, ["import", str(media), "--into", str(media / "archive")])
    assert result.exit_code == 2
    assert "overlaps the media" in result.stderr
    assert sorted(p.name for p in media.rglob("*")) == before


def test_broken_pipe_is_not_an_internal_error(tmp_path: Path) -> None:
    import subprocess
    import sys

    proc = subprocess.run(
        f"{sys.executable} -m mediatool profiles show STD-GEN-CD --json | head -c 10",
        shell=True,
        capture_output=True,
        text=True,
        check=False,
    )
    assert "Internal error" not in proc.stderr and "Traceback" not in proc.stderr
