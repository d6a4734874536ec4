"""The site's ``language = "pt-BR"`` writes the whole disc in Brazilian Portuguese: the pages,
README.TXT (still plain ASCII: pdi.md 2.4, validation-checklist H12), the viewer and the label;
the disc's catalog is current and complete; English discs keep their English text."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from web_helpers import (
    assert_offline_and_clean,
    check_links_resolve,
    check_no_network,
    check_viewer_data,
    check_well_formed_xhtml,
    chromium_executable,
)
from webcdp import Page, chromium

from mediatool.resources import data_dir
from mediatool.web import Site, i18n, viewer
from mediatool.web.label import label_lines

ROOT = Path(__file__).resolve().parents[2]


def test_pages_are_in_portuguese(demo_web_pt: Path) -> None:
    index = (demo_web_pt / "INDEX.HTM").read_text(encoding="utf-8")
    assert '<html xmlns="http://www.w3.org/1999/xhtml" lang="pt-BR" xml:lang="pt-BR">' in index
    for phrase in (
        "<title>Imagens e laudos médicos - São Example Hospital</title>",
        ">Abrir o visualizador de imagens</a>",
        "Pacientes e exames",
        "dos pacientes listados abaixo, gravadas pela instituição São Example Hospital.",
        "Nasc. 14/02/1958",  # DD/MM/YYYY
        "Sexo Masculino",
        "<th>Data</th><th>Exame</th><th>Modalidade</th><th>Imagens</th><th>Laudos</th>",
        "CT (Tomografia computadorizada)",
        "Telefone: +1 555 0100",
        "Disco 1 de 1",
        "Sobre este disco",
    ):
        assert phrase in index, phrase
    for english in ("Open the image viewer", "Patients and studies", "Born", "Disc 1 of 1"):
        assert english not in index, english
    patient = (demo_web_pt / "IHE_PDI/P0001/INDEX.HTM").read_text(encoding="utf-8")
    assert "<h1>Exames</h1>" in patient and ">Início</a>" in patient
    study = (demo_web_pt / "IHE_PDI/P0001/S0001/INDEX.HTM").read_text(encoding="utf-8")
    assert "Séries de imagens" in study and "Abrir no visualizador de imagens" in study
    assert "50 imagens" in study or "imagens</div>" in study
    series = (demo_web_pt / "IHE_PDI/P0001/S0001/SE0001.HTM").read_text(encoding="utf-8")
    assert "Clique em uma imagem para vê-la em tamanho real." in series
    assert ">Imagem 1</figcaption>" in series
    report = (demo_web_pt / "IHE_PDI/P0002/S0001/SR0001.HTM").read_text(encoding="utf-8")
    assert "<th>Verificação</th><td>Verificado</td>" in report


def test_portuguese_pages_keep_the_content_checks(demo_web_pt: Path) -> None:
    check_well_formed_xhtml(demo_web_pt)
    check_links_resolve(demo_web_pt)
    check_viewer_data(demo_web_pt)
    check_no_network(demo_web_pt)
    data = (demo_web_pt / "VIEWER/DATA.JS").read_text(encoding="ascii")
    assert '"label":"Partes moles"' in data and '"captions":["Imagem 1"' in data


def test_readme_is_portuguese_in_plain_ascii(demo_web_pt: Path) -> None:
    data = (demo_web_pt / "README.TXT").read_bytes()
    text = data.decode("ascii")  # transliterated, like the names
    assert "\r\n" in text and "\n" not in text.replace("\r\n", "")
    for phrase in (
        "README.TXT - sobre este disco\r\n=============================\r\n",
        "Gravado por\r\n-----------\r\nSao Example Hospital",
        "Telefone: +1 555 0100",
        "mediatool 0.1.0 (IHE PDI Portable Media Creator)",
        "O que ha no disco",
        "Paciente: Muller, Jurgen  (ID 4711-0815, nasc. 14/02/1958)",
        "Como visualizar",
        "Organizacao do disco",
        "DICOMDIR       indice dos arquivos DICOM",
        "Aviso\r\n-----\r\n",
        "Requisitos:   um navegador de internet",
    ):
        assert phrase in text, phrase
    assert max(len(line) for line in text.split("\r\n") if "  [" not in line) <= 80


def test_portuguese_disc_validates(demo_web_pt: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "mediatool", "validate", str(demo_web_pt), "--json"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    report = json.loads(run.stdout)
    assert not [f for f in report["findings"] if f["severity"] == "error"]


def test_viewer_script_literals_exist_and_are_translated(demo_web_pt: Path) -> None:
    original = (data_dir("templates") / "viewer" / "VIEWER.JS").read_text(encoding="ascii")
    for message in viewer.SCRIPT_MESSAGES:
        assert json.dumps(message) in original, message  # a literal of VIEWER.JS as it is
    script = (demo_web_pt / "VIEWER/VIEWER.JS").read_text(encoding="ascii")
    assert '"Laudos ("' in script and '"S\\u00e9rie "' in script and '"Series "' not in script
    page = (demo_web_pt / "VIEWER/VIEWER.HTM").read_text(encoding="utf-8")
    assert ">Ajustar</button>" in page and "<title>Visualizador de imagens" in page


def test_viewer_in_chromium_speaks_portuguese(demo_web_pt: Path) -> None:
    with chromium(chromium_executable()) as browser:
        page = Page(browser)
        page.open((demo_web_pt / "VIEWER" / "VIEWER.HTM").as_uri() + "#P0002/S0001")
        page.wait_for("document.getElementById('image').complete")
        assert page.evaluate("document.getElementById('zoom-fit').textContent") == "Ajustar"
        assert page.evaluate("document.getElementById('reports-button').textContent") == (
            "Laudos (1)"
        )
        overlay = page.evaluate("document.getElementById('ov-tl').textContent")
        assert overlay.startswith("MR  Série ")
        thumbs = page.evaluate("document.getElementById('series').textContent")
        assert "imagens" in thumbs and "images" not in thumbs
        assert_offline_and_clean(page, demo_web_pt)


def test_label_in_portuguese(site: Site) -> None:
    pt = Site(name=site.name, phone=site.phone, language="pt-BR")
    patients = [("Müller^Jürgen", "4711", "19580214", [("20240312", "CT Tórax")])]
    top, bottom = label_lines(patients, pt, (1, 2), "20240315")
    texts = [t for t, *_ in top + bottom]
    assert "Tel. +1 555 0100" in texts
    assert "Nasc. 14 fev 1958  ·  ID 4711" in texts
    assert "12 mar 2024  CT Tórax" in texts
    assert "DICOM PLUS WEB  ·  Disco 1 de 2" in texts and "Gravado em 15 mar 2024" in texts
    en_top, en_bottom = label_lines(patients, site, (1, 2), "20240315")
    english = [t for t, *_ in en_top + en_bottom]
    assert "Born 14 Feb 1958  ·  ID 4711" in english and "Created 15 Mar 2024" in english


def test_disc_catalog_is_current_and_complete() -> None:
    check = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "i18n.py"), "--check"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert check.returncode == 0, check.stderr
    from babel.messages.pofile import read_po

    with (i18n.CATALOGS / "pt_BR.po").open("rb") as f:
        catalog = read_po(f, locale="pt_BR")
    assert len(catalog) > 100
    incomplete = [
        m.id
        for m in catalog
        if m.id and (m.fuzzy or not all(m.string if isinstance(m.string, tuple) else [m.string]))
    ]
    assert not incomplete, incomplete


@pytest.mark.parametrize("language", ["en", "pt-BR"])
def test_the_qa_report_environment_stays_english(language: str) -> None:
    from mediatool.resources import templates
    from mediatool.web.pages import environment

    environment(language).get_template("index.htm")
    assert "_" not in templates().globals  # the shared Environment has no gettext installed
