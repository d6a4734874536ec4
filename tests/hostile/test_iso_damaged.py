"""Issue 12: every ISO reader error is said in words (what is wrong with the image, what to do),
never a library message alone (``KeyError: 16``, ``Invalid padding on ISO``); validate reports a
damaged image as a failing medium (media.iso-damaged). A small derandomized fuzz of the volume
descriptor, path tables and root directory looks for more leaks."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from hostile_media import built_iso, mediatool

from mediatool.errors import MediaError
from mediatool.media import open_media

SECTOR = 2048
PVD = 16 * SECTOR
CASES = 300
_WORDS = (
    "cannot read ISO image ",
    "cannot open media ",
)


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return built_iso(tmp_path_factory.mktemp("iso")).read_bytes()


def _regions(image: bytes) -> list[tuple[int, int]]:
    """The volume descriptor, both path tables and the root directory (ISO 9660 8.4, 9.4)."""
    size = int.from_bytes(image[PVD + 132 : PVD + 136], "little")
    le = int.from_bytes(image[PVD + 140 : PVD + 144], "little") * SECTOR
    be = int.from_bytes(image[PVD + 148 : PVD + 152], "big") * SECTOR
    root = int.from_bytes(image[PVD + 158 : PVD + 162], "little") * SECTOR
    return [(PVD, PVD + 190), (le, le + size), (be, be + size), (root, root + SECTOR)]


def _check(path: Path) -> str:
    """Open, list and read everything; the kind of outcome. Fails on any other exception."""
    try:
        with open_media(path) as reader:
            for entry in reader.entries():
                try:
                    with reader.open(entry) as fp:
                        assert len(fp.read()) == entry.size
                except OSError as exc:
                    assert str(exc).startswith("the file's extent"), exc
            return "read"
    except MediaError as exc:
        text = str(exc)
        assert text.startswith(_WORDS), text
        if text.startswith("cannot read ISO image"):
            assert ": the image is damaged: " in text and "(pycdlib: " in text, text
            assert exc.hint == "Ask the sender for a new disc, or copy the original disc again."
        return "refused"


def test_fuzzed_images_fail_in_words(image: bytes, tmp_path: Path) -> None:
    rng = random.Random(12)
    regions = _regions(image)
    outcomes: dict[str, int] = {}
    target = tmp_path / "fuzz.iso"
    for case in range(CASES):
        data = bytearray(image)
        if case % 10 == 0:
            data = data[: rng.randrange(PVD, len(data))]
        else:
            start, end = rng.choice(regions)
            for _ in range(rng.randint(1, 3)):
                at = rng.randrange(start, end)
                data[at] = rng.choice([0x00, 0x01, 0xFF, rng.randrange(256), data[at] ^ 0x10])
        target.write_bytes(bytes(data))
        kind = _check(target)
        outcomes[kind] = outcomes.get(kind, 0) + 1
    assert outcomes.get("refused", 0) > 50 and outcomes.get("read", 0) > 10, outcomes


@pytest.mark.parametrize(
    ("damage", "words"),
    [
        ("truncated", "the image has 40000 of the"),
        ("padding", "a volume descriptor has bytes where ISO 9660 requires zeros"),
        ("endian", "a number recorded in both byte orders has two different values"),
    ],
)
def test_validate_reports_a_damaged_image_as_a_failing_medium(
    damage: str, words: str, image: bytes, tmp_path: Path
) -> None:
    data = bytearray(image)
    if damage == "truncated":
        data = data[:40000]
    elif damage == "padding":
        data[PVD + 7] = 0x41  # ISO 9660 8.4.3: an unused byte that must be zero
    else:
        data[PVD + 84] ^= 0x01  # Volume Space Size: the big-endian half disagrees
    iso = tmp_path / "damaged.iso"
    iso.write_bytes(bytes(data))
    done = mediatool("validate", iso, "--json")
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    (found,) = report["findings"]
    assert found["code"] == "media.iso-damaged" and words in found["message"]
    assert not report["ok"]
    imported = mediatool("import", iso, "--list")
    assert imported.returncode == 2
    assert f"Error: cannot read ISO image {str(iso)!r}: the image is damaged: " in imported.stderr
    assert "Hint: Ask the sender for a new disc" in imported.stderr
    assert "Traceback" not in imported.stderr + done.stderr
    for args in (["--list"], ["--into", str(tmp_path / "archive")]):
        as_json = mediatool("import", iso, *args, "--json")
        assert as_json.returncode == 2
        document = json.loads(as_json.stdout)  # one document, also on exit 2
        assert document["ok"] is False and words in document["error"]
        assert document["hint"].startswith("Ask the sender")
