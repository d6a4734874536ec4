"""``survey``: what is on a disc, for the reception desk (what ``import --list`` shows) plus one
thumbnail per series, made by the one render pipeline (:mod:`mediatool.pixels.render`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from mediatool.station.i18n import gettext as _
from mediatool.station.jobs.context import JobContext
from mediatool.station.jobs.kinds import common

if TYPE_CHECKING:
    from mediatool.importer.survey import MediaFile, Survey
    from mediatool.media.base import MediaReader

THUMBS: Final = "thumbs"


def describe(params: Mapping[str, Any]) -> str:
    return _("Look at the disc %(disc)s") % {"disc": common.shown(params)}


def run_survey(params: Mapping[str, Any], ctx: JobContext) -> dict[str, Any]:
    """``{media}`` → the listing (``mediatool.import-list/1``: patients, studies, series,
    problems in plain words, ``expected``: the disc's own viewer and web pages) where each
    series has ``thumbnail`` (a path relative to the job folder, or None) and, without one,
    ``thumbnail_problem`` (why)."""
    from mediatool.importer.listing import expected_text, listing
    from mediatool.importer.survey import survey_media
    from mediatool.validate import validate_media

    media = common.required(params, "media")
    report = common.progress(ctx)
    with common.library_errors(), common.open_medium(media) as reader:
        found = listing(validate_media(reader, None, report))
        report.check()
        files = survey_media(reader, progress=report, jobs=1)
        report.check()
        result = found.as_dict()
        _thumbnails(reader, files, result, ctx)
    result["expected"] = expected_text(found.report)
    for p in result["patients"]:
        ctx.audit("view disc", p["patient_id"], p["name"], "ok")
    return result


def _by_series(files: Survey) -> dict[str, list[MediaFile]]:
    out: dict[str, list[MediaFile]] = {}
    for f in files.instances():
        assert f.info is not None
        out.setdefault(f.info.series_uid, []).append(f)
    return out


def _thumbnails(
    reader: MediaReader, files: Survey, result: dict[str, Any], ctx: JobContext
) -> None:
    """One thumbnail per series of ``result`` (JPEG under ``thumbs/``), in place."""
    members = _by_series(files)
    series = [s for p in result["patients"] for st in p["studies"] for s in st["series"]]
    folder = ctx.folder / THUMBS
    folder.mkdir(parents=True, exist_ok=True)
    for n, s in enumerate(series, 1):
        ctx.progress(n - 1, len(series), "thumbnails")
        name = f"{THUMBS}/{n:04d}.jpg"
        chosen = _representative(members.get(s["series_instance_uid"], []))
        if chosen is None:
            s["thumbnail"], s["thumbnail_problem"] = None, "no readable image in this series"
            continue
        try:
            (ctx.folder / name).write_bytes(thumbnail_jpeg(reader, chosen))
        except ThumbnailError as exc:
            s["thumbnail"], s["thumbnail_problem"] = None, str(exc)
            continue
        s["thumbnail"], s["thumbnail_problem"] = name, None
    ctx.progress(len(series), len(series), "thumbnails")


def _representative(files: list[MediaFile]) -> MediaFile | None:
    """The middle instance of the series in its own order (one decode per series)."""
    if not files:
        return None
    ordered = sorted(files, key=lambda f: (f.info.sort_key() if f.info else (), f.path))
    return ordered[len(ordered) // 2]


class ThumbnailError(Exception):
    """This image gives no thumbnail; the message says why, in one sentence."""


def thumbnail_jpeg(reader: MediaReader, file: MediaFile) -> bytes:
    """The file's representative frame, rendered as the disc's web content renders it
    (:class:`mediatool.pixels.render.Picture`: pixel data decoded once), as a JPEG thumbnail."""
    from mediatool.pixels import render
    from mediatool.pixels.transcode import read

    found, _ = reader.resolve(tuple(file.path.split("/")))
    if found is None or file.info is None:
        raise ThumbnailError(f"{file.path} is no longer on the disc")
    try:
        with reader.open(found) as fp:
            ds = read(fp.read(), file.info.transfer_syntax)
    except Exception as exc:  # an unreadable file is a fact about the disc
        raise ThumbnailError(f"{file.path} cannot be read: {exc}") from exc
    try:
        image = _image(ds)
    except render.RenderError as exc:
        raise ThumbnailError(str(exc)) from exc
    except Exception as exc:  # a broken image never stops the listing
        raise ThumbnailError(f"cannot render the image: {type(exc).__name__}: {exc}") from exc
    return render.encode_jpeg(render.thumbnail(image))


def _image(ds: Any) -> Any:
    """The picture the disc's web content shows for ``ds``: a waveform's drawing, else the
    representative frame (one decode)."""
    from mediatool.pixels import render
    from mediatool.pixels.icons import representative_frame
    from mediatool.web.waveform import render_waveform

    if "WaveformSequence" in ds and not render.has_pixels(ds):
        return render_waveform(ds)
    picture = render.Picture(ds)
    frame = min(representative_frame(ds), len(picture.frames) - 1)
    return render.to_image(picture.default(frame), picture.aspect)
