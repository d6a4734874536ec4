"""View model (plain dicts of strings) and the jinja2 pages of the IHE PDI web content.

Templates live in ``templates/`` (found through :func:`mediatool.resources.data_dir`) and are
named after the file they produce, so ``select_autoescape(["html", "htm"])`` turns escaping on
for every page: all text from the DICOM data is escaped. ``StrictUndefined`` makes a missing
field an error instead of an empty string. Paths in the model are POSIX and relative to the
File-set root; each page gets ``base`` (``""``, ``"../../"`` ...) to reach the root, so every
link is relative and stays on the medium.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any, Final

import jinja2
import markupsafe

import mediatool
from mediatool import modalities
from mediatool.modalities import DEFAULT_LANGUAGE
from mediatool.pixels import render
from mediatool.resources import templates
from mediatool.web import i18n, product
from mediatool.web.fileset import PatientNode, SeriesNode, StudyNode
from mediatool.web.i18n import N_
from mediatool.web.links import CASE_SCRIPT, lower_links
from mediatool.web.site import Site
from mediatool.web.text import (
    alphabetic_name,
    format_name,
    format_sex,
    format_time,
    local_date,
    long_date,
    to_ascii,
)
from mediatool.web.work import Job, Outcome

Model = dict[str, Any]

#: Content type for the label and INDEX.HTM (IHE PDI media identification, pdi.md 2.6).
CONTENT_TYPE = "DICOM PLUS WEB"


@cache
def environment(language: str = DEFAULT_LANGUAGE) -> jinja2.Environment:
    """The project's Environment (:func:`mediatool.resources.templates`) with the disc's globals
    and gettext in ``language``: an overlay per language, with its own globals (the i18n
    extension writes into them) and template cache, so the shared Environment stays as it is."""
    own = templates().overlay(cache_size=400)
    own.globals = {  # its own dict: an overlay shares its parent's
        **own.globals,
        "case_script": markupsafe.Markup(CASE_SCRIPT),
        "lang": language,
    }
    env = own.overlay(extensions=["jinja2.ext.i18n"], cache_size=400)
    env.install_gettext_translations(  # type: ignore[attr-defined]
        i18n.translations(language), newstyle=True
    )
    return env


#: words the worker processes put in an SR's status lines (mediatool.web.sr), shown translated
SR_WORDS: Final = (
    N_("Date"), N_("Completion"), N_("Verification"), N_("Verified by"),
    N_("Complete"), N_("Partial"), N_("Verified"), N_("Unverified"),
)  # fmt: skip
#: the words of mediatool.web.text.format_sex
SEX_NAMES: Final = (N_("Male"), N_("Female"), N_("Other"))
#: the CT window presets' names (mediatool.pixels.render.CT_PRESETS)
PRESET_NAMES: Final = (N_("Soft tissue"), N_("Lung"), N_("Bone"), N_("Brain"))


def site_model(site: Site, logo: str) -> dict[str, Any]:
    _ = i18n.gettext_for(site.language)
    name = site.name or _("No institution configured")
    contact = site.contact_lines(_)
    return {
        "configured": site.configured,
        "name": name,
        "department": site.department,
        "address": list(site.address),
        "contact": contact,
        "phone": site.phone,
        "email": site.email,
        "website": site.website,
        "logo": logo,
        "ascii_name": to_ascii(name),
        "ascii_contact": [to_ascii(line) for line in contact],
        "ascii_department": to_ascii(site.department),
    }


def _presets(
    key: str, per_image: list[tuple[list[str], list[str]]], _: i18n.Gettext
) -> list[dict[str, str]]:
    """The CT presets a series offers: rendered for every image (their own folder), or equal to
    every image's own window (the default renderings); a preset that is mixed is left out."""
    offered: list[dict[str, str]] = []
    for preset in render.CT_PRESETS:
        rendered = [preset.key in r for r, _ in per_image]
        same = [preset.key in s for _, s in per_image]
        if not per_image or not all(r or s for r, s in zip(rendered, same, strict=True)):
            continue
        if all(rendered):
            folder = f"VIEWER/{key}/{preset.key}"
        elif all(same):
            folder = f"IHE_PDI/{key}"
        else:
            continue
        offered.append(
            {
                "key": preset.key,
                "label": _(preset.label),
                "dir": folder,
                "center": f"{preset.window.center:g}",
                "width": f"{preset.window.width:g}",
            }
        )
    return offered


def _series_model(
    series: SeriesNode,
    key: str,
    jobs: Sequence[Job],
    outcomes: Sequence[Outcome],
    _: i18n.Gettext,
) -> dict[str, Any]:
    images: list[dict[str, str]] = []
    description = ""
    windows: list[str] = []
    for leaf, job, out in zip(series.leaves, jobs, outcomes, strict=True):
        description = description or out.series_description
        if out.kind != "image":
            continue
        windows.append(out.window)
        for n, src in enumerate(out.images, 1):
            number = leaf.instance_number or str(job.index + 1)
            caption = (
                _("Image %(number)s, frame %(frame)s") % {"number": number, "frame": n}
                if len(out.images) > 1
                else _("Image %(number)s") % {"number": number}
            )
            images.append(
                {"src": src, "caption": caption, "w": str(out.size[0]), "h": str(out.size[1])}
            )
    presets = _presets(key, [(o.presets, o.same) for o in outcomes if o.kind == "image"], _)
    image_dir = f"IHE_PDI/{key}"
    middle = images[(len(images) - 1) // 2]["src"] if images else ""
    modality = series.modality or next((o.modality for o in outcomes if o.modality), "")
    return {
        "key": key.rsplit("/", 1)[1],
        "number": series.number,
        "modality": modality,
        "description": description,
        "images": images,
        "count": str(len(images)),
        "href": f"IHE_PDI/{key}.HTM" if images else "",
        "thumb": f"{image_dir}/THUMB.JPG" if images else "",
        "thumb_source": middle,
        "image_dir": image_dir,
        "presets": presets,
        "window": windows[0] if windows and all(w == windows[0] for w in windows) else "",
    }


def _documents(
    study_key: str,
    series: SeriesNode,
    outcomes: Sequence[Outcome],
    reports: list[dict[str, Any]],
    others: list[dict[str, str]],
    _: i18n.Gettext,
    language: str,
) -> None:
    for leaf, out in zip(series.leaves, outcomes, strict=True):
        date = local_date(out.date, language)
        if out.kind == "sr" and out.document is not None:
            number = len(reports) + 1
            title = out.document["title"]
            if out.sop_class.startswith("Key Object Selection"):
                title = _("Key images: %(title)s") % {"title": title}
            reports.append(
                {
                    "kind": "sr",
                    "title": title,
                    "date": date,
                    "href": f"IHE_PDI/{study_key}/SR{number:04d}.HTM",
                    "meta": [[_(k), _(v) if v in SR_WORDS else v] for k, v in out.document["meta"]],
                    "content": out.document["items"],
                    "what": out.sop_class,
                    "series": out.series_description,
                    "uid": leaf.sop_instance_uid,
                }
            )
        elif out.kind == "pdf":
            reports.append(
                {
                    "kind": "pdf",
                    "title": out.title or out.series_description or _("PDF document"),
                    "date": date,
                    "href": out.pdf,
                    "meta": [],
                    "content": [],
                    "what": out.sop_class,
                    "series": out.series_description,
                    "uid": leaf.sop_instance_uid,
                }
            )
        elif out.kind in ("other", "none"):
            others.append(
                {
                    "what": out.sop_class.removesuffix(" Storage") or leaf.record_type.title(),
                    "modality": series.modality or out.modality,
                    "description": out.series_description or out.title,
                    "number": series.number,
                    "problem": "yes" if out.kind == "none" or out.findings else "",
                }
            )


class _Work:
    """Hands out the jobs and outcomes of each series in turn (they are in tree order)."""

    def __init__(self, jobs: Sequence[Job], outcomes: Sequence[Outcome]) -> None:
        self.jobs, self.outcomes, self.cursor = jobs, outcomes, 0

    def take(self, n: int) -> tuple[Sequence[Job], Sequence[Outcome]]:
        at, self.cursor = self.cursor, self.cursor + n
        return self.jobs[at : at + n], self.outcomes[at : at + n]


def build_model(  # noqa: PLR0913 - the parts of the disc, keyword-only, named at the call
    tree: list[PatientNode],
    jobs: Sequence[Job],
    outcomes: Sequence[Outcome],
    site: Site,
    *,
    logo: str,
    disc: tuple[int, int],
    app: dict[str, str] | None,
    volumes: Sequence[Mapping[str, Any]] = (),
    notes: Sequence[str] = (),
) -> Model:
    """The whole disc as plain data (the pages, README, viewer and label all read it).

    ``volumes`` describes every disc of a set split over several (``k``, ``id``, ``summary``,
    ``lines``, ``notes``: plain ASCII text), so each disc says what the others hold.
    """
    work = _Work(jobs, outcomes)
    patients = [_patient_model(patient, p, work, site) for p, patient in enumerate(tree, 1)]
    return {
        "language": site.language,
        "site": site_model(site, logo),
        "generator": f"mediatool {mediatool.__version__}",
        "version": mediatool.__version__,
        "creator": product.creator(i18n.gettext_for(site.language)),
        "viewer": product.browser_viewer(i18n.gettext_for(site.language)),
        "disc": {"k": str(disc[0]), "n": str(disc[1])},
        "volumes": [dict(v) for v in volumes],
        "notes": [to_ascii(n) for n in notes],
        "content_type": CONTENT_TYPE,
        "patients": patients,
        "has_reports": any(
            r["kind"] == "pdf" for p in patients for s in p["studies"] for r in s["reports"]
        ),
        "app": app,
    }


def _patient_model(patient: PatientNode, p: int, work: _Work, site: Site) -> dict[str, Any]:
    _ = i18n.gettext_for(site.language)
    no_name = _("(no name)")
    studies = [
        _study_model(study, f"P{p:04d}/S{s:04d}", work, site)
        for s, study in enumerate(patient.studies, 1)
    ]
    return {
        "key": f"P{p:04d}",
        "href": f"IHE_PDI/P{p:04d}/INDEX.HTM",
        "name": format_name(patient.name) or no_name,
        "ascii_name": to_ascii(alphabetic_name(patient.name)) or to_ascii(no_name),
        "label_name": alphabetic_name(patient.name) or no_name,
        "id": patient.patient_id,
        "ascii_id": to_ascii(patient.patient_id),
        "birth_date": local_date(patient.birth_date, site.language),
        "long_birth_date": long_date(patient.birth_date, site.language),
        "sex": _(format_sex(patient.sex)) if patient.sex.strip() else "",
        "studies": studies,
    }


def _study_model(study: StudyNode, study_key: str, work: _Work, site: Site) -> dict[str, Any]:
    _ = i18n.gettext_for(site.language)
    series_models: list[dict[str, Any]] = []
    reports: list[dict[str, Any]] = []
    others: list[dict[str, str]] = []
    links: dict[str, str] = {}
    for se, series in enumerate(study.series, 1):
        s_jobs, s_out = work.take(len(series.leaves))
        model = _series_model(series, f"{study_key}/SE{se:04d}", s_jobs, s_out, _)
        model["modality_label"] = modalities.label(model["modality"], site.language)
        for leaf, out in zip(series.leaves, s_out, strict=True):
            if out.images:
                links[leaf.sop_instance_uid] = out.images[0]
        if model["images"]:
            series_models.append(model)
        _documents(study_key, series, s_out, reports, others, _, site.language)
    present = list(dict.fromkeys(m["modality"] for m in series_models))
    return {
        "key": study_key.rpartition("/")[2],
        "href": f"IHE_PDI/{study_key}/INDEX.HTM",
        "date": local_date(study.date, site.language),
        "long_date": long_date(study.date, site.language),
        "time": format_time(study.time),
        "description": study.description,
        "ascii_description": to_ascii(study.description),
        "accession": study.accession,
        "study_id": study.study_id,
        "series": series_models,
        "reports": reports,
        "others": others,
        "links": links,
        "modalities": " ".join(m for m in present if m),
        "ascii_modalities": to_ascii(modalities.labels(present, site.language)),
        "modality_labels": [modalities.label(m, site.language) for m in present if m],
        "image_count": str(sum(len(m["images"]) for m in series_models)),
    }


def _page(
    template: str, model: Model, base: str, crumbs: list[tuple[str, str]], **extra: Any
) -> bytes:
    text = (
        environment(model["language"])
        .get_template(template)
        .render(
            site=model["site"],
            disc=model["disc"],
            generator=model["generator"],
            base=base,
            crumbs=crumbs,
            model=model,
            **extra,
        )
    )
    return lower_links(text).encode("utf-8")


def render_readme(model: Model) -> bytes:
    """README.TXT: plain ASCII (pdi.md 2.4; validation-checklist H12) with CR LF line ends; a
    translation's accented letters are transliterated (``to_ascii``) like the names in it."""
    template = environment(model["language"]).get_template("README.TXT")
    text = template.render(model=model, site=model["site"])
    if model["language"] != DEFAULT_LANGUAGE:
        text = "\n".join(to_ascii(line) for line in text.replace("\r\n", "\n").split("\n"))
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode("ascii", "replace")


def render_pages(model: Model) -> list[tuple[str, bytes]]:
    """Every page of the web content and README.TXT: ``(relative path, bytes)``."""
    files: list[tuple[str, bytes]] = [
        ("INDEX.HTM", _page("index.htm", model, "", [])),
        ("README.TXT", render_readme(model)),
    ]
    _ = i18n.gettext_for(model["language"])
    for patient in model["patients"]:
        crumbs = [(_("Home"), "INDEX.HTM"), (patient["name"], patient["href"])]
        files.append(
            (patient["href"], _page("patient.htm", model, "../../", crumbs, patient=patient))
        )
        for study in patient["studies"]:
            title = " ".join(p for p in (study["date"], study["description"]) if p) or _("Study")
            s_crumbs = [*crumbs, (title, study["href"])]
            base = "../../../"
            files.append(
                (
                    study["href"],
                    _page("study.htm", model, base, s_crumbs, patient=patient, study=study),
                )
            )
            for series in study["series"]:
                label = (_("Series %(number)s") % {"number": series["number"]}).strip()
                files.append(
                    (
                        series["href"],
                        _page(
                            "series.htm",
                            model,
                            base,
                            [*s_crumbs, (label, series["href"])],
                            patient=patient,
                            study=study,
                            series=series,
                        ),
                    )
                )
            for report in study["reports"]:
                if report["kind"] != "sr":
                    continue
                files.append(
                    (
                        report["href"],
                        _page(
                            "report.htm",
                            model,
                            base,
                            [*s_crumbs, (report["title"], report["href"])],
                            patient=patient,
                            study=study,
                            report=report,
                        ),
                    )
                )
    return files
