"""Non-image IOD builders for the sample generator: RT, SR, PDF, ECG, GSPS and KOS objects.

The RT objects, the presentation state and the key object selection refer to instances built by
``mediatool.sample.objects``, passed in as ``Ref`` values (PS3.3 Annex A IODs cited per builder).
"""

from __future__ import annotations

from collections.abc import Sequence as Seq

import numpy as np
from pydicom import Dataset
from pydicom.sequence import Sequence

from mediatool.sample.objects import Ref, code, composite, pixels, plane, sop_ref

#: (0008,1150) value for an RT Referenced Study item: Detached Study Management SOP Class,
#: retired, but PS3.3 C.8.8.5 still asks for it there.
_STUDY_CLASS = "1.2.840.10008.3.1.2.3.1"


def _series_refs(refs: Seq[Ref]) -> Sequence:
    """Referenced Series Sequence items grouped by series, in first-seen order (PS3.3 C.17.2.1)."""
    by_series: dict[str, list[Ref]] = {}
    for ref in refs:
        by_series.setdefault(ref.series.uid, []).append(ref)
    items = []
    for series_uid, members in by_series.items():
        item = Dataset()
        item.SeriesInstanceUID = series_uid
        item.ReferencedSOPSequence = Sequence([sop_ref(ref) for ref in members])
        items.append(item)
    return Sequence(items)


def _evidence(refs: Seq[Ref]) -> Sequence:
    """Hierarchical SOP Instance Reference Macro (PS3.3 Table 10-4), one study."""
    item = Dataset()
    item.StudyInstanceUID = refs[0].series.study.uid
    item.ReferencedSeriesSequence = _series_refs(refs)
    return Sequence([item])


def _undated(ds: Dataset) -> None:
    """Drop Content Date/Time where the IOD has its own creation date (RT, presentation state)."""
    del ds.ContentDate, ds.ContentTime


def _rt_series(ds: Dataset, ref: Ref) -> None:
    """RT Series module extras and the Frame of Reference module (PS3.3 C.8.8.1, C.7.4.1)."""
    ds.OperatorsName = "Keller^Tom"
    ds.FrameOfReferenceUID = ref.series.frame_of_reference
    ds.PositionReferenceIndicator = ""


def rt_structure_set(ref: Ref, ct: Seq[Ref]) -> Dataset:
    """RT Structure Set IOD (PS3.3 A.19): BODY and PTV contours on the referenced CT slices."""
    ds = composite(ref)
    _rt_series(ds, ref)
    _undated(ds)
    ds.StructureSetLabel = "THORAX_RT"
    ds.StructureSetName = "Thorax planning"
    ds.StructureSetDate = ref.series.study.date
    ds.StructureSetTime = ref.series.time
    frame_uid = ct[0].series.frame_of_reference
    series_item = Dataset()
    series_item.SeriesInstanceUID = ct[0].series.uid
    series_item.ContourImageSequence = Sequence([sop_ref(r) for r in ct])
    study_item = Dataset()
    study_item.ReferencedSOPClassUID = _STUDY_CLASS
    study_item.ReferencedSOPInstanceUID = ct[0].series.study.uid
    study_item.RTReferencedSeriesSequence = Sequence([series_item])
    frame_item = Dataset()
    frame_item.FrameOfReferenceUID = frame_uid
    frame_item.RTReferencedStudySequence = Sequence([study_item])
    ds.ReferencedFrameOfReferenceSequence = Sequence([frame_item])
    rois, contours, observations = [], [], []
    for number, (name, kind, radius, colour) in enumerate(
        [("BODY", "EXTERNAL", 220.0, ["0", "255", "0"]), ("PTV", "PTV", 40.0, ["255", "0", "0"])], 1
    ):
        roi = Dataset()
        roi.ROINumber = number
        roi.ReferencedFrameOfReferenceUID = frame_uid
        roi.ROIName = name
        roi.ROIGenerationAlgorithm = "MANUAL"
        rois.append(roi)
        contour = Dataset()
        contour.ReferencedROINumber = number
        contour.ROIDisplayColor = colour
        contour.ContourSequence = Sequence([_contour(r, radius) for r in ct])
        contours.append(contour)
        observation = Dataset()
        observation.ObservationNumber = number
        observation.ReferencedROINumber = number
        observation.RTROIInterpretedType = kind
        observation.ROIInterpreter = ""
        observations.append(observation)
    ds.StructureSetROISequence = Sequence(rois)
    ds.ROIContourSequence = Sequence(contours)
    ds.RTROIObservationsSequence = Sequence(observations)
    return ds


def _contour(ct: Ref, radius: float) -> Dataset:
    """One closed planar polygon of 12 points on one CT slice (PS3.3 C.8.8.6)."""
    item = Dataset()
    item.ContourImageSequence = Sequence([sop_ref(ct)])
    item.ContourGeometricType = "CLOSED_PLANAR"
    angles = np.linspace(0.0, 2.0 * np.pi, 12, endpoint=False)
    points: list[str] = []
    for angle in angles:
        points += [
            f"{radius * np.cos(angle):.2f}",
            f"{radius * 0.75 * np.sin(angle):.2f}",
            f"{ct.z:.2f}",
        ]
    item.NumberOfContourPoints = len(angles)
    item.ContourData = points
    return item


def rt_plan(ref: Ref, structure_set: Ref) -> Dataset:
    """RT Plan IOD (PS3.3 A.20): General Plan and Fraction Scheme, no beams yet."""
    ds = composite(ref)
    _rt_series(ds, ref)
    _undated(ds)
    ds.RTPlanLabel = "THORAX_1"
    ds.RTPlanName = "Thorax 60 Gy"
    ds.RTPlanDate = ref.series.study.date
    ds.RTPlanTime = ref.series.time
    ds.PlanIntent = "CURATIVE"
    ds.RTPlanGeometry = "PATIENT"
    ds.ReferencedStructureSetSequence = Sequence([sop_ref(structure_set)])
    fraction = Dataset()
    fraction.FractionGroupNumber = 1
    fraction.NumberOfFractionsPlanned = 30
    fraction.NumberOfBeams = 0
    fraction.NumberOfBrachyApplicationSetups = 0
    ds.FractionGroupSequence = Sequence([fraction])
    return ds


def rt_dose(ref: Ref, rng: np.random.Generator, plan: Ref) -> Dataset:
    """RT Dose IOD (PS3.3 A.18): a 4-frame 16x16 dose grid with Dose Summation Type PLAN."""
    ds = composite(ref)
    _rt_series(ds, ref)
    plane(ds, ref, 20.0, 16)
    ds.SliceThickness = ""
    y, x = np.mgrid[-1:1:16j, -1:1:16j]
    grid = [
        np.exp(-(x**2 + y**2) * (2.0 + k)) * 60000 + rng.normal(0, 50, x.shape) for k in range(4)
    ]
    pixels(ds, np.clip(np.stack(grid), 0, 65535).astype(np.uint16), bits_stored=16)
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.NumberOfFrames = 4
    ds.FrameIncrementPointer = 0x3004000C  # Grid Frame Offset Vector
    ds.GridFrameOffsetVector = ["0", "5", "10", "15"]
    ds.DoseUnits = "GY"
    ds.DoseType = "PHYSICAL"
    ds.DoseSummationType = "PLAN"
    ds.DoseGridScaling = "0.001"
    ds.DoseComment = "Planned dose"
    ds.TissueHeterogeneityCorrection = "IMAGE"
    ds.ReferencedRTPlanSequence = Sequence([sop_ref(plan)])
    return ds


def _text(relation: str, concept: Dataset, text: str) -> Dataset:
    item = Dataset()
    item.RelationshipType = relation
    item.ValueType = "TEXT"
    item.ConceptNameCodeSequence = Sequence([concept])
    item.TextValue = text
    return item


def basic_text_sr(ref: Ref, sections: Seq[tuple[str, str]]) -> Dataset:
    """Basic Text SR IOD (PS3.3 A.35.1), VERIFIED, with a language HAS CONCEPT MOD at root."""
    ds = composite(ref)
    ds.ReferencedPerformedProcedureStepSequence = Sequence()
    ds.CompletionFlag = "COMPLETE"
    ds.VerificationFlag = "VERIFIED"
    observer = Dataset()
    observer.VerifyingObserverName = ref.series.study.patient.referring
    observer.VerifyingObserverIdentificationCodeSequence = Sequence()
    observer.VerifyingOrganization = "St. Elsewhere Hospital"
    observer.VerificationDateTime = ref.series.study.date + ref.series.time
    ds.VerifyingObserverSequence = Sequence([observer])
    ds.PerformedProcedureCodeSequence = Sequence()
    ds.ValueType = "CONTAINER"
    ds.ConceptNameCodeSequence = Sequence([code("18748-4", "LN", "Diagnostic imaging report")])
    ds.ContinuityOfContent = "SEPARATE"
    language = Dataset()
    language.RelationshipType = "HAS CONCEPT MOD"
    language.ValueType = "CODE"
    language.ConceptNameCodeSequence = Sequence(
        [code("121049", "DCM", "Language of Content Item and Descendants")]
    )
    language.ConceptCodeSequence = Sequence([code("en-US", "RFC5646", "English (United States)")])
    concepts = {
        "History": code("121060", "DCM", "History"),
        "Findings": code("121071", "DCM", "Finding"),
        "Impression": code("121073", "DCM", "Impression"),
    }
    items = [_text("CONTAINS", concepts[title], text) for title, text in sections]
    ds.ContentSequence = Sequence([language, *items])
    return ds


def tiny_pdf(title: str, lines: Seq[str]) -> bytes:
    """A one-page PDF 1.4 document (ISO 32000-1 §7.5: header, objects, xref table, trailer)."""
    text = " ".join(f"({line}) Tj 0 -18 Td" for line in [title, *lines])
    stream = f"BT /F1 12 Tf 72 760 Td {text} ET".encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def encapsulated_pdf(ref: Ref, title: str, document: bytes) -> Dataset:
    """Encapsulated PDF IOD (PS3.3 A.45.1): a born-digital report (Conversion Type WSD)."""
    ds = composite(ref)
    ds.ConversionType = "WSD"
    ds.BurnedInAnnotation = "YES"
    ds.AcquisitionDateTime = ref.series.study.date + ref.series.time
    ds.DocumentTitle = title
    ds.ConceptNameCodeSequence = Sequence([code("18748-4", "LN", "Diagnostic imaging report")])
    ds.MIMETypeOfEncapsulatedDocument = "application/pdf"
    ds.EncapsulatedDocumentLength = len(document)
    ds.add_new(0x00420011, "OB", document + b"\0" * (len(document) % 2))
    return ds


#: CID 3001 ECG leads, MDC codes, in the order the channels are multiplexed.
_LEADS = [
    ("2:1", "Lead I"),
    ("2:2", "Lead II"),
    ("2:61", "Lead III"),
    ("2:62", "Lead aVR"),
    ("2:63", "Lead aVL"),
    ("2:64", "Lead aVF"),
    *[(f"2:{n + 3}", f"Lead V{n + 1}") for n in range(6)],
]


def ecg_12_lead(ref: Ref, rng: np.random.Generator) -> Dataset:
    """12-Lead ECG IOD (PS3.3 A.34.3): 2 s at 500 Hz, 12 int16 channels in microvolts."""
    ds = composite(ref)
    ds.AcquisitionDateTime = ref.series.study.date + ref.series.time
    ds.AcquisitionContextSequence = Sequence()
    samples = 1000
    t = np.arange(samples) / 500.0
    beat = np.exp(-(((t % 0.8) - 0.4) ** 2) / 0.0004)  # an R wave every 0.8 s (75/min)
    channels, data = [], []
    for index, (value, meaning) in enumerate(_LEADS):
        gain = 1.0 - index / 16
        wave = (
            900 * gain * beat
            + 80 * np.sin(2 * np.pi * 1.25 * t + index)
            + rng.normal(0, 8, samples)
        )
        data.append(wave)
        channel = Dataset()
        source = code(value, "MDC", meaning)
        channel.ChannelSourceSequence = Sequence([source])
        channel.ChannelSensitivity = "1"
        channel.ChannelSensitivityUnitsSequence = Sequence([code("uV", "UCUM", "microvolt")])
        channel.ChannelSensitivityCorrectionFactor = "1"
        channel.ChannelBaseline = "0"
        channel.ChannelTimeSkew = "0"
        channel.WaveformBitsStored = 16
        channel.FilterLowFrequency = "0.05"
        channel.FilterHighFrequency = "150"
        channels.append(channel)
    group = Dataset()
    group.WaveformOriginality = "ORIGINAL"
    group.NumberOfWaveformChannels = len(channels)
    group.NumberOfWaveformSamples = samples
    group.SamplingFrequency = "500"
    group.MultiplexGroupLabel = "RHYTHM"
    group.ChannelDefinitionSequence = Sequence(channels)
    group.WaveformBitsAllocated = 16
    group.WaveformSampleInterpretation = "SS"
    interleaved = np.stack(data, axis=1).round().clip(-32768, 32767).astype("<i2")
    group.add_new(0x54001010, "OW", interleaved.tobytes())
    ds.WaveformSequence = Sequence([group])
    return ds


def grayscale_presentation_state(ref: Ref, images: Seq[Ref]) -> Dataset:
    """Grayscale Softcopy Presentation State IOD (PS3.3 A.33.1): a lung window on a CT series."""
    ds = composite(ref)
    _undated(ds)
    ds.BodyPartExamined = "CHEST"
    ds.PresentationCreationDate = ref.series.study.date
    ds.PresentationCreationTime = ref.series.time
    ds.ContentLabel = "LUNG_WINDOW"
    ds.ContentDescription = "Lung window"
    ds.ContentCreatorName = ref.series.study.patient.referring
    series_item = Dataset()
    series_item.SeriesInstanceUID = images[0].series.uid
    series_item.ReferencedImageSequence = Sequence([sop_ref(r) for r in images])
    ds.ReferencedSeriesSequence = Sequence([series_item])
    area = Dataset()
    area.DisplayedAreaTopLeftHandCorner = [1, 1]
    area.DisplayedAreaBottomRightHandCorner = [64, 64]
    area.PresentationSizeMode = "SCALE TO FIT"
    area.PresentationPixelAspectRatio = [1, 1]
    ds.DisplayedAreaSelectionSequence = Sequence([area])
    ds.RescaleIntercept = "-1024"
    ds.RescaleSlope = "1"
    ds.RescaleType = "HU"
    voi = Dataset()
    voi.WindowCenter = "-600"
    voi.WindowWidth = "1500"
    ds.SoftcopyVOILUTSequence = Sequence([voi])
    ds.PresentationLUTShape = "IDENTITY"
    return ds


def key_object_selection(ref: Ref, images: Seq[Ref], description: str) -> Dataset:
    """Key Object Selection Document IOD (PS3.3 A.35.4), TID 2010 "Of Interest"."""
    ds = composite(ref)
    ds.ReferencedPerformedProcedureStepSequence = Sequence()
    ds.CurrentRequestedProcedureEvidenceSequence = _evidence(images)
    ds.ValueType = "CONTAINER"
    ds.ConceptNameCodeSequence = Sequence([code("113000", "DCM", "Of Interest")])
    ds.ContinuityOfContent = "SEPARATE"
    template = Dataset()
    template.MappingResource = "DCMR"
    template.TemplateIdentifier = "2010"
    ds.ContentTemplateSequence = Sequence([template])
    items = [_text("CONTAINS", code("113012", "DCM", "Key Object Description"), description)]
    for image in images:
        item = Dataset()
        item.RelationshipType = "CONTAINS"
        item.ValueType = "IMAGE"
        item.ReferencedSOPSequence = Sequence([sop_ref(image)])
        items.append(item)
    ds.ContentSequence = Sequence(items)
    return ds
