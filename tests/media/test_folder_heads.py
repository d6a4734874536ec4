"""FolderReader.heads (issue 17): the first bytes of every file, each folder opened once, with
the checks of FolderReader.open: what it yields is what open() reads; a file or folder changed
into a link after the listing yields None (never outside bytes)."""

from __future__ import annotations

from pathlib import Path

from mediatool.media import FolderReader


def _tree(root: Path) -> Path:
    disc = root / "disc"
    for folder, names in {"": ["A", "B.TXT"], "X": ["1", "2"], "X/Y": ["3"], "Z": ["4"]}.items():
        (disc / folder).mkdir(parents=True, exist_ok=True)
        for n, name in enumerate(names):
            (disc / folder / name).write_bytes(bytes([n + 65]) * (10 + 40 * n) + name.encode())
    return disc


def test_heads_are_what_open_reads(tmp_path: Path) -> None:
    with FolderReader(_tree(tmp_path)) as reader:
        entries = list(reader.entries())
        for size in (1, 16, 136, 4096):
            heads = list(reader.heads(entries, size))
            assert [e for e, _ in heads] == entries
            for entry, head in heads:
                with reader.open(entry) as fp:
                    assert head == fp.read(size), entry.path


def test_changed_after_listing_yields_none(tmp_path: Path) -> None:
    disc = _tree(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "1").write_bytes(b"OUTSIDE")
    (outside / "4").write_bytes(b"OUTSIDE")
    with FolderReader(disc) as reader:
        entries = list(reader.entries())
        (disc / "A").unlink()
        (disc / "A").symlink_to(outside / "1")  # a file now a link: not followed
        (disc / "Z" / "4").unlink()
        (disc / "Z").rmdir()
        (disc / "Z").symlink_to(outside)  # a folder now a link: not entered
        (disc / "X" / "2").unlink()  # gone
        heads = {e.path: h for e, h in reader.heads(entries, 136)}
    assert heads["A"] is None
    assert heads["Z/4"] is None
    assert heads["X/2"] is None
    assert heads["X/1"] == b"A" * 10 + b"1"
    assert heads["X/Y/3"] == b"A" * 10 + b"3"
    assert b"OUTSIDE" not in b"".join(h for h in heads.values() if h is not None)
