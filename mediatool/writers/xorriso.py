"""★ The thin edge to xorriso (libburnia), Debian's maintained burner: probe, record, read back.

Only this module runs xorriso; :mod:`.burn` plans and decides. The commands are xorriso's own,
as ``man xorriso`` and ``man xorrecord`` (xorriso 1.5.4) describe them:

- probe: ``xorriso -outdev ADDR -toc -tell_media_space``, whose "Drive type", "Media current",
  "Media status" and "Media space" lines say which drive, which medium, whether it is blank and
  how many 2048-byte blocks it can still take;
- record: ``xorriso -as cdrecord -v dev=ADDR [blank=as_needed] padsize=N IMAGE`` (xorrecord:
  the image is written as is, a raw data track from block 0);
- read back: ``xorriso -outdev ADDR -check_media data_to=- use=outdev what=disc min_lba=0
  max_lba=N --`` (the example of ``-check_media``: the medium's blocks on stdout, read through
  the drive, not through a mounted file system);
- eject: ``xorriso -outdev ADDR -eject all``.

Addresses: ``stdio:PATH`` is xorriso's pseudo-drive on a file; any other device is given as
``mmc:DEV`` ("surely disallow any automatic stdio:", man xorriso, so a mistyped /dev path can
never become a file). Messages are read in the C locale.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Final

from mediatool.errors import MediatoolError

BLOCK: Final = 2048
INSTALL_HINT: Final = "install xorriso (Debian and Ubuntu: apt install xorriso)"
_ENV_LOCALE: Final = {"LC_ALL": "C", "LANG": "C"}
#: "xorriso : UPDATE :  107 of  143 MB written (fifo 99%) [buf  50%]  55.9x." (xorrecord -v)
_WRITTEN: Final = re.compile(r"UPDATE :\s+(\d+) of\s+(\d+) MB written")
#: "xorriso : UPDATE : 551 of 551 blocks read in 1 s = 0.8xD" (-check_media)
_READ: Final = re.compile(r"UPDATE :\s+(\d+) of\s+(\d+) blocks read")
#: the lines of xorriso and libburn that say why a run failed
_PROBLEM: Final = re.compile(r"^(?:xorriso|libburn|libisofs) : (FAILURE|SORRY|FATAL) : (.*)$")
_READ_CHUNK: Final = 1 << 20

#: (done, total, unit) as xorriso's pacifier reports it
Pacifier = Callable[[int, int, str], None]


class XorrisoError(MediatoolError):
    """xorriso is missing or could not carry out a command (the message says which)."""


@dataclass(frozen=True, slots=True)
class MediumInfo:
    """What xorriso says about a drive and the medium in it (:func:`parse_media`)."""

    drive: str  # "vendor 'HL-DT-ST' product 'DVDRAM GH24NSD1'"; pseudo-drives have their own
    medium: str  # "DVD+RW", "CD-R", "stdio file, overwriteable", "" when none is loaded
    status: str  # "is blank", "is written , is appendable", "is not present", ...
    free_blocks: int | None  # 2048-byte blocks the medium can still take ("Media space")

    @property
    def blank(self) -> bool:
        return "blank" in self.status

    @property
    def present(self) -> bool:
        return bool(self.medium) and "not present" not in self.status

    @property
    def erasable(self) -> bool:
        """Rewritable media (CD-RW, DVD±RW, DVD-RAM, BD-RE) and overwritable pseudo-drives."""
        return bool(re.search(r"RW|RE\b|RAM|overwriteable", self.medium))

    @property
    def free(self) -> int | None:
        return None if self.free_blocks is None else self.free_blocks * BLOCK


def executable() -> str:
    """The xorriso program on PATH.

    Raises
    ------
    XorrisoError
        xorriso is not installed (exit 2).
    """
    found = shutil.which("xorriso")
    if found is None:
        raise XorrisoError("xorriso is not installed (not found on PATH)", hint=INSTALL_HINT)
    return found


def address(device: str) -> str:
    """The xorriso address of ``device``: ``stdio:PATH`` as given, any other as ``mmc:DEV``."""
    return device if device.startswith("stdio:") else f"mmc:{device}"


def _field(lines: Sequence[str], key: str) -> str:
    """The value of the last ``key : value`` line (xorriso aligns keys with spaces)."""
    pattern = re.compile(rf"^{re.escape(key)}\s*:\s?(.*)$")
    values = [m.group(1).strip() for line in lines if (m := pattern.match(line))]
    return values[-1] if values else ""


def parse_media(lines: Sequence[str]) -> MediumInfo:
    """The drive and medium from the lines of ``-toc -tell_media_space`` (pure)."""
    space = re.match(r"(\d+)s$", _field(lines, "Media space"))
    medium = _field(lines, "Media current")
    return MediumInfo(
        drive=_field(lines, "Drive type") or _field(lines, "Drive current"),
        medium="" if medium in ("", "is not present", "none") else medium,
        status=_field(lines, "Media status").replace(" , ", ", "),
        free_blocks=int(space.group(1)) if space else None,
    )


def problems(lines: Sequence[str]) -> str:
    """xorriso's FAILURE/SORRY/FATAL messages, without its closing "aborting" line (pure)."""
    said = [m.group(2).strip() for line in lines if (m := _PROBLEM.match(line.strip()))]
    said = [s for s in said if not s.startswith("-as cdrecord: Job could not be performed")]
    return "; ".join(dict.fromkeys(said)) or "xorriso gave no reason"


def pacifier(line: str) -> tuple[int, int, str] | None:
    """(done, total, unit) from a pacifier line of xorrecord or -check_media (pure)."""
    if m := _WRITTEN.search(line):
        return int(m.group(1)), int(m.group(2)), "MB"
    if m := _READ.search(line):
        return int(m.group(1)), int(m.group(2)), "blocks"
    return None


def _drain(stream: IO[str], lines: list[str], on_progress: Pacifier | None) -> None:
    """Keep every line of ``stream``; hand pacifier lines to ``on_progress`` as they come."""
    with stream:
        for line in stream:  # text mode: "\r" ends a line as well as "\n"
            lines.append(line.rstrip("\n"))
            if on_progress is not None and (step := pacifier(line)) is not None:
                on_progress(*step)


class _Run:
    """One xorriso process: stdout to the caller, stderr (its info channel) collected by a
    thread so that neither pipe can fill up and stall it."""

    def __init__(self, args: Sequence[str], on_progress: Pacifier | None = None) -> None:
        env = {**os.environ, **_ENV_LOCALE}
        try:
            self.proc = subprocess.Popen(
                [executable(), *args],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env,
            )
        except OSError as exc:
            raise XorrisoError(f"cannot run xorriso: {exc}", hint=INSTALL_HINT) from exc
        assert self.proc.stderr is not None and self.proc.stdout is not None
        self.stdout: IO[bytes] = self.proc.stdout
        self.lines: list[str] = []
        text = io.TextIOWrapper(self.proc.stderr, encoding="utf-8", errors="replace")
        self._thread = threading.Thread(
            target=_drain, args=(text, self.lines, on_progress), daemon=True
        )
        self._thread.start()

    def finish(self, *, text: bool = True) -> int:
        """Wait for the end; the exit status (xorriso: 0 done, non-zero when it failed).

        ``text``: stdout is xorriso's result channel (``-toc``), kept with the messages;
        otherwise it is data and whatever is left of it is dropped."""
        with self.stdout:
            rest = self.stdout.read()
        if text:
            self.lines.extend(rest.decode("utf-8", "replace").splitlines())
        code = self.proc.wait()
        self._thread.join()
        return code

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.stdout.close()
        self.proc.wait()
        self._thread.join()


def probe(addr: str) -> tuple[MediumInfo | None, str]:
    """The drive at ``addr`` and its medium; ``(None, why)`` when xorriso cannot acquire it."""
    run = _Run(["-outdev", addr, "-toc", "-tell_media_space"])
    code = run.finish()
    if code != 0:
        return None, problems(run.lines)
    return parse_media(run.lines), ""


def record(
    addr: str, image: Path, *, blank: bool, pad: int, on_progress: Pacifier | None = None
) -> str | None:
    """Write ``image`` as is from block 0 (xorrecord); None when done, else xorriso's reason.

    ``pad`` zero bytes follow the image (xorrecord's padsize, against the unreadable last
    blocks of TAO CDs on Linux); ``blank`` erases a written rewritable medium first.
    """
    args = ["-as", "cdrecord", "-v", f"dev={addr}", f"padsize={pad // BLOCK}s"]
    if blank:
        args.append("blank=as_needed")
    # an absolute path: never taken for an option; "--" would end -as cdrecord's arguments
    run = _Run([*args, os.fspath(image.resolve())], on_progress)
    code = run.finish()
    return None if code == 0 else problems(run.lines)


def read_sha256(addr: str, size: int, on_progress: Pacifier | None = None) -> tuple[str, int, str]:
    """SHA-256 of the first ``size`` bytes on the medium, read back through the drive.

    Returns (hex digest, bytes read, xorriso's reason when it stopped early or failed).
    """
    last = max((size + BLOCK - 1) // BLOCK - 1, 0)
    args = ["-outdev", addr, "-check_media", "data_to=-", "use=outdev", "what=disc"]
    run = _Run([*args, "min_lba=0", f"max_lba={last}", "--"], on_progress)
    digest, got = hashlib.sha256(), 0
    try:
        while got < size and (chunk := run.stdout.read(min(_READ_CHUNK, size - got))):
            digest.update(chunk)
            got += len(chunk)
    except BaseException:
        run.kill()
        raise
    code = run.finish(text=False)
    return digest.hexdigest(), got, "" if code == 0 else problems(run.lines)


def eject(addr: str) -> str | None:
    """Open the tray (nothing happens on a pseudo-drive); None when done, else the reason."""
    run = _Run(["-outdev", addr, "-eject", "all"])
    return None if run.finish() == 0 else problems(run.lines)
