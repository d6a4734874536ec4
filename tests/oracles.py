"""Wrappers around independent reference tools ("oracles") used by the test-suite.

Every wrapper runs its tool with :mod:`subprocess` (``LANG=C``, a timeout, a cap on the amount
of output kept) and returns a parsed report; it never raises because the *data* is bad. A tool
that is not installed makes the calling test FAIL (never skip): the suite is only meaningful with
the oracles present, and ``scripts/test.sh`` installs them.

Observed behaviour of each tool (message formats, exit codes, blind spots, noise on valid
input) is recorded in ``tests/ORACLES.md``; keep the two in step.

Summary of the API::

    dciodvfy(path)              -> DciodvfyReport   (dicom3tools, IOD check; -new format)
    dcdirdmp(path)              -> DcdirdmpReport   (dicom3tools, DICOMDIR walk; offsets)
    dcentvfy(paths)             -> OracleReport     (dicom3tools, entity consistency)
    dcmdump(path)               -> OracleReport     (DCMTK parser)
    dcmftest(paths)             -> dict[Path, bool] (DCMTK: is it a Part 10 file?)
    dcmmkdir_check(folder)      -> DcmmkdirReport   (DCMTK accepts every file of a File-set?)
    dcmmkdir_build(folder)      -> DcmmkdirReport   (reference DICOMDIR made by DCMTK)
    dcmtk_dicomdir_load(path)   -> OracleReport     (DCMTK DcmDicomDir offset resolution)
    isoinfo_pvd(iso)            -> IsoPvd           (genisoimage isoinfo -d)
    isoinfo_listing(iso)        -> IsoListing       (genisoimage isoinfo -l, ISO 9660 names)
    xorriso_extract(iso, dest)  -> XorrisoReport    (libisoburn extraction)
"""

from __future__ import annotations

import fnmatch
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pytest

__all__ = [
    "DCIODVFY_NOISE",
    "DcdirdmpRecord",
    "DcdirdmpReport",
    "DciodvfyReport",
    "DcmmkdirReport",
    "IsoEntry",
    "IsoListing",
    "IsoPvd",
    "OracleMessage",
    "OracleReport",
    "XorrisoReport",
    "dcdirdmp",
    "dcentvfy",
    "dciodvfy",
    "dcmdump",
    "dcmftest",
    "dcmmkdir_build",
    "dcmmkdir_check",
    "dcmtk_dicomdir_load",
    "isoinfo_listing",
    "isoinfo_pvd",
    "require_tool",
    "xorriso_extract",
]

DEFAULT_TIMEOUT = 120.0
#: Output kept per stream; a tool producing more is killed (dcdirdmp recurses forever on a
#: DICOMDIR whose offsets form a cycle, printing ever more deeply indented lines).
DEFAULT_MAX_OUTPUT = 8 * 1024 * 1024

Level = Literal["error", "warning"]


# --------------------------------------------------------------------------------------------
# Reports
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OracleMessage:
    """One diagnostic of a tool.

    ``path`` is the attribute path dciodvfy prints in ``-new`` format, e.g.
    ``DirectoryRecordSequence(0004,1220)[4]/ImageType(0008,0008)`` (item numbers are 1-based).
    """

    level: Level
    text: str
    path: str | None = None

    @property
    def record_index(self) -> int | None:
        """1-based index of the Directory Record Sequence item the message is about, if any."""
        m = re.search(r"DirectoryRecordSequence\(0004,1220\)\[(\d+)\]", self.path or "")
        return int(m.group(1)) if m else None

    def __str__(self) -> str:
        return f"{self.path}: {self.text}" if self.path else self.text


@dataclass
class OracleReport:
    """Result of one oracle run.

    ``errors``/``warnings`` hold message texts without the tool's level prefix (dicom3tools
    ``Error - ``/``Warning - ``/``Abort - ``; DCMTK ``E: ``/``W: ``/``F: ``), continuation lines
    joined with a newline. ``raw`` is stdout followed by stderr, exactly as produced (up to the
    output cap).
    """

    tool: str
    command: list[str]
    returncode: int | None
    stdout: str
    stderr: str
    messages: list[OracleMessage] = field(default_factory=list)
    timed_out: bool = False
    output_truncated: bool = False

    @property
    def raw(self) -> str:
        return self.stdout + self.stderr

    @property
    def errors(self) -> list[str]:
        return [str(m) for m in self.messages if m.level == "error"]

    @property
    def warnings(self) -> list[str]:
        return [str(m) for m in self.messages if m.level == "warning"]

    @property
    def ok(self) -> bool:
        """No error message, exit status 0, finished in time."""
        return not self.errors and self.returncode == 0 and not self.timed_out

    def has_error(self, pattern: str) -> bool:
        """True if some error message matches the regular expression ``pattern``."""
        rx = re.compile(pattern)
        return any(rx.search(e) for e in self.errors)

    def has_warning(self, pattern: str) -> bool:
        rx = re.compile(pattern)
        return any(rx.search(w) for w in self.warnings)

    def describe(self) -> str:
        status = "TIMEOUT" if self.timed_out else f"exit {self.returncode}"
        cut = " (output truncated)" if self.output_truncated else ""
        return f"$ {' '.join(self.command)}\n[{status}{cut}]\n{self.raw}"

    def assert_ok(self) -> None:
        """Fail the calling test, showing the tool's output, unless :attr:`ok`."""
        if not self.ok:
            pytest.fail(f"{self.tool} reported problems:\n{self.describe()}", pytrace=False)


#: Warnings dciodvfy (-new format) always prints on valid DICOMDIRs made by DCMTK 3.6.x:
#: DCMTK copies Image Type (0008,0008) into every IMAGE record, which dicom3tools' Basic
#: Directory IOD does not list as a key. Classic (non -new) format adds one summary line.
DCIODVFY_NOISE: tuple[re.Pattern[str], ...] = (
    re.compile(
        r"^DirectoryRecordSequence\(0004,1220\)\[\d+\]/ImageType\(0008,0008\): "
        r"Attribute is not present in standard DICOM IOD$"
    ),
    re.compile(r"this is a Standard Extended SOP Class$"),
)


@dataclass
class DciodvfyReport(OracleReport):
    #: IOD name dciodvfy recognised (e.g. ``BasicDirectory``, ``CTImage``), if printed.
    iod: str | None = None

    @property
    def significant_warnings(self) -> list[str]:
        """Warnings minus the known noise in :data:`DCIODVFY_NOISE`."""
        return [w for w in self.warnings if not any(rx.search(w) for rx in DCIODVFY_NOISE)]


@dataclass(frozen=True)
class DcdirdmpRecord:
    offset: int  # file offset of the record's Item tag
    depth: int  # 0 = root directory entity
    label: str  # e.g. "PATIENT Doe^John 123", "IMAGE 1"
    file_id: str | None = None  # Referenced File ID as printed, backslash-separated


@dataclass
class DcdirdmpReport(OracleReport):
    root_first: int | None = None
    root_last: int | None = None
    record_count: int | None = None  # items in the Directory Record Sequence
    records: list[DcdirdmpRecord] = field(default_factory=list)  # in depth-first walk order

    @property
    def referenced_files(self) -> list[str]:
        return [r.file_id for r in self.records if r.file_id is not None]


@dataclass
class DcmmkdirReport(OracleReport):
    files: list[str] = field(default_factory=list)  # File-set-relative paths given to dcmmkdir
    rejected: list[str] = field(default_factory=list)  # "N file(s) cannot be added" list
    dicomdir: Path | None = None  # output DICOMDIR (only kept by dcmmkdir_build)


@dataclass
class XorrisoReport(OracleReport):
    dest: Path = Path()
    volume_id: str | None = None

    @property
    def files(self) -> list[Path]:
        """Regular files extracted, relative to ``dest``, sorted."""
        if not self.dest.is_dir():
            return []
        return sorted(p.relative_to(self.dest) for p in self.dest.rglob("*") if p.is_file())


@dataclass
class IsoPvd:
    """``isoinfo -d``: the Primary Volume Descriptor as isoinfo prints it.

    isoinfo strips the trailing space padding of identifiers, so ``volume_id`` is the
    trimmed Volume Identifier (an all-space identifier prints as ``""``).
    """

    raw: str
    returncode: int | None
    is_iso9660: bool
    fields: dict[str, str]
    joliet: bool
    rock_ridge: bool

    @property
    def volume_id(self) -> str | None:
        return self.fields.get("Volume id")

    @property
    def system_id(self) -> str | None:
        return self.fields.get("System id")

    @property
    def application_id(self) -> str | None:
        return self.fields.get("Application id")

    @property
    def block_size(self) -> int | None:
        v = self.fields.get("Logical block size is")
        return int(v) if v else None

    @property
    def volume_size(self) -> int | None:
        """Volume Space Size in logical blocks."""
        v = self.fields.get("Volume size is")
        return int(v) if v else None


@dataclass(frozen=True)
class IsoEntry:
    path: str  # full ISO 9660 path as recorded, e.g. "/DICOM/CT1.;1"
    size: int
    extent: int
    flags: int  # ISO 9660 File Flags byte (0x02 = directory)
    mode: str

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def is_dir(self) -> bool:
        return bool(self.flags & 0x02)


@dataclass
class IsoListing:
    """``isoinfo -l``: every entry of the primary (ISO 9660) hierarchy except ``.`` / ``..``."""

    raw: str
    returncode: int | None
    is_iso9660: bool
    entries: list[IsoEntry]

    @property
    def files(self) -> list[str]:
        return [e.path for e in self.entries if not e.is_dir]

    @property
    def directories(self) -> list[str]:
        return [e.path for e in self.entries if e.is_dir]

    @property
    def names(self) -> list[str]:
        """ISO 9660 identifiers of all files and directories, e.g. ``CT1.;1``, ``DICOM``."""
        return [e.name for e in self.entries]


# --------------------------------------------------------------------------------------------
# Running tools
# --------------------------------------------------------------------------------------------

_INSTALL_HINT = "run scripts/test.sh"


def require_tool(name: str) -> str:
    """Absolute path of executable ``name``; fails the current test if it is not installed."""
    exe = shutil.which(name)
    if exe is None:
        pytest.fail(f"{name} not installed: {_INSTALL_HINT}", pytrace=False)
    return exe


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(LANG="C", LC_ALL="C", LANGUAGE="C")
    return env


@dataclass
class _Run:
    command: list[str]
    returncode: int | None  # None if the oracle was killed
    stdout: str
    stderr: str
    timed_out: bool
    truncated: bool  # output cut at max_output (the process was killed if still running)


def _run(
    command: Sequence[str | os.PathLike[str]],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    max_output: int = DEFAULT_MAX_OUTPUT,
    cwd: Path | None = None,
) -> _Run:
    """Run ``command``; kill it on timeout or when a stream exceeds ``max_output`` bytes.

    Output goes to temporary files (not pipes) so a runaway tool cannot exhaust memory.
    """
    argv = [os.fspath(c) for c in command]
    exe = require_tool(argv[0])
    killed = timed_out = False
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            [exe, *argv[1:]],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            cwd=cwd,
            env=_env(),
        )
        deadline = time.monotonic() + timeout
        while True:
            try:
                proc.wait(timeout=0.05)
                break
            except subprocess.TimeoutExpired:
                pass
            too_much = max(os.fstat(out.fileno()).st_size, os.fstat(err.fileno()).st_size)
            timed_out = time.monotonic() > deadline
            if too_much > max_output or timed_out:
                proc.kill()
                proc.wait()
                killed = True
                break
        texts: list[str] = []
        truncated = False
        for f in (out, err):
            f.seek(0)
            data = f.read(max_output)
            truncated = truncated or bool(f.read(1))
            texts.append(data.decode("utf-8", errors="replace"))
    return _Run(argv, None if killed else proc.returncode, texts[0], texts[1], timed_out, truncated)


def _limit_messages(run: _Run, timeout: float) -> list[OracleMessage]:
    msgs: list[OracleMessage] = []
    if run.timed_out:
        msgs.append(OracleMessage("error", f"oracle killed: timed out after {timeout:g} s"))
    elif run.returncode is None:
        msgs.append(OracleMessage("error", "oracle killed: output limit exceeded"))
    elif run.truncated:
        msgs.append(OracleMessage("warning", "oracle output truncated at the output limit"))
    return msgs


# dicom3tools: "Error - text", "Warning - text", "Abort - text"; -new format puts the attribute
# path first: "Error - </Path(gggg,eeee)[n]/...> - text". Classic format also has lines such as
# "(0x0004,0x1220) SQ Directory Record Sequence  - Error - Bad Explicit Value Length ...".
_D3_LINE = re.compile(r"^(?P<level>Error|Warning|Abort) - (?P<text>.*)$")
_D3_PREFIXED = re.compile(
    r"^(?P<prefix>\(0x[0-9a-fA-F]{4},0x[0-9a-fA-F]{4}\).*?)\s+-\s+"
    r"(?P<level>Error|Warning|Abort) - (?P<text>.*)$"
)
_D3_PATH = re.compile(r"^</(?P<path>[^>]*)>\s+-\s+(?P<text>.*)$")


def _parse_dicom3tools(text: str) -> tuple[list[OracleMessage], list[str]]:
    """Messages, and the remaining (non-message) lines."""
    msgs: list[OracleMessage] = []
    other: list[str] = []
    for line in text.splitlines():
        m = _D3_LINE.match(line) or _D3_PREFIXED.match(line)
        if m is None:
            other.append(line)
            continue
        level: Level = "warning" if m.group("level") == "Warning" else "error"
        body = m.group("text").rstrip()
        if "prefix" in m.groupdict():
            msgs.append(OracleMessage(level, body, m.group("prefix").strip()))
        elif pm := _D3_PATH.match(body):
            msgs.append(OracleMessage(level, pm.group("text").rstrip(), pm.group("path")))
        else:
            msgs.append(OracleMessage(level, body))
    return msgs, other


# DCMTK log lines: "E: text", "W: text", "F: text" (fatal), "I:", "D:", "T:". A line whose text
# starts with whitespace (or is empty) continues the previous message ("E:      ^" under a
# bad filename, indented lists after "W: 2 file(s) cannot be added to DICOMDIR:").
_DCMTK_LINE = re.compile(r"^(?P<level>[FEWIDT]): ?(?P<text>.*)$")


def _parse_dcmtk(text: str) -> list[OracleMessage]:
    msgs: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        m = _DCMTK_LINE.match(line)
        if m is None:
            continue
        lvl, body = m.group("level"), m.group("text")
        if msgs and (body == "" or body[0].isspace()) and msgs[-1][0] == lvl:
            msgs[-1][1].append(body)
            continue
        msgs.append((lvl, [body]))
    out: list[OracleMessage] = []
    for lvl, lines in msgs:
        if lvl in "FE":
            out.append(OracleMessage("error", "\n".join(lines).rstrip()))
        elif lvl == "W":
            out.append(OracleMessage("warning", "\n".join(lines).rstrip()))
    return out


def _check_input(path: Path) -> None:
    if not path.exists():
        raise FileNotFoundError(path)  # a bug in the test, not a finding about the data


# --------------------------------------------------------------------------------------------
# dicom3tools
# --------------------------------------------------------------------------------------------


def dciodvfy(
    path: str | os.PathLike[str],
    *,
    new_format: bool = True,
    profile: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> DciodvfyReport:
    """IOD validation of one file by dicom3tools ``dciodvfy`` (all output on stderr).

    Exit status: 0 when no ``Error``/``Abort`` line was printed, 1 otherwise (warnings alone
    keep 0). Does not check DICOMDIR offsets, the Part 10 preamble, nor referenced files.
    """
    p = Path(path)
    _check_input(p)
    cmd: list[str | os.PathLike[str]] = ["dciodvfy"]
    if new_format:
        cmd.append("-new")
    if profile:
        cmd += ["-profile", profile]
    run = _run([*cmd, p], timeout=timeout)
    msgs, other = _parse_dicom3tools(run.stderr)
    iod = next((ln for ln in other if re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", ln)), None)
    return DciodvfyReport(
        "dciodvfy",
        run.command,
        run.returncode,
        run.stdout,
        run.stderr,
        _limit_messages(run, timeout) + msgs,
        run.timed_out,
        run.truncated,
        iod=iod,
    )


_DIRDMP_HEADER = re.compile(
    r"^(RootDirectoryFirstRecord|RootDirectoryLastRecord|Number of records) = (0x[0-9a-fA-F]+|\d+)$"
)
_DIRDMP_RECORD = re.compile(r"^(?P<tabs>\t*)0x(?P<off>[0-9a-fA-F]+): (?P<label>.*?)\s*$")
_DIRDMP_FILE = re.compile(r"^\t* -> (?P<fid>.*?)\s*$")


def dcdirdmp(
    path: str | os.PathLike[str],
    *,
    timeout: float = 60.0,
    max_output: int = DEFAULT_MAX_OUTPUT,
) -> DcdirdmpReport:
    """Walk a DICOMDIR with dicom3tools ``dcdirdmp -showrecordinfo`` (all output on stderr).

    Reports ``Error - Directory record offset invalid - doesn't point to a directory record -
    0x<offset>`` (exit 1) for an offset that is not the position of an Item tag; does not detect
    cycles (it recurses until killed: reported here as an output-limit/timeout error), records
    reachable twice, wrong root-last offsets, orphans, or illegal parent/child types.
    """
    p = Path(path)
    _check_input(p)
    run = _run(["dcdirdmp", "-showrecordinfo", p], timeout=timeout, max_output=max_output)
    msgs, other = _parse_dicom3tools(run.stderr)
    rep = DcdirdmpReport(
        "dcdirdmp",
        run.command,
        run.returncode,
        run.stdout,
        run.stderr,
        _limit_messages(run, timeout) + msgs,
        run.timed_out,
        run.truncated,
    )
    for line in other:
        if hm := _DIRDMP_HEADER.match(line):
            value = int(hm.group(2), 0)
            if hm.group(1) == "RootDirectoryFirstRecord":
                rep.root_first = value
            elif hm.group(1) == "RootDirectoryLastRecord":
                rep.root_last = value
            else:
                rep.record_count = value
        elif rm := _DIRDMP_RECORD.match(line):
            rep.records.append(
                DcdirdmpRecord(int(rm.group("off"), 16), len(rm.group("tabs")), rm.group("label"))
            )
        elif (fm := _DIRDMP_FILE.match(line)) and rep.records:
            last = rep.records[-1]
            rep.records[-1] = DcdirdmpRecord(last.offset, last.depth, last.label, fm.group("fid"))
    return rep


def dcentvfy(
    paths: Iterable[str | os.PathLike[str]],
    *,
    timeout: float = DEFAULT_TIMEOUT,
) -> OracleReport:
    """Entity consistency across files by dicom3tools ``dcentvfy`` (all output on stderr).

    Files are passed through ``-f <list file>`` (one path per line; absolute paths, so messages
    name files by absolute path). Exit 1 if any ``Error``. Read failures ("Error - Dicom dataset
    read failed") are not attributed to a file. A DICOMDIR among the inputs is ignored silently.
    """
    files = [Path(p).resolve() for p in paths]
    for f in files:
        _check_input(f)
    if not files:
        raise ValueError("dcentvfy needs at least one file")
    with tempfile.TemporaryDirectory(prefix="dcentvfy-") as tmp:
        listing = Path(tmp) / "files.txt"
        listing.write_text("".join(f"{f}\n" for f in files), encoding="utf-8")
        run = _run(["dcentvfy", "-f", listing], timeout=timeout)
    msgs, _ = _parse_dicom3tools(run.stderr)
    return OracleReport(
        "dcentvfy",
        run.command,
        run.returncode,
        run.stdout,
        run.stderr,
        _limit_messages(run, timeout) + msgs,
        run.timed_out,
        run.truncated,
    )


# --------------------------------------------------------------------------------------------
# DCMTK
# --------------------------------------------------------------------------------------------


def dcmdump(
    path: str | os.PathLike[str],
    *,
    timeout: float = DEFAULT_TIMEOUT,
) -> OracleReport:
    """Parse one file with DCMTK ``dcmdump +E`` (dump on stdout, ``E:``/``W:`` on stderr).

    ``+E`` prints the part read even if the file is damaged; the exit status is still 1 when
    parsing failed ("E: ... I/O suspension or premature end of stream ..."). DCMTK is tolerant:
    wrong item lengths in a DICOMDIR, Big Endian / Implicit VR DICOMDIRs and a missing 128-byte
    preamble all parse without any message.
    """
    p = Path(path)
    _check_input(p)
    run = _run(["dcmdump", "+E", p], timeout=timeout)
    return OracleReport(
        "dcmdump",
        run.command,
        run.returncode,
        run.stdout,
        run.stderr,
        _limit_messages(run, timeout) + _parse_dcmtk(run.stderr),
        run.timed_out,
        run.truncated,
    )


def dcmftest(paths: Iterable[str | os.PathLike[str]]) -> dict[Path, bool]:
    """DCMTK ``dcmftest``: True for each file that has preamble + ``DICM`` + meta header."""
    files = [Path(p) for p in paths]
    if not files:
        return {}
    run = _run(["dcmftest", *files])
    result: dict[Path, bool] = {}
    answers = {}
    for line in run.stdout.splitlines():
        verdict, _, name = line.partition(": ")
        answers[name] = verdict == "yes"
    for f in files:
        result[f] = answers.get(os.fspath(f), False)
    return result


def _dcmmkdir_files(folder: Path, exclude: Iterable[str]) -> list[str]:
    patterns = [e.upper() for e in exclude]
    files: list[str] = []
    for p in sorted(folder.rglob("*")):
        if not p.is_file():
            continue
        rel = p.relative_to(folder).as_posix()
        if rel.upper() == "DICOMDIR":
            continue
        if any(fnmatch.fnmatchcase(rel.upper(), pat) for pat in patterns):
            continue
        files.append(rel)
    return files


def _dcmmkdir(
    folder: Path,
    files: list[str],
    output: Path,
    *,
    profile: str,
    invent: bool,
    extra: Sequence[str],
    timeout: float,
) -> DcmmkdirReport:
    cmd: list[str | os.PathLike[str]] = ["dcmmkdir", profile, "-nb", "+I" if invent else "-I"]
    cmd += [*extra, "+id", folder, "+D", output, *files]
    run = _run(cmd, timeout=timeout)
    msgs = _parse_dcmtk(run.stderr)
    rejected: list[str] = []
    for m in msgs:
        head, _, rest = m.text.partition("\n")
        if re.fullmatch(r"\d+ file\(s\) cannot be added to DICOMDIR:", head.strip()):
            rejected += [ln.strip() for ln in rest.splitlines() if ln.strip()]
    return DcmmkdirReport(
        "dcmmkdir",
        run.command,
        run.returncode,
        run.stdout,
        run.stderr,
        _limit_messages(run, timeout) + msgs,
        run.timed_out,
        run.truncated,
        files=files,
        rejected=rejected,
    )


def dcmmkdir_check(
    folder: str | os.PathLike[str],
    *,
    profile: str = "-Pgp",
    exclude: Iterable[str] = (),
    extra: Sequence[str] = (),
    timeout: float = DEFAULT_TIMEOUT,
) -> DcmmkdirReport:
    """Does DCMTK ``dcmmkdir`` accept every file of the File-set in ``folder``?

    Every regular file below ``folder`` except the root ``DICOMDIR`` (and paths matching one
    of the ``exclude`` patterns: :mod:`fnmatch` patterns matched case-insensitively against the
    whole File-set-relative POSIX path, ``*`` also matching ``/``; e.g. ``"README.TXT"`` (root
    only), ``"IHE_PDI/*"`` (whole subtree)) is passed by its relative path with
    ``+id folder``; the new DICOMDIR goes to a temporary directory and is discarded, so
    ``folder`` is not modified. Strict mode (``-I``): a file lacking a Type 1 DICOMDIR key is
    rejected. dcmmkdir exits 0 even when it rejects files (1 only when *no* file is good);
    rejected files are in :attr:`DcmmkdirReport.rejected` and the reasons in ``errors``.
    """
    root = Path(folder).resolve()
    if not root.is_dir():
        raise NotADirectoryError(root)
    files = _dcmmkdir_files(root, exclude)
    if not files:
        return DcmmkdirReport(
            "dcmmkdir",
            ["dcmmkdir"],
            None,
            "",
            "",
            [OracleMessage("error", f"no files to check in {root}")],
        )
    with tempfile.TemporaryDirectory(prefix="dcmmkdir-") as tmp:
        return _dcmmkdir(
            root,
            files,
            Path(tmp) / "DICOMDIR",
            profile=profile,
            invent=False,
            extra=extra,
            timeout=timeout,
        )


def dcmmkdir_build(
    folder: str | os.PathLike[str],
    *,
    profile: str = "-Pgp",
    invent: bool = True,
    fileset_id: str | None = None,
    extra: Sequence[str] = (),
    timeout: float = DEFAULT_TIMEOUT,
) -> DcmmkdirReport:
    """Make the reference File-set: DCMTK writes ``folder/DICOMDIR`` for every file below it.

    ``invent=True`` (``+I``) lets DCMTK invent missing Type 1 keys (pydicom's bundled test
    files lack some). The result's ``dicomdir`` is the path written (None if not created).
    """
    root = Path(folder).resolve()
    files = _dcmmkdir_files(root, ())
    out = root / "DICOMDIR"
    extra = [*extra] + (["+F", fileset_id] if fileset_id is not None else [])
    rep = _dcmmkdir(root, files, out, profile=profile, invent=invent, extra=extra, timeout=timeout)
    rep.dicomdir = out if out.is_file() else None
    return rep


def dcmtk_dicomdir_load(
    dicomdir: str | os.PathLike[str],
    *,
    timeout: float = DEFAULT_TIMEOUT,
) -> OracleReport:
    """Let DCMTK's DICOMDIR reader (``DcmDicomDir``) resolve the offsets of ``dicomdir``.

    DCMTK only loads an existing DICOMDIR when updating it, so a *copy* is updated
    (``dcmmkdir +U``) in a temporary directory with one dummy file (CT_small from pydicom's
    test data with a unique Patient ID and fresh UIDs). Messages seen: ``W: DcmDicomDir::
    resolveGivenOffsets() Cannot resolve offset N`` (offset not at a record) and ``E:
    DcmDicomDir: Record with offset=N is referenced more than once, ignoring later reference``
    followed by ``F: dcmmkdir: error (Invalid DICOMDIR) updating file`` (exit 1) for cycles and
    shared records. The original file is never touched.
    """
    src = Path(dicomdir)
    _check_input(src)
    import pydicom  # local import: only this oracle needs it
    from pydicom.data import get_testdata_file
    from pydicom.uid import generate_uid

    with tempfile.TemporaryDirectory(prefix="dcmdicomdir-") as tmp:
        t = Path(tmp)
        (t / "in").mkdir()
        template = get_testdata_file("CT_small.dcm")
        if not isinstance(template, str):
            raise FileNotFoundError("pydicom test data CT_small.dcm")
        ds = pydicom.dcmread(template)
        ds.PatientID, ds.PatientName = "ZZORACLEDUMMY", "Oracle^Dummy"
        ds.StudyInstanceUID = generate_uid()
        ds.SeriesInstanceUID = generate_uid()
        ds.SOPInstanceUID = generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.save_as(t / "in" / "ZZDUMMY", enforce_file_format=True)
        copy = t / "DICOMDIR"
        shutil.copyfile(src, copy)
        run = _run(
            ["dcmmkdir", "-Pgp", "+U", "-nb", "+I", "+id", t / "in", "+D", copy, "ZZDUMMY"],
            timeout=timeout,
        )
    return OracleReport(
        "dcmmkdir +U",
        run.command,
        run.returncode,
        run.stdout,
        run.stderr,
        _limit_messages(run, timeout) + _parse_dcmtk(run.stderr),
        run.timed_out,
        run.truncated,
    )


# --------------------------------------------------------------------------------------------
# ISO images
# --------------------------------------------------------------------------------------------


def isoinfo_pvd(iso: str | os.PathLike[str], *, timeout: float = 60.0) -> IsoPvd:
    """``isoinfo -d -i iso``: Primary Volume Descriptor fields (``Key: value`` lines).

    A file that is not ISO 9660 prints ``CD-ROM is NOT in ISO 9660 format`` (exit 1).
    """
    p = Path(iso)
    _check_input(p)
    run = _run(["isoinfo", "-d", "-i", p], timeout=timeout)
    fields: dict[str, str] = {}
    for line in run.stdout.splitlines():
        key, sep, value = line.partition(":")
        if sep and key and not key.startswith("CD-ROM"):
            fields[key.strip()] = value.strip()
    return IsoPvd(
        raw=run.stdout + run.stderr,
        returncode=run.returncode,
        is_iso9660="CD-ROM is in ISO 9660 format" in run.stdout,
        fields=fields,
        joliet=bool(re.search(r"^Joliet with UCS level \d found", run.stdout, re.M)),
        rock_ridge=bool(re.search(r"^Rock Ridge signatures version \d+ found", run.stdout, re.M)),
    )


_LISTING_DIR = re.compile(r"^Directory listing of (?P<dir>/.*)$")
_LISTING_ENTRY = re.compile(
    r"^(?P<mode>[-a-zA-Z]{10})\s+\d+\s+\d+\s+\d+\s+(?P<size>\d+)\s+\w{3}\s+\d+\s+\d{4}\s+"
    r"\[\s*(?P<extent>\d+)\s+(?P<flags>[0-9A-Fa-f]+)\]\s\s(?P<name>.*?) ?$"
)


def isoinfo_listing(iso: str | os.PathLike[str], *, timeout: float = 60.0) -> IsoListing:
    """``isoinfo -l -i iso``: names in the primary ISO 9660 hierarchy (not Joliet / RR).

    File identifiers are listed as recorded, with separator and version (``CT1.;1``,
    ``NODOT;1``); directories without. Output per directory::

        Directory listing of /DICOM/
        ----------   0    0    0           39206 Nov 26 2026 [     27 00]  CT1.;1
    """
    p = Path(iso)
    _check_input(p)
    run = _run(["isoinfo", "-l", "-i", p], timeout=timeout)
    entries: list[IsoEntry] = []
    current = "/"
    for line in run.stdout.splitlines():
        if dm := _LISTING_DIR.match(line):
            current = dm.group("dir")
        elif em := _LISTING_ENTRY.match(line):
            name = em.group("name")
            if name in (".", ".."):
                continue
            entries.append(
                IsoEntry(
                    path=current + name,
                    size=int(em.group("size")),
                    extent=int(em.group("extent")),
                    flags=int(em.group("flags"), 16),
                    mode=em.group("mode"),
                )
            )
    return IsoListing(
        raw=run.stdout + run.stderr,
        returncode=run.returncode,
        is_iso9660=run.returncode == 0 and "NOT in ISO 9660 format" not in run.stdout,
        entries=entries,
    )


# "xorriso : NOTE : ...", "libisoburn: WARNING : ...", "libisofs: FAILURE : ..."
_XORRISO_LINE = re.compile(r"^(?P<src>\w+)\s*:\s*(?P<sev>[A-Z]+)\s*:\s*(?P<text>.*)$")
_XORRISO_ERRORS = {"SORRY", "FAILURE", "FATAL", "ABORT", "MISHAP"}


def xorriso_extract(
    iso: str | os.PathLike[str],
    dest: str | os.PathLike[str],
    *,
    timeout: float = DEFAULT_TIMEOUT,
) -> XorrisoReport:
    """Extract the whole image with ``xorriso -osirrox on -indev ISO -extract / DEST``.

    Uses Rock Ridge names if present, else ISO 9660 names with ``;1`` and a trailing ``.``
    removed. Severity ``WARNING`` lines become warnings; ``SORRY`` and worse become errors, as
    does ``No ISO 9660 image at LBA 0`` (xorriso then "extracts" an empty blank image and
    exits 0). Extracted files are read-only (mode 0555 without Rock Ridge).
    """
    p = Path(iso).resolve()
    _check_input(p)
    out = Path(dest).resolve()
    run = _run(["xorriso", "-osirrox", "on", "-indev", p, "-extract", "/", out], timeout=timeout)
    msgs = _limit_messages(run, timeout)
    volume_id = None
    for line in (run.stdout + run.stderr).splitlines():
        if vm := re.match(r"^Volume id\s*:\s*'(?P<v>.*)'\s*$", line):
            volume_id = vm.group("v")
        m = _XORRISO_LINE.match(line)
        if m is None:
            continue
        sev, text = m.group("sev"), m.group("text")
        if sev in _XORRISO_ERRORS or "No ISO 9660 image at LBA" in text:
            msgs.append(OracleMessage("error", text))
        elif sev == "WARNING":
            msgs.append(OracleMessage("warning", text))
    return XorrisoReport(
        "xorriso",
        run.command,
        run.returncode,
        run.stdout,
        run.stderr,
        msgs,
        run.timed_out,
        run.truncated,
        dest=out,
        volume_id=volume_id,
    )
