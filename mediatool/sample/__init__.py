"""A deterministic set of "foreign" DICOM files, as a clinic would hand them to the disc burner.

Five patients (Latin-1, UTF-8 and ISO 2022 Japanese names among them), six studies, CT and MR
series that absorb most of the requested instance count, one or a few instances of US, CR, MG,
PET, multi-frame XA, RT Structure Set/Plan/Dose, Basic Text SR, Encapsulated PDF, 12-lead ECG,
Grayscale Softcopy Presentation State and Key Object Selection, an endoscopy frame (ES), a clinical
photograph (XC) and an old echo image with the retired Modality EC, in messy folder and file names.
A few inputs are defective on purpose: files that are not DICOM, a data set without preamble or
File Meta Information (PS3.10 §7.1), an Implicit VR Little Endian file and a duplicated instance.

Output depends only on ``(instances, seed)``: UIDs come from ``derive_uid`` and pixels from a
seeded ``numpy`` generator, so two runs write byte-identical files.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Final

import numpy as np
from PIL import Image
from pydicom import Dataset, dcmwrite
from pydicom import uid as sop
from pydicom.dataset import FileMetaDataset

from mediatool.dicom.uids import derive_uid
from mediatool.errors import OutputError
from mediatool.model import Progress
from mediatool.sample import documents as docs
from mediatool.sample import objects as img
from mediatool.sample import vl
from mediatool.sample.objects import Patient, Ref, Series, Study

__all__ = ["SampleFile", "SampleResult", "generate_sample"]


#: (0002,0012) and (0002,0013) as two real-looking foreign writers put them (PS3.10 Table 7.1-1).
_FOREIGN_META: Final = ("1.2.826.0.1.3680043.9.7433.1.1", "FOREIGNPACS_2")
_DCMTK_META: Final = ("1.2.276.0.7230010.3.0.3.6.4", "OFFIS_DCMTK_364")

#: CT/MR series that absorb the requested instance count, with their relative weights.
_FLEX: Final = (("ct_thorax", 4), ("ct_lung", 3), ("mr_t1", 3), ("mr_t2", 3), ("ctac", 2))
_MIN_PER_SERIES: Final = 2
#: Instances outside the _FLEX series: US 2, CR 1, MG 2, PT 4, XA 1 and eleven single objects.
_FIXED: Final = 21
_PT_SLICES: Final = 4

_MUELLER: Final = Patient(
    "Müller^Jürgen", "4711-0815", "19580214", "M", ("ISO_IR 100",), "Weiß^Anna^^Dr."
)
_DVORAK: Final = Patient(
    "Dvořák^Antonín", "CZ-88213", "19790930", "M", ("ISO_IR 192",), "Novák^Jiří"
)
_YAMADA: Final = Patient(
    "Yamada^Tarou=山田^太郎=やまだ^たろう",
    "JP0042",
    "19650101",
    "M",
    ("ISO 2022 IR 6", "ISO 2022 IR 87"),
    "Suzuki^Hanako",
)
_SMITH: Final = Patient("SMITH^JANE^M", "SMJ-19720517", "19720517", "F")
_OBRIEN: Final = Patient("O'Brien^Patrick", "OB-5512", "19500808", "M")


@dataclass(frozen=True, slots=True)
class SampleFile:
    """One written file: ``path`` is POSIX and relative to the output folder."""

    path: str
    kind: str
    sop_instance_uid: str | None


@dataclass(frozen=True, slots=True)
class SampleResult:
    """What ``generate_sample`` wrote; counts are of distinct DICOM objects (a duplicate once)."""

    files: tuple[SampleFile, ...]
    patients: int
    studies: int
    series: int
    instances: int


@dataclass(frozen=True, slots=True)
class _Entry:
    path: str
    kind: str
    ref: Ref | None
    content: Callable[[], bytes]


def _part10(build: Callable[[], Dataset], meta: tuple[str, str], implicit: bool = False) -> bytes:
    """A Part 10 file (preamble, ``DICM``, File Meta Information) in memory (PS3.10 §7.1)."""
    ds = build()
    file_meta = FileMetaDataset()
    file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    file_meta.TransferSyntaxUID = (
        sop.ImplicitVRLittleEndian if implicit else sop.ExplicitVRLittleEndian
    )
    file_meta.ImplementationClassUID = sop.UID(meta[0])
    file_meta.ImplementationVersionName = meta[1]
    file_meta.SourceApplicationEntityTitle = meta[1].split("_")[0]
    ds.file_meta = file_meta
    buffer = io.BytesIO()
    dcmwrite(buffer, ds, enforce_file_format=True)
    return buffer.getvalue()


def _raw(build: Callable[[], Dataset]) -> bytes:
    """A bare Implicit VR Little Endian data set: no preamble, no ``DICM``, no group 0002."""
    buffer = io.BytesIO()
    dcmwrite(buffer, build(), implicit_vr=True, little_endian=True)
    return buffer.getvalue()


def _jpeg() -> bytes:
    """A small JPEG photo, the kind of non-DICOM file that ends up in an export folder."""
    y, x = np.mgrid[0:48, 0:64]
    rgb = np.stack([x * 4, y * 5, (x + y) * 2], axis=-1).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


_NOTES: Final = (
    "Export from ForeignPACS 2.0 on 2024-03-12\r\n"
    "Please hand the CD to the patient. Questions: radiology front desk.\r\n"
)


def _allocate(instances: int) -> dict[str, int]:
    """Split what the fixed objects leave over the CT/MR series by weight, summing exactly."""
    keys = [key for key, _ in _FLEX]
    rest = max(instances - _FIXED - _MIN_PER_SERIES * len(keys), 0)
    weights = sum(weight for _, weight in _FLEX)
    extra = {key: rest * weight // weights for key, weight in _FLEX}
    for key in keys[: rest - sum(extra.values())]:  # fewer left over than there are series
        extra[key] += 1
    return {key: _MIN_PER_SERIES + extra[key] for key in keys}


def _with_rng(
    build: Callable[..., Dataset], ref: Ref, seed: int, *args: object, **options: object
) -> Dataset:
    """One generator per instance and per call: content depends on neither order nor reuse."""
    rng = np.random.default_rng([seed, zlib.crc32(ref.sop_instance.encode())])
    return build(ref, rng, *args, **options)


class _Scene:
    """Collects the entries for one seed: UIDs, random generators and file contents."""

    def __init__(self, seed: int, counts: dict[str, int]) -> None:
        self.seed = seed
        self.counts = counts
        self.entries: list[_Entry] = []

    def uid(self, *parts: str) -> str:
        return derive_uid("mediatool.sample", f"seed={self.seed}", *parts)

    def seeded(
        self, build: Callable[..., Dataset], ref: Ref, *args: object, **options: object
    ) -> Callable[[], Dataset]:
        """``build(ref, rng, *args, **options)`` with a generator made fresh at each call."""
        return partial(_with_rng, build, ref, self.seed, *args, **options)

    def study(self, patient: Patient, key: str, when: str, description: str) -> Study:
        number = zlib.crc32(f"{self.seed}/{key}".encode()) % 90000 + 10000
        date, time = when.split(" ")
        uid = self.uid("study", key)
        return Study(patient, uid, date, time, str(number), f"A{number}", description)

    def series(
        self, study: Study, key: str, number: int, what: tuple[str, str], frame: str = ""
    ) -> Series:
        modality, description = what
        hour = f"{int(study.time[:2]) + number // 100:02d}"
        time = f"{hour}{(int(study.time[2:4]) + number) % 60:02d}00"
        frame_uid = self.uid("frame", frame or key)
        return Series(
            study, self.uid("series", key), number, modality, description, frame_uid, time
        )

    def refs(self, series: Series, sop_class: str, count: int, dz: float = -5.0) -> list[Ref]:
        uids = [self.uid("instance", series.uid, str(n)) for n in range(1, count + 1)]
        return [Ref(series, sop_class, uid, n, dz * (n - 1)) for n, uid in enumerate(uids, 1)]

    def dicom(
        self,
        path: str,
        kind: str,
        ref: Ref,
        build: Callable[[], Dataset],
        meta: tuple[str, str] = _FOREIGN_META,
    ) -> None:
        content = (
            partial(_raw, build)
            if kind == "raw-dataset"
            else partial(_part10, build, meta, kind == "implicit-vr")
        )
        self.entries.append(_Entry(path, kind, ref, content))

    def other(self, path: str, kind: str, content: Callable[[], bytes]) -> None:
        self.entries.append(_Entry(path, kind, None, content))


def _mueller(scene: _Scene) -> None:
    """Patient 1, Latin-1 name: CT thorax and a lung kernel, a duplicate, then derived objects."""
    study = scene.study(_MUELLER, "mueller", "20240312 091500", "CT Thorax mit KM")
    base = "Export 2024-03-12/patient_mueller"
    thorax_series = scene.series(study, "ct_thorax", 2, ("CT", "Thorax 5.0 B30f"), "ct")
    lung_series = scene.series(study, "ct_lung", 3, ("CT", "Thorax Lunge 5.0 B70f"), "ct")
    thorax = scene.refs(thorax_series, sop.CTImageStorage, scene.counts["ct_thorax"])
    lung = scene.refs(lung_series, sop.CTImageStorage, scene.counts["ct_lung"])
    for folder, refs in (("CT Thorax", thorax), ("CT Lunge", lung)):
        for r in refs:
            build = scene.seeded(img.ct_image, r, z_frac=(r.number - 1) / len(refs))
            scene.dicom(f"{base}/{folder}/img_{r.number:04d}.dcm", "CT", r, build)
    first = scene.entries[0]  # a byte-identical second copy, as careless exports contain
    scene.entries.append(
        _Entry("backup/img_0001 - Kopie.dcm", "duplicate", first.ref, first.content)
    )

    _mueller_derived(scene, study, thorax, lung)


def _mueller_derived(scene: _Scene, study: Study, thorax: list[Ref], lung: list[Ref]) -> None:
    """RT Structure Set, Plan and Dose on the thorax CT; a lung window GSPS; key images."""
    base = "Export 2024-03-12/patient_mueller"

    def one(key: str, number: int, what: tuple[str, str], sop_class: str) -> Ref:
        return scene.refs(scene.series(study, key, number, what, "ct"), sop_class, 1)[0]

    rs = one("rtstruct", 100, ("RTSTRUCT", "Strukturset"), sop.RTStructureSetStorage)
    rp = one("rtplan", 101, ("RTPLAN", "Bestrahlungsplan"), sop.RTPlanStorage)
    rd = one("rtdose", 102, ("RTDOSE", "Dosis"), sop.RTDoseStorage)
    pr = one("gsps", 200, ("PR", "Lungenfenster"), sop.GrayscaleSoftcopyPresentationStateStorage)
    ko = one("kos", 201, ("KO", "Schlüsselbilder"), sop.KeyObjectSelectionDocumentStorage)
    rt = f"{base}/RT"
    scene.dicom(
        f"{rt}/RS.{rs.sop_instance}.dcm", "RTSTRUCT", rs, partial(docs.rt_structure_set, rs, thorax)
    )
    scene.dicom(f"{rt}/RP.{rp.sop_instance}.dcm", "RTPLAN", rp, partial(docs.rt_plan, rp, rs))
    dose = scene.seeded(docs.rt_dose, rd, rp)
    scene.dicom(f"{rt}/RD.{rd.sop_instance}.dcm", "RTDOSE", rd, dose)
    gsps = partial(docs.grayscale_presentation_state, pr, lung)
    scene.dicom(f"{base}/presentation states/lung window.dcm", "GSPS", pr, gsps)
    keys = [thorax[len(thorax) // 2], thorax[-1], lung[0]]
    note = "Rundherd rechter Unterlappen, größenprogredient"
    scene.dicom(f"{base}/key images", "KOS", ko, partial(docs.key_object_selection, ko, keys, note))


def _dvorak(scene: _Scene) -> None:
    """Patient 2, UTF-8 name: MR head (the last T2 slice without File Meta) and a text report."""
    study = scene.study(_DVORAK, "dvorak", "20240305 143000", "MR hlavy")
    base = "Export 2024-03-12/PATIENT_2 Dvorak/MR Schaedel"
    long_name = "t1_se_tra_post_contrast_with_a_rather_long_series_description_from_the_scanner"
    for key, number, folder, t2 in (
        ("mr_t1", 4, long_name, False),
        ("mr_t2", 5, "t2_tse_sag", True),
    ):
        series = scene.series(study, key, number, ("MR", folder[:64]))
        refs = scene.refs(series, sop.MRImageStorage, scene.counts[key], dz=6.0)
        for r in refs:
            build = scene.seeded(img.mr_image, r, t2=t2)
            if t2 and r is refs[-1]:
                scene.dicom("misc/IMAGE 7", "raw-dataset", r, build)
            else:
                scene.dicom(f"{base}/{folder}/IM{r.number:06d}", "MR", r, build)
    sr = scene.refs(scene.series(study, "sr", 99, ("SR", "Nález")), sop.BasicTextSRStorage, 1)[0]
    sections = [
        ("History", "Bolesti hlavy, vyloučit ložiskový proces."),
        ("Findings", "Bez ložiskových změn. Komorový systém přiměřené šíře."),
        ("Impression", "Normální nález MR mozku."),
    ]
    scene.dicom("deep/a/b/c/d/report.DCM", "SR", sr, partial(docs.basic_text_sr, sr, sections))


def _yamada(scene: _Scene) -> None:
    """Patient 3, ISO 2022 Japanese name, written by another toolkit: US, XA run and ECG."""
    study = scene.study(_YAMADA, "yamada", "20240228 101010", "Cardiology")
    base = "cardio 2024"
    us = scene.refs(scene.series(study, "us", 1, ("US", "Echo")), sop.UltrasoundImageStorage, 2)
    for r in us:
        build = scene.seeded(img.us_image, r)
        scene.dicom(f"{base}/US/us{r.number:04d}.dcm", "US", r, build, _DCMTK_META)
    xa_series = scene.series(study, "xa", 2, ("XA", "LCA RAO 30 CRAN 20"))
    xa = scene.refs(xa_series, sop.XRayAngiographicImageStorage, 1)[0]
    build = scene.seeded(img.xa_image, xa, frames=4)
    scene.dicom(f"{base}/XA/XA RUN 1.dcm", "XA", xa, build, _DCMTK_META)
    # an echo from 1998 kept in the record, written with the retired Modality EC (PS3.3
    # C.7.3.1.1.1: US incorporates EC); the US Image IOD does not constrain Modality
    old = scene.refs(scene.series(study, "echo", 4, ("EC", "Echo 1998")), us[0].sop_class, 1)[0]
    scene.dicom(f"{base}/US/old echo.dcm", "EC", old, scene.seeded(img.us_image, old), _DCMTK_META)
    ecg_series = scene.series(study, "ecg", 3, ("ECG", "Resting 12-lead"))
    ecg = scene.refs(ecg_series, sop.TwelveLeadECGWaveformStorage, 1)[0]
    build = scene.seeded(docs.ecg_12_lead, ecg)
    scene.dicom(f"{base}/ecg/12-lead ecg.dcm", "ECG", ecg, build, _DCMTK_META)


def _smith(scene: _Scene) -> None:
    """Patient 4, plain ASCII: screening mammography with a PDF report, and an older chest CR."""
    mammo = scene.study(_SMITH, "smith_mg", "20240311 080000", "Screening mammography")
    mg_series = scene.series(mammo, "mg", 1, ("MG", "Screening CC"))
    mg_class = sop.DigitalMammographyXRayImageStorageForPresentation
    for r, side in zip(scene.refs(mg_series, mg_class, 2), ("R", "L"), strict=True):
        build = scene.seeded(img.mg_image, r, laterality=side)
        scene.dicom(f"mammo/{side}CC.dcm", "MG", r, build)
    doc_series = scene.series(mammo, "pdf", 90, ("DOC", "Report"))
    pdf = scene.refs(doc_series, sop.EncapsulatedPDFStorage, 1)[0]
    title = "Screening mammography report"
    document = docs.tiny_pdf(title, ["BI-RADS 1: negative.", "Routine screening in 2 years."])
    build = partial(docs.encapsulated_pdf, pdf, title, document)
    scene.dicom("Reports/Mammography Report 2024-03-12.dcm", "PDF", pdf, build)
    chest = scene.study(_SMITH, "smith_cr", "20230915 163000", "Chest X-ray")
    cr_series = scene.series(chest, "cr", 1, ("CR", "Chest PA"))
    cr = scene.refs(cr_series, sop.ComputedRadiographyImageStorage, 1)[0]
    scene.dicom("xray/Chest PA", "CR", cr, scene.seeded(img.cr_image, cr))
    skin = scene.study(_SMITH, "smith_xc", "20240110 111500", "Dermatology")
    xc_series = scene.series(skin, "xc", 1, ("XC", "Lesion right upper arm"))
    xc = scene.refs(xc_series, sop.VLPhotographicImageStorage, 1)[0]
    scene.dicom("photos/DERM0001.dcm", "XC", xc, scene.seeded(vl.photo_image, xc))


def _obrien(scene: _Scene) -> None:
    """Patient 5: PET/CT, one CT slice written Implicit VR Little Endian."""
    study = scene.study(_OBRIEN, "obrien", "20240301 120000", "PET/CT whole body FDG")
    ctac_series = scene.series(study, "ctac", 2, ("CT", "CTAC 5.0"), "petct")
    ctac = scene.refs(ctac_series, sop.CTImageStorage, scene.counts["ctac"])
    for r in ctac:
        build = scene.seeded(img.ct_image, r, z_frac=(r.number - 1) / len(ctac), signed=True)
        kind = "implicit-vr" if r is ctac[-1] else "CT"
        scene.dicom(f"PETCT/CTAC/CT.{r.number:03d}.dcm", kind, r, build)
    pt_series = scene.series(study, "pt", 3, ("PT", "PET WB AC"), "petct")
    pt_class = sop.PositronEmissionTomographyImageStorage
    for r in scene.refs(pt_series, pt_class, _PT_SLICES):
        build = scene.seeded(img.pt_image, r, slices=_PT_SLICES)
        scene.dicom(f"PETCT/PT/PT.{r.number:03d}.dcm", "PET", r, build)
    gastro = scene.study(_OBRIEN, "obrien_es", "20240207 083000", "Gastroscopy")
    es_series = scene.series(gastro, "es", 1, ("ES", "Gastroscopy stills"))
    es = scene.refs(es_series, sop.VLEndoscopicImageStorage, 1)[0]
    scene.dicom("endoscopy/still 1.dcm", "ES", es, scene.seeded(vl.endoscopy_image, es))


def _plan(instances: int, seed: int) -> list[_Entry]:
    scene = _Scene(seed, _allocate(instances))
    for add in (_mueller, _dvorak, _yamada, _smith, _obrien):
        add(scene)
    scene.other("notes.txt", "not-dicom", partial(str.encode, _NOTES, "ascii"))
    scene.other("misc/photo.jpg", "not-dicom", _jpeg)
    return sorted(scene.entries, key=lambda entry: entry.path)


def generate_sample(
    out: Path, *, instances: int = 120, seed: int = 1, progress: Progress | None = None
) -> SampleResult:
    """Write the sample into the folder ``out``, which must be new or empty.

    ``instances`` is the number of distinct DICOM instances. The CT and MR series grow or shrink
    to match it, down to two images each (31 instances in all). Same arguments, same bytes.

    Raises
    ------
    OutputError
        ``out`` is a file or a folder that is not empty, or a file cannot be written.
    """
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise OutputError(f"{out} is not an empty folder", hint="give a new folder for the sample")
    entries = _plan(instances, seed)
    try:
        for done, entry in enumerate(entries, 1):
            target = out.joinpath(*entry.path.split("/"))
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(entry.content())
            if progress is not None:
                progress(done, len(entries), entry.path)
    except OSError as exc:
        raise OutputError(f"cannot write the sample into {out}: {exc}") from exc
    refs = {entry.ref.sop_instance: entry.ref for entry in entries if entry.ref is not None}
    files = (SampleFile(e.path, e.kind, e.ref.sop_instance if e.ref else None) for e in entries)
    return SampleResult(
        files=tuple(files),
        patients=len({ref.series.study.patient.patient_id for ref in refs.values()}),
        studies=len({ref.series.study.uid for ref in refs.values()}),
        series=len({ref.series.uid for ref in refs.values()}),
        instances=len(refs),
    )
