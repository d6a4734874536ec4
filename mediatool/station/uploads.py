"""Uploads (an ISO, a zip, a folder sent as a zip) streamed straight to the data folder.

Starlette's ``request.form()`` spools files to the system's temporary folder without a size
limit; a 4 GB DVD image must go where the station keeps its data, be refused as soon as it is
over the limit, and never fill the disk. So the body is parsed here with python-multipart's
streaming parser (the one Starlette uses), writing each chunk as it arrives. The CSRF token is
a field of the same form and is checked before the job is created.
"""

from __future__ import annotations

import os
import secrets
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Final

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.exceptions import HTTPException
from starlette.requests import Request

from mediatool.station import web
from mediatool.station.i18n import gettext as _

RESERVE: Final = 512 * 1024 * 1024  # free space kept for the jobs themselves
MAX_FIELD: Final = 64 * 1024  # a text field of the form
SUFFIXES: Final = (".iso", ".zip", ".img")


@dataclass
class Upload:
    """The form's text fields and the file written (``path`` None when none was sent)."""

    fields: dict[str, str] = field(default_factory=dict)
    path: Path | None = None
    filename: str = ""
    size: int = 0


@dataclass
class _Part:
    headers: dict[bytes, bytes] = field(default_factory=dict)
    name: str = ""
    filename: str | None = None
    value: bytearray = field(default_factory=bytearray)
    out: BinaryIO | None = None


def _too_large(limit: int) -> HTTPException:
    return HTTPException(
        413,
        _("The file is larger than the station accepts (%(mb)d MB).") % {"mb": limit // 2**20},
    )


def _check_space(folder: Path, expected: int) -> None:
    free = shutil.disk_usage(folder).free
    if expected + RESERVE > free:
        raise HTTPException(
            507,
            _("Not enough free space on the station for this file (%(mb)d MB free).")
            % {"mb": free // 2**20},
        )


class _Receiver:
    """python-multipart callbacks: text fields kept, the file part written to ``folder``."""

    def __init__(self, folder: Path, limit: int) -> None:
        self.folder = folder
        self.limit = limit
        self.upload = Upload()
        self.part = _Part()
        self._field = b""
        self._value = b""

    def callbacks(self) -> dict[str, Any]:
        return {
            "on_part_begin": self.begin, "on_header_field": self.header_field,
            "on_header_value": self.header_value, "on_header_end": self.header_end,
            "on_headers_finished": self.headers_done, "on_part_data": self.data,
            "on_part_end": self.end,
        }  # fmt: skip

    def begin(self) -> None:
        self.part = _Part()

    def header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def header_end(self) -> None:
        self.part.headers[self._field.lower()] = self._value
        self._field = self._value = b""

    def headers_done(self) -> None:
        _, options = parse_options_header(self.part.headers.get(b"content-disposition", b""))
        self.part.name = options.get(b"name", b"").decode("utf-8", "replace")
        raw = options.get(b"filename")
        if raw is None:
            return
        self.part.filename = Path(raw.decode("utf-8", "replace").replace("\\", "/")).name
        if not self.part.filename or self.upload.path is not None:
            return  # an empty file input, or a second file: ignored
        suffix = Path(self.part.filename).suffix.lower()
        name = f"{secrets.token_hex(8)}{suffix if suffix in SUFFIXES else ''}"
        self.upload.path = self.folder / name
        self.upload.filename = self.part.filename
        fd = os.open(self.upload.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        self.part.out = os.fdopen(fd, "wb")

    def data(self, data: bytes, start: int, end: int) -> None:
        if self.part.out is not None:
            self.upload.size += end - start
            if self.upload.size > self.limit:
                raise _too_large(self.limit)
            self.part.out.write(data[start:end])
        elif self.part.filename is None:
            self.part.value += data[start:end]
            if len(self.part.value) > MAX_FIELD:
                raise HTTPException(413, _("A field of the form is too long."))

    def end(self) -> None:
        if self.part.out is not None:
            self.part.out.close()
            self.part.out = None
        elif self.part.filename is None and self.part.name:
            self.upload.fields[self.part.name] = self.part.value.decode("utf-8", "replace")


async def receive(request: Request) -> Upload:
    """The posted multipart form with its file in ``data/uploads`` (CSRF checked). On any
    refusal the partial file is removed."""
    st = web.station(request)
    limit = st.config.upload_mb * 2**20
    folder = st.config.data / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    length = int(request.headers.get("content-length") or 0)
    if length > limit + MAX_FIELD * 8:
        raise _too_large(limit)
    _check_space(folder, length)
    kind, options = parse_options_header(request.headers.get("content-type", ""))
    if kind != b"multipart/form-data" or b"boundary" not in options:
        raise HTTPException(400, _("The form was not sent as a file upload."))
    receiver = _Receiver(folder, limit)
    parser = MultipartParser(options[b"boundary"], receiver.callbacks())  # type: ignore[arg-type]
    try:
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
        token = request.session.get(web.CSRF_FIELD) or ""
        given = receiver.upload.fields.get(web.CSRF_FIELD, "")
        if not token or not secrets.compare_digest(given, token):
            raise HTTPException(
                403, _("The form has expired or did not come from this station. Reload the page.")
            )
    except BaseException:
        if receiver.part.out is not None:
            receiver.part.out.close()
        if receiver.upload.path is not None:
            receiver.upload.path.unlink(missing_ok=True)
        raise
    return receiver.upload
