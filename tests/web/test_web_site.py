"""The site file: branding as data, validated with clear messages."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from mediatool.web import DEFAULT_SITE, SiteError, load_site


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "site.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_full_site_file(site_file: Path) -> None:
    site = load_site(site_file)
    assert site.name == "St. Example Hospital"
    assert site.address == ("1 Example Street", "12345 Example City")
    assert site.logo is not None and site.logo.startswith(b"\x89PNG")
    assert "Phone: +1 555 0100" in site.contact_lines()


def test_default_site_says_nothing_is_configured() -> None:
    assert not DEFAULT_SITE.configured
    assert DEFAULT_SITE.display_name == "No institution configured"


def test_every_field_is_optional(tmp_path: Path) -> None:
    assert load_site(write(tmp_path, 'name = "X"\n')).name == "X"


def test_unknown_key_suggests_the_close_one(tmp_path: Path) -> None:
    with pytest.raises(SiteError, match=r"unknown key `adress`; did you mean `address`\?"):
        load_site(write(tmp_path, 'adress = ["x"]\n'))


def test_wrong_types(tmp_path: Path) -> None:
    with pytest.raises(SiteError, match=r"`name` must be a string"):
        load_site(write(tmp_path, "name = 3\n"))
    with pytest.raises(SiteError, match=r"`address` must be a list of strings"):
        load_site(write(tmp_path, "address = [1, 2]\n"))


def test_not_toml(tmp_path: Path) -> None:
    with pytest.raises(SiteError, match=r"is not valid TOML"):
        load_site(write(tmp_path, "name = \n"))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SiteError, match=r"cannot read site file"):
        load_site(tmp_path / "nope.toml")


def test_logo_must_be_png_or_jpeg(tmp_path: Path) -> None:
    (tmp_path / "logo.txt").write_text("not an image")
    with pytest.raises(SiteError, match=r"is not a readable image"):
        load_site(write(tmp_path, 'logo = "logo.txt"\n'))
    Image.new("RGB", (4, 4)).save(tmp_path / "logo.gif")
    with pytest.raises(SiteError, match=r"is GIF; use PNG or JPEG"):
        load_site(write(tmp_path, 'logo = "logo.gif"\n'))
    with pytest.raises(SiteError, match=r"cannot read the logo"):
        load_site(write(tmp_path, 'logo = "missing.png"\n'))


def test_language_key(tmp_path: Path) -> None:
    """`language` picks the modality names on the disc (issue 18); English by default."""
    path = tmp_path / "site.toml"
    path.write_text('language = "pt-BR"\n', encoding="utf-8")
    assert load_site(path).language == "pt-BR"
    assert DEFAULT_SITE.language == "en"
    for wrong, hint in (("pt_br", 'did you mean "pt-BR"'), ("fr", 'known languages: "en"')):
        path.write_text(f'language = "{wrong}"\n', encoding="utf-8")
        with pytest.raises(SiteError, match=rf"`language` '{wrong}' is not known; {hint}"):
            load_site(path)
    path.write_text("language = 1\n", encoding="utf-8")
    with pytest.raises(SiteError, match=r"`language` 1 is not known; known languages"):
        load_site(path)
