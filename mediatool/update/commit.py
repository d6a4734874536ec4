"""★ Write an accepted update onto the medium, in the order PS3.3 F.3.2.1 implies for an FSU:

1. the DICOMDIR as it was, with (0004,1212) File-set Consistency Flag FFFFH ("an FSU is at work:
   assume inconsistencies"), replaced atomically;
2. the added instances, each written complete under a hidden staging folder of the medium, made
   durable (fsync), then renamed to its File ID; the removed instances deleted, and the folders
   they leave empty;
3. the web content again, when the medium has it (the build's writer, on the new tree);
4. the new DICOMDIR, flag 0000H, replaced atomically.

Each DICOMDIR is written to a temporary file beside it, fsync'ed and renamed over it (then the
folder is fsync'ed), so at every moment the medium has a complete DICOMDIR: the old one, the old
one flagged, or the new one. A stop in between leaves the flag set; the next ``update`` refuses
until ``--repair`` rebuilds the records from the files present.

Note: PS3.3 since 2008 says FFFFH "shall not be present" in a File-set at rest; here it is only
on the medium while an update runs (the issue's brief), and ``validate`` warns when one is left.
"""

from __future__ import annotations

import os
import shutil
import signal
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

from mediatool.build.plan import MediaPlan
from mediatool.build.write import write_all, write_tasks
from mediatool.dicom import dicomdir_write
from mediatool.dicom.elements import us
from mediatool.errors import OutputError
from mediatool.findings import Severity
from mediatool.model import FileID, Progress
from mediatool.update import medium
from mediatool.web import load_site, tree_of, write_web_content
from mediatool.writers import folder

if TYPE_CHECKING:
    from mediatool.update import UpdateRequest, UpdateResult

#: Test hook (tests/test_update.py): the process kills itself (SIGKILL) after putting this many
#: added files in place, as a power cut would stop it.
KILL_AFTER_ENV: Final = "MEDIATOOL_TEST_UPDATE_KILL_AFTER"
INCONSISTENT: Final = 0xFFFF


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_durably(dest: Path, data: bytes) -> None:
    """``data`` to a temporary file beside ``dest``, fsync, rename over ``dest``, fsync the
    folder: ``dest`` is the old or the new content, whenever the machine stops."""
    try:
        folder.sweep(dest)
        fd, tmp = folder.open_file(dest)
        try:
            with os.fdopen(fd, "wb") as fp:
                fp.write(data)
                fp.flush()
                os.fsync(fp.fileno())
            tmp.replace(dest)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        _fsync_dir(dest.parent)
    except OSError as exc:
        raise OutputError(f"cannot write {str(dest)!r}: {exc.strerror or exc}") from exc


def flagged(the_medium: medium.Medium) -> bytes:
    """The DICOMDIR as found, with (0004,1212) set to FFFFH (the same length: no offset moves).
    A DICOMDIR without the element is returned as it is."""
    el = the_medium.directory.top.get(medium.CONSISTENCY_FLAG)
    if el is None or len(el.value) != 2:
        return the_medium.data
    pos = el.value_pos
    return the_medium.data[:pos] + us(INCONSISTENT) + the_medium.data[pos + 2 :]


def _kill_point(done: int) -> None:
    limit = os.environ.get(KILL_AFTER_ENV)
    if limit is not None and done >= int(limit):
        os.kill(os.getpid(), signal.SIGKILL)


def _prune(root: Path, start: Path) -> None:
    """Remove ``start`` and its parents while they are empty (never ``root``)."""
    path = start
    while path != root and path.is_relative_to(root):
        try:
            path.rmdir()
        except OSError:
            return
        path = path.parent


@dataclass
class Update:
    the_medium: medium.Medium
    plan: MediaPlan
    existing: Mapping[str, FileID]
    result: UpdateResult
    request: UpdateRequest
    progress: Progress | None

    @property
    def root(self) -> Path:
        return self.the_medium.root

    def apply(self) -> None:
        folder.sweep(self.root / "UPDATE")  # staging folders of updates that were stopped
        write_durably(self.root / "DICOMDIR", flagged(self.the_medium))
        folder.pause("update-flagged")
        icons = self._add()
        self._remove()
        self._web()
        write_durably(self.root / "DICOMDIR", self._dicomdir(icons))

    def _add(self) -> dict[str, bytes]:
        """Write the added instances (as build writes them) under a hidden staging folder,
        make them durable, then rename each to its File ID. Returns the icons made."""
        icons: dict[str, bytes] = {}
        tasks = [t for t in write_tasks(self.plan) if t.sop_instance_uid in self.result.added]
        if not tasks:
            return icons
        staging = folder.make_folder(self.root / "UPDATE")
        try:
            _, found = write_all(
                tasks, staging, jobs=self.request.jobs, progress=self.progress, icons=icons
            )
            self.result.findings.extend(found)
            if any(f.severity >= Severity.ERROR for f in found):
                shutil.rmtree(staging, ignore_errors=True)
                write_durably(self.root / "DICOMDIR", self.the_medium.data)  # as it was
                raise self.result.refuse(
                    "an added instance could not be written; nothing was changed"
                )
            folder.pause("update-staged")
            self._move(staging, [t.file_id for t in tasks])
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return icons

    def _move(self, staging: Path, file_ids: list[FileID]) -> None:
        for file_id in file_ids:
            fd = os.open(staging.joinpath(*file_id), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        folders: set[Path] = set()
        for done, file_id in enumerate(file_ids, 1):
            dest = self.root.joinpath(*file_id)
            dest.parent.mkdir(parents=True, exist_ok=True)
            if os.path.lexists(dest):
                raise OutputError(f"{str(dest)!r} appeared while updating; nothing replaced")
            staging.joinpath(*file_id).rename(dest)
            folders.update(p for p in dest.parents if p.is_relative_to(self.root))
            _kill_point(done)
        for path in sorted(folders):
            _fsync_dir(path)

    def _remove(self) -> None:
        for file_id in self.result.removed.values():
            path = self.root.joinpath(*file_id)
            path.unlink(missing_ok=True)
            _prune(self.root, path.parent)

    def _web(self) -> None:
        """The web content again, when the medium has it (the build's writer, new tree)."""
        if not any((self.root / name).exists() for name in ("INDEX.HTM", "IHE_PDI")):
            return
        site = load_site(self.request.site) if self.request.site is not None else None
        shown = tree_of(self.root, self.plan.tree, self.plan.file_ids)
        app = self.root / "APP"  # a third-party viewer on the medium: put on it again
        aside = folder.hidden_name(app, "old") if app.is_dir() else None
        if aside is not None:
            app.rename(aside)
        try:
            self.result.findings.extend(
                write_web_content(
                    self.root,
                    site=site,
                    viewer_dir=aside,
                    jobs=self.request.jobs,
                    progress=self.progress,
                    replace=True,
                    shown=shown,
                )
            )
        finally:
            if aside is not None and app.is_dir():
                shutil.rmtree(aside, ignore_errors=True)
            elif aside is not None:
                aside.rename(app)
        self.result.web = True

    def _dicomdir(self, made: Mapping[str, bytes]) -> bytes:
        """The new DICOMDIR: the plan's tree, the medium's File IDs, the icons the records had
        and those made for the added instances (PS3.3 F.7)."""
        old = self.the_medium
        rule = self.plan.profile.icons
        records = set(rule.records if rule is not None else ())
        kept_icons = {u: i for u, i in old.icons.items() if u in self.existing}
        kept_series = {u: i for u, i in old.series_icons.items() if u in self.existing}
        if kept_series:
            records.add("SERIES")
        records |= {
            i.record_type or ""
            for i in self.plan.tree.instances()
            if i.sop_instance_uid in kept_icons
        }
        ts = {uid: d.target_ts for uid, d in self.plan.decisions.items()}
        return dicomdir_write.encode(
            self.plan.tree,
            self.plan.file_ids,
            ts,
            fileset_uid=self.plan.fileset_uid,
            fileset_id=self.plan.fileset_id,
            descriptor=self.plan.descriptor,
            icons=dicomdir_write.Icons(
                {**kept_series, **kept_icons, **made}, tuple(sorted(records))
            ),
        )
