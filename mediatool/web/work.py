"""One referenced file → its web renderings (runs in worker processes).

For each directory record leaf the main process hands over a :class:`Job` with the names chosen
in advance (so workers never coordinate); the worker reads the file in full, renders its frames
to JPEG (and the CT window presets for the viewer), reads an SR content tree, or copies an
Encapsulated PDF out, writes those files under the File-set root, and returns a small
:class:`Outcome`. pydicom's warnings are captured and become findings; a file that cannot be
read or rendered is a finding, never an abort.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.uid import UID

from mediatool.findings import CODES, Finding
from mediatool.pixels import icons, render
from mediatool.web import sr, waveform
from mediatool.workers import ensure_parent

#: Finding codes of the web content (registered in ``mediatool.findings.CODES`` when present).

PDF_MIME: Final = "application/pdf"


def web_finding(code: str, message: str, where: str | None = None) -> Finding:
    entry = CODES[code]
    return Finding(code, entry.severity, message, where, entry.ref)


@dataclass(frozen=True, slots=True)
class Job:
    index: int
    file_id: tuple[str, ...]
    image_dir: str  # POSIX, relative to the root: IHE_PDI/P0001/S0001/SE0001
    stem: str  # IMG00001: IMG00001.JPG (one frame) or IMG00001/F00001.JPG ... (multi-frame)
    preset_dir: str  # VIEWER/P0001/S0001/SE0001 (CT presets), "" for none
    pdf_path: str  # REPORTS/RPT00001.PDF, "" unless the record is an ENCAP DOC
    icon_size: int | None = None  # make the record's icon (PS3.3 F.7) from the same decode
    jpeg: render.JpegSettings = render.WEB_JPEG  # quality and size of the JPEGs


@dataclass(slots=True)
class Outcome:
    index: int
    kind: str = "none"  # image | sr | pdf | other | none
    images: list[str] = field(default_factory=list)
    size: tuple[int, int] = (0, 0)
    presets: list[str] = field(default_factory=list)  # CT presets rendered for this image
    same: list[str] = field(default_factory=list)  # presets equal to the image's own window
    window: str = ""
    modality: str = ""
    series_description: str = ""
    sop_class: str = ""
    title: str = ""
    date: str = ""
    document: sr.SRDocument | None = None
    pdf: str = ""
    findings: list[Finding] = field(default_factory=list)
    icon: bytes | None = None  # the encoded (0088,0200), when the job asked for it
    icon_error: str = ""  # why there is none


def _where(job: Job) -> str:
    return "/".join(job.file_id)


def _image_names(job: Job, frames: int) -> list[str]:
    if frames == 1:
        return [f"{job.stem}.JPG"]
    return [f"{job.stem}/F{n:05d}.JPG" for n in range(1, frames + 1)]


class _Target:
    """The File-set root a batch of jobs writes under, and the folders it made there: each is
    made once a batch, not tried again for every file (a failed mkdir and a stat, issue 17)."""

    __slots__ = ("made", "root")

    def __init__(self, root: Path) -> None:
        self.root = root
        self.made: set[str] = set()

    def write(self, relative: str, data: bytes) -> None:
        path = self.root / relative
        ensure_parent()  # a worker never writes after the build that started it is gone
        folder = relative.rpartition("/")[0]
        if folder not in self.made:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.made.add(folder)
        path.write_bytes(data)


def _presets_for(ds: Dataset, job: Job) -> tuple[render.Preset, ...]:
    if not job.preset_dir or str(ds.get("Modality", "")).upper() != "CT":
        return ()
    if int(ds.get("SamplesPerPixel", 1) or 1) != 1 or render.rescale(ds) is None:
        return ()
    return render.CT_PRESETS


def _render_images(ds: Dataset, job: Job, target: _Target, out: Outcome) -> None:
    window = render.stored_window(ds)
    presets = _presets_for(ds, job)
    # A preset equal to the image's own window would be a byte-identical copy: the viewer
    # shows the default rendering for it instead (see pages._presets).
    out.same = [p.key for p in presets if window is not None and p.window == window]
    presets = tuple(p for p in presets if p.key not in out.same)
    result = render.render_picture(_decoded(ds, job, out), presets, job.jpeg.max_edge)
    names = _image_names(job, len(result.frames))
    quality = job.jpeg.quality
    for name, image in zip(names, result.frames, strict=True):
        target.write(f"{job.image_dir}/{name}", render.encode_jpeg(image, quality))
    for key, images in result.presets.items():
        for name, image in zip(names, images, strict=True):
            target.write(f"{job.preset_dir}/{key}/{name}", render.encode_jpeg(image, quality))
    out.kind = "image"
    out.images = [f"{job.image_dir}/{name}" for name in names]
    out.size = result.frames[0].size
    out.presets = list(result.presets)
    if window is not None:
        out.window = f"C {window.center:g} / W {window.width:g}"


def _decoded(ds: Dataset, job: Job, out: Outcome) -> render.Picture:
    """The image decoded once: its record's icon, when asked for, comes from the same decode."""
    try:
        picture = render.Picture(ds)
    except render.RenderError as exc:
        if job.icon_size is not None:
            out.icon_error = icons.failure(exc)
        raise
    if job.icon_size is not None:
        try:
            out.icon = icons.encode_icon(icons.icon_of(picture, job.icon_size), job.icon_size)
        except Exception as exc:
            out.icon_error = icons.failure(exc)
    return picture


def _pdf(ds: Dataset, job: Job, target: _Target, out: Outcome) -> None:
    mime = str(ds.get("MIMETypeOfEncapsulatedDocument", "")).strip().lower()
    if mime != PDF_MIME or not job.pdf_path:
        out.kind = "other"
        out.findings.append(
            web_finding(
                "web.not-shown", f"encapsulated {mime or 'document'} is not shown", _where(job)
            )
        )
        return
    data = bytes(ds.EncapsulatedDocument)
    length = ds.get("EncapsulatedDocumentLength")
    if isinstance(length, int) and 0 < length <= len(data):
        data = data[:length]
    elif data.endswith(b"\x00"):
        data = data[:-1]  # the pad byte to an even length (PS3.5 7.1.1)
    target.write(job.pdf_path, data)
    out.kind = "pdf"
    out.pdf = job.pdf_path


def _classify(ds: Dataset, job: Job, target: _Target, out: Outcome) -> None:
    if render.has_pixels(ds):
        _render_images(ds, job, target, out)
    elif "EncapsulatedDocument" in ds:
        _pdf(ds, job, target, out)
    elif "ContentSequence" in ds and str(ds.get("ValueType", "")).upper() == "CONTAINER":
        out.kind = "sr"
        out.document = sr.read_document(ds)
        out.title = out.document["title"]
    elif "WaveformSequence" in ds:
        image = waveform.render_waveform(ds)
        target.write(f"{job.image_dir}/{job.stem}.JPG", render.encode_jpeg(image))
        out.kind = "image"
        out.images = [f"{job.image_dir}/{job.stem}.JPG"]
        out.size = image.size
    else:
        out.kind = "other"


def _header(ds: Dataset, out: Outcome) -> None:
    def text(keyword: str) -> str:
        try:
            return str(ds.get(keyword, "") or "").strip()
        except Exception:
            return ""

    out.modality = text("Modality")
    out.series_description = text("SeriesDescription")
    sop_class = text("SOPClassUID")
    out.sop_class = UID(sop_class).name if sop_class else ""
    out.title = text("DocumentTitle") or text("ContentLabel")
    out.date = text("ContentDate") or text("SeriesDate")


def run_job(job: Job, root: Path, target: _Target | None = None) -> Outcome:
    """Read one referenced file and write its renderings under ``root`` (``target``: the
    batch's, when it runs in one)."""
    target = target or _Target(root)
    out = Outcome(job.index)
    where = _where(job)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.simplefilter("ignore", ResourceWarning)  # the GC's, not the file's
        try:
            ds = dcmread(root.joinpath(*job.file_id))
        except Exception as exc:
            out.findings.append(web_finding("web.unreadable", _reason(exc), where))
            return out
        try:
            _header(ds, out)
            _classify(ds, job, target, out)
        except render.RenderError as exc:
            out.kind = "other"
            out.findings.append(web_finding("web.render-failed", str(exc), where))
        except Exception as exc:  # a broken object never stops the disc
            out.kind = "other"
            out.findings.append(web_finding("web.render-failed", _reason(exc), where))
    for w in caught:
        message = str(w.message).splitlines()[0][:300] if str(w.message) else "warning"
        out.findings.append(web_finding("read.pydicom-warning", message, where))
    if job.icon_size is not None and out.icon is None and not out.icon_error:
        out.icon_error = _icon_missing(out)
    return out


def _icon_missing(out: Outcome) -> str:
    """Why an icon asked for was not made although nothing failed while decoding."""
    unreadable = [f.message for f in out.findings if f.code == "web.unreadable"]
    return unreadable[0] if unreadable else "the object has no pixel data"


def _reason(exc: BaseException) -> str:
    text = str(exc).splitlines()[0][:300] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def run_batch(args: tuple[list[Job], Path]) -> list[Outcome]:
    jobs, root = args
    target = _Target(root)
    return [run_job(job, root, target) for job in jobs]


def _on_disc(size: int) -> int:
    """Bytes a file of ``size`` bytes takes on a disc (2,048-byte sectors, PS3.12 F.2.1.1)."""
    return -(-size // 2048) * 2048


def sizes_of(job: Job, root: Path) -> tuple[int, int]:
    """What ``run_job(job)`` would write, in disc bytes, without writing it: (the image's JPEGs,
    its CT presets' JPEGs). A multi-frame image is estimated from one frame (its icon's) times
    its frames; anything that is not an image, or fails, counts 0."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the real rendering reports them
        try:
            ds = dcmread(root.joinpath(*job.file_id))
            if not render.has_pixels(ds):
                return 0, 0
            picture = render.Picture(ds)
            count = len(picture.frames)
            picture.frames = [picture.frames[min(icons.representative_frame(ds), count - 1)]]
            window = render.stored_window(ds)
            presets = [p for p in _presets_for(ds, job) if window is None or p.window != window]
            result = render.render_picture(picture, presets, job.jpeg.max_edge)
        except Exception:
            return 0, 0
    quality = job.jpeg.quality
    image = _on_disc(len(render.encode_jpeg(result.frames[0], quality)))
    shown = sum(_on_disc(len(render.encode_jpeg(i[0], quality))) for i in result.presets.values())
    return image * count, shown * count


def sizes_batch(args: tuple[list[Job], Path]) -> list[tuple[int, int]]:
    jobs, root = args
    return [sizes_of(job, root) for job in jobs]
