"""The files of the File-set: resolve every Referenced File ID (E01-E05), find the DICOM files no
record references (F01, F02), and read every DICOM file's header exactly once (E06-E23, through
:func:`mediatool.scan.scan_stream` and :func:`mediatool.dicom.filemeta.check`, the checkers
``build`` uses) with the record comparison of :mod:`mediatool.validate.compare`.

Headers are read in worker processes when there are many files (fork, chunks of 64, as
``scan.scan_all``); each worker opens the medium again through ``open_media``, because a reader's
open file (an ISO image, a zip archive) must not be shared between processes. Only small values
come back: an :class:`~mediatool.model.InstanceInfo` without keys, findings and diffs.

Where the time goes (issue 17, 10,000 CT files with 40,000 web files beside them): the header
parse itself, as in pydicom's own floor. So the workers start on the referenced files as soon
as the DICOMDIR is resolved; this process meanwhile checks the records and sniffs every other
file (first bytes, each folder opened once) for orphans, which the same pool then reads. Each
header is read through a buffer (pydicom's hundred small reads are not system calls), and the
results cross the pipe as plain field values (:func:`_fast_pickling`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import io
import itertools
import multiprocessing
import operator
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import BinaryIO, Final, cast

from mediatool.dicom import fileids
from mediatool.findings import Finding, finding
from mediatool.media.base import MediaEntry, MediaReader
from mediatool.model import InstanceInfo, PixelInfo, Progress, SourceRef
from mediatool.scan import ScanOptions, scan_stream
from mediatool.validate.compare import Diff, RecordSpec, inspect
from mediatool.workers import pool as worker_pool

CHUNK: Final = 64
_SNIFF: Final = 136
_KINDS: Final = frozenset({"folder", "iso", "zip"})
_OPTIONS: Final = ScanOptions(encode_keys=False)


@dataclass(frozen=True, slots=True)
class FileTask:
    entry: MediaEntry
    where: str  # File ID as referenced (media-relative), or the entry's path for orphans
    spec: RecordSpec | None = None  # None: no record references the file
    record_where: str | None = None


@dataclass(frozen=True, slots=True)
class FileResult:
    task: FileTask
    info: InstanceInfo | None
    findings: tuple[Finding, ...] = ()
    diffs: tuple[Diff, ...] = ()
    dicomdir: bool = False  # the file is itself a DICOMDIR


@dataclass(slots=True)
class Resolution:
    tasks: list[FileTask] = field(default_factory=list)
    referenced: set[str] = field(default_factory=set)  # entry paths
    missing: int = 0
    #: File IDs (media-relative) of the references that name no readable file: not on the
    #: media, or not a path inside the File-set; ``missing`` counts them
    lost: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


def resolve(
    reader: MediaReader,
    references: Iterable[tuple[tuple[str, ...], str, RecordSpec | None]],
    prefix: tuple[str, ...],
    reserved: Sequence[tuple[str, ...]],
) -> Resolution:
    """E01-E05 for each (File ID components, record location, spec); the tasks to read."""
    resolver = _Resolver(reader, prefix, {tuple(c.upper() for c in r) for r in reserved})
    for components, record_where, spec in references:
        resolver.add(components, record_where, spec)
    return resolver.out


@dataclass(slots=True)
class _Resolver:
    reader: MediaReader
    prefix: tuple[str, ...]
    reserved: set[tuple[str, ...]]  # File IDs (upper case) no record may reference
    out: Resolution = field(default_factory=Resolution)
    first: dict[str, str] = field(default_factory=dict)  # entry path -> first record naming it

    def add(self, components: tuple[str, ...], record_where: str, spec: RecordSpec | None) -> None:
        where = "/".join(self.prefix + components)
        self.out.findings += [
            replace(f, message=f"{f.message} (in {record_where})")
            for f in fileids.check_file_id(components, where)
        ]
        refused = self._refused(components, record_where, where)
        if refused is not None:
            self._lose(where, refused)
            return
        entry, exact = self.reader.resolve(self.prefix + components)
        if entry is None:
            self._lose(
                where,
                finding(
                    "file.missing", f"{record_where} references {where!r}, not on the media", where
                ),
            )
            return
        if not exact:
            self.out.findings.append(
                finding(
                    "file.tolerant-name",
                    f"File ID {where!r} was found only as {entry.path!r}; a reader that "
                    "follows the DICOMDIR exactly does not find it",
                    where,
                )
            )
        self._take(FileTask(entry, where, spec, record_where))

    def _refused(
        self, components: tuple[str, ...], record_where: str, where: str
    ) -> Finding | None:
        """E02: a reference that is no path inside the File-set, or names the DICOMDIR or the
        File-set Descriptor File, is not opened."""
        if any(c in ("", ".", "..") or "/" in c or "\x00" in c for c in components):
            what = "which is not a path inside the File-set; it is not opened"
        elif tuple(c.upper() for c in components) in self.reserved:
            what = "the DICOMDIR or the File-set Descriptor File"
        else:
            return None
        return finding(
            "file.outside-fileset", f"{record_where} references {where!r}, {what}", where
        )

    def _lose(self, where: str, reason: Finding) -> None:
        self.out.missing += 1
        self.out.lost.append(where)
        self.out.findings.append(reason)

    def _take(self, task: FileTask) -> None:
        record_where = task.record_where or ""
        earlier = self.first.setdefault(task.entry.path, record_where)
        if earlier != record_where:
            self.out.findings.append(
                finding(
                    "file.referenced-twice",
                    f"{task.entry.path!r} is referenced by {earlier} and by {record_where}",
                    task.where,
                )
            )
            return
        self.out.referenced.add(task.entry.path)
        self.out.tasks.append(task)


def _looks_dicom(head: bytes) -> bool:
    """Part 10 prefix, or a raw data set starting with a group 0002/0008 element (PS3.10 7.1)."""
    if len(head) >= 132 and head[128:132] == b"DICM":
        return True
    if len(head) < 8 or head[:2] not in (b"\x02\x00", b"\x08\x00"):
        return False
    explicit = head[4:6].isalpha() and head[4:6].isupper()
    return explicit or head[6:8] == b"\x00\x00"


def sniff(reader: MediaReader, entries: Iterable[MediaEntry]) -> tuple[list[MediaEntry], list[str]]:
    """Split entries into DICOM files and the paths of other files (by content, not by name:
    a DICOM file named ``IMAGE.JPG`` in IHE_PDI is still found, checklist F01, H05).

    An entry that cannot be opened goes with the DICOM files: reading it then reports it as
    ``media.unreadable`` (issue 12: a corrupt zip member is an error, never "non-DICOM")."""
    dicom: list[MediaEntry] = []
    other: list[str] = []
    for entry, head in _heads(reader, entries):
        if head is None or _looks_dicom(head):  # unreadable: read again as a file, an error
            dicom.append(entry)
        else:
            other.append(entry.path)
    return dicom, other


def _heads(
    reader: MediaReader, entries: Iterable[MediaEntry]
) -> Iterable[tuple[MediaEntry, bytes | None]]:
    """The first bytes of each entry; the reader's own batch read where it has one (a folder:
    each folder opened once, :meth:`mediatool.media.folder.FolderReader.heads`)."""
    batch = getattr(reader, "heads", None)
    if callable(batch):
        return cast("Iterable[tuple[MediaEntry, bytes | None]]", batch(entries, _SNIFF))
    return ((entry, _head(reader, entry)) for entry in entries)


def _head(reader: MediaReader, entry: MediaEntry) -> bytes | None:
    try:
        with reader.open(entry) as fp:
            return fp.read(_SNIFF)
    except OSError:
        return None


class _Buffered:
    """A read buffer over a reader's raw stream (a folder's ``FileIO``, an ISO image's extent
    view), for pydicom: its header parse makes about a hundred small reads, each a system call
    (or a seek and read of the image) on a raw stream; buffered, one or two (issue 17: a
    quarter of validate's time per file).

    Not an ``io.BufferedReader`` and without a ``name`` on purpose: pydicom re-opens a
    BufferedReader *by its name* to load a deferred value (a path resolved again, or the
    descriptor number of a folder reader's file); this object is read itself instead."""

    __slots__ = ("_buffer", "read", "seek", "tell")

    def __init__(self, raw: io.RawIOBase) -> None:
        self._buffer = io.BufferedReader(raw, _BUFFER)
        self.read = self._buffer.read
        self.seek = self._buffer.seek
        self.tell = self._buffer.tell

    @property
    def closed(self) -> bool:
        return self._buffer.closed


#: One read of a header: large enough for most headers, small against an image.
_BUFFER: Final = 16384


def _buffered(fp: BinaryIO) -> BinaryIO:
    return cast(BinaryIO, _Buffered(fp)) if isinstance(fp, io.RawIOBase) else fp


def read_one(reader: MediaReader, task: FileTask) -> FileResult:
    """Read one file's header once; every finding about the file itself. Never raises."""
    diffs: list[Diff] = []
    hook = functools.partial(inspect, task.spec, task.entry.size, task.where, diffs)
    try:
        with reader.open(task.entry) as raw:
            fp = _buffered(raw)
            result = scan_stream(fp, SourceRef(task.where), task.entry.size, _OPTIONS, inspect=hook)
    except OSError as exc:
        return FileResult(
            task, None, (finding("media.unreadable", f"cannot read: {exc}", task.where),)
        )
    except Exception as exc:  # a reader bug must not end the report
        return FileResult(
            task,
            None,
            (finding("validate.check-failed", f"reading the file failed: {exc!r}", task.where),),
        )
    if isinstance(result, InstanceInfo):
        return FileResult(task, result, (), tuple(diffs))
    return _not_instance(task, result)


def _not_instance(task: FileTask, findings: list[Finding]) -> FileResult:
    out: list[Finding] = []
    dicomdir = False
    for f in findings:
        if f.code == "read.dicomdir-input":
            dicomdir = True
            if task.spec is not None:
                out.append(
                    finding(
                        "file.outside-fileset",
                        f"{task.record_where} references {task.where!r}, which is a DICOMDIR",
                        task.where,
                    )
                )
        elif f.code == "source.not-dicom" and task.spec is not None:
            out.append(finding("file.not-dicom", f"{task.record_where}: {f.message}", task.where))
        elif f.code != "source.not-dicom":
            out.append(f)
    return FileResult(task, None, tuple(out), (), dicomdir)


#: Set before the worker processes are forked, so they inherit them instead of receiving every
#: task (and its record keys) through a pipe; only chunk bounds and results are sent.
_WORKER: MediaReader | None = None
_TASKS: Sequence[FileTask] = ()


def _init_worker(name: str, reopen: bool) -> None:
    """Per worker: its own reader. A folder reader opens files by path and can be shared; an
    ISO image or zip archive is one open file whose position must not be shared, so it is
    opened again."""
    global _WORKER
    if reopen:
        from mediatool.media import open_media

        _WORKER = open_media(name)


_NO_TASK: Final = FileTask(MediaEntry("", "", 0), "")


def _read_chunk(bounds: tuple[int, int]) -> list[FileResult]:
    """Results without their task: the parent has the tasks already, so sending them back
    would only make a second copy of every record's keys in the parent."""
    assert _WORKER is not None
    return [replace(read_one(_WORKER, t), task=_NO_TASK) for t in _TASKS[bounds[0] : bounds[1]]]


def _read_tasks(tasks: Sequence[FileTask]) -> list[FileResult]:
    """The tasks found after the fork (the orphan files: no record, so small to send)."""
    assert _WORKER is not None
    return [replace(read_one(_WORKER, t), task=_NO_TASK) for t in tasks]


def _parallel_ok(reader: MediaReader, n: int, jobs: int | None) -> bool:
    jobs = jobs or os.cpu_count() or 1
    if jobs < 2 or n < 2 * CHUNK or getattr(reader, "kind", "") not in _KINDS:
        return False
    if "fork" not in multiprocessing.get_all_start_methods():
        return False
    return type(reader).__module__.startswith("mediatool.media")


More = Callable[[], Sequence[FileTask]]


def read_all(
    reader: MediaReader,
    tasks: Sequence[FileTask],
    *,
    jobs: int | None = None,
    progress: Progress | None = None,
    meanwhile: Callable[[], None] | None = None,
    more: More | None = None,
) -> list[FileResult]:
    """Read every task's file; results in task order (determinism), those of ``more`` last.

    ``meanwhile`` and then ``more`` run in this process while the workers read ``tasks`` (or
    first, when reading here); ``more`` returns further tasks to read (``validate``: the
    orphan files, found by sniffing every other file while the workers read). Neither may
    raise.
    """
    todo = list(tasks)
    if more is not None and not _parallel_ok(reader, len(todo), jobs):
        # few files referenced (no DICOMDIR?): find the others first, they may be many
        todo += more()
        more = None
    results: list[FileResult] = []
    if _parallel_ok(reader, len(todo), jobs):
        work = _Work(todo, len(todo), meanwhile, more)
        with contextlib.suppress(Exception):  # a broken pool (killed worker, media changed)
            _read_forked(reader, work, results, jobs, progress)
        meanwhile, more = work.meanwhile, work.more
    if meanwhile is not None:
        meanwhile()
    if more is not None:
        todo += more()
    for task in todo[len(results) :]:  # here: all, or what a broken pool left
        results.append(read_one(reader, task))
        if progress and (len(results) % CHUNK == 0 or len(results) == len(todo)):
            progress(len(results), len(todo), "reading headers")
    return results


@dataclass(slots=True)
class _Work:
    todo: list[FileTask]  # grows by what ``more`` returns
    forked: int  # the first tasks, known to the workers when they were forked
    meanwhile: Callable[[], None] | None  # None once run
    more: More | None  # None once run


def _reduce(
    cls: type, values: Callable[[object], tuple[object, ...]], obj: object
) -> tuple[type, tuple[object, ...]]:
    return cls, values(obj)


def _fast_pickling() -> None:
    """The results (and the orphan tasks) cross the process boundary as ``(class, field
    values)``: a frozen slots dataclass pickles through its generic ``__getstate__`` /
    ``__setstate__``, which cost more than reading a header's worth of checks (issue 17).
    Only for multiprocessing's pickler (:class:`ForkingPickler`), registered before the fork.
    """
    from multiprocessing.reduction import ForkingPickler

    for cls in (
        FileResult,
        FileTask,
        MediaEntry,
        InstanceInfo,
        SourceRef,
        PixelInfo,
        Finding,
        Diff,
    ):
        names = [f.name for f in dataclasses.fields(cls)]
        ForkingPickler.register(cls, functools.partial(_reduce, cls, operator.attrgetter(*names)))


def _read_forked(
    reader: MediaReader,
    work: _Work,
    results: list[FileResult],
    jobs: int | None,
    progress: Progress | None,
) -> None:
    """Read ``work.todo`` in worker processes into ``results`` while this process runs
    ``meanwhile`` and ``more``. Raises when the pool breaks (what was read is kept)."""
    global _WORKER, _TASKS
    todo = work.todo
    _WORKER, _TASKS = reader, todo[: work.forked]
    _fast_pickling()
    try:
        with worker_pool(
            min(jobs or os.cpu_count() or 1, 8),
            initializer=_init_worker,
            initargs=(reader.name, reader.kind != "folder"),
        ) as pool:
            batches = pool.map(_read_chunk, _bounds(work.forked))
            if work.meanwhile is not None:
                run, work.meanwhile = work.meanwhile, None
                run()
            if work.more is not None:
                find, work.more = work.more, None
                todo += find()
            extra = todo[work.forked :]
            later = pool.map(_read_tasks, [extra[a:b] for a, b in _bounds(len(extra))])
            for batch in itertools.chain(batches, later):
                start = len(results)
                results.extend(replace(r, task=todo[start + n]) for n, r in enumerate(batch))
                if progress:
                    progress(len(results), len(todo), "reading headers")
    finally:
        _WORKER, _TASKS = None, ()


def _bounds(total: int) -> list[tuple[int, int]]:
    return [(i, min(i + CHUNK, total)) for i in range(0, total, CHUNK)]
