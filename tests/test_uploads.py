"""Where uploads are kept (``ingest.uploads``): on the real file system, with real threads racing for one name."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from ingest.uploads import MAX_NAME_BYTES, discard, keep, keep_all, stored_name


def test_two_uploads_of_one_name_at_once_each_keep_their_own_bytes(tmp_path: Path) -> None:
    """Both threads see the name free at the same moment; the one that loses the race takes the next name (before,
    it overwrote the winner's file, so one upload's bytes were lost and both results named one file)."""
    for trial in range(100):
        folder = tmp_path / str(trial)
        folder.mkdir()
        barrier, kept = threading.Barrier(2), dict[str, Path]()

        def go(tag: str, folder: Path = folder, barrier: threading.Barrier = barrier,
               kept: dict[str, Path] = kept) -> None:  # fmt: skip
            barrier.wait()
            kept[tag] = keep(folder, "report.txt", tag.encode() * 200_000)

        threads = [threading.Thread(target=go, args=(t,)) for t in "ab"]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert kept["a"] != kept["b"], trial
        assert {p.name for p in kept.values()} == {"report.txt", "report（2）.txt"}
        assert all(p.read_bytes() == tag.encode() * 200_000 for tag, p in kept.items())
        assert sorted(p.name for p in folder.iterdir()) == ["report.txt", "report（2）.txt"]  # no temporary left


def test_the_same_bytes_again_are_the_same_file(tmp_path: Path) -> None:
    first = keep(tmp_path, "a.txt", b"one")
    assert keep(tmp_path, "a.txt", b"one") == first
    assert keep(tmp_path, "a.txt", b"two").name == "a（2）.txt"
    assert keep(tmp_path, "a.txt", b"two").name == "a（2）.txt"


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\报告.docx", "报告.docx"),
        ("a\x00b\x1f\x7f.txt", "ab.txt"),
        ("..", "upload"),
        ("", "upload"),
        ("\n", "upload"),
    ],
)
def test_a_name_is_its_last_part_without_control_characters(tmp_path: Path, sent: str, kept: str) -> None:
    assert stored_name(sent) == kept
    assert keep(tmp_path, sent, b"x").name == kept


def test_a_long_name_is_shortened_with_its_suffix_kept(tmp_path: Path) -> None:
    """A name over the file system's 255 bytes (an OSError for the whole batch, before) is shortened so that even
    its numbered variant fits; a multi-byte character is never cut in two."""
    for sent in ("a" * 300 + ".txt", "金融科技" * 40 + ".pdf"):
        first = keep(tmp_path, sent, b"1")
        second = keep(tmp_path, sent, b"2")
        assert first.suffix == second.suffix == Path(sent).suffix and first != second
        assert all(len(p.name.encode()) <= MAX_NAME_BYTES for p in (first, second))
        assert sent.startswith(first.stem) and first.read_bytes() == b"1" and second.read_bytes() == b"2"


def test_discard_removes_only_unused_files_under_the_uploads_folder(tmp_path: Path) -> None:
    root = tmp_path / "uploads"
    (root / "kb").mkdir(parents=True)
    used, unused, outside = root / "kb" / "used.txt", root / "kb" / "failed.txt", tmp_path / "corpus.txt"
    for p in (used, unused, outside):
        p.write_text("x", "utf-8")
    removed = discard(root, [used, unused, outside, root / "kb" / "gone.txt"], {str(used.resolve())})
    assert removed == [unused.resolve()]
    assert used.exists() and outside.exists() and not unused.exists()


def test_a_file_system_without_hard_links_still_keeps_uploads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A FAT drive or some network shares refuse hard links (EPERM); that refusal is faked here, as no file system
    of this machine's shows it: the name is then reserved exclusively and the bytes moved onto it."""
    import errno
    import os

    def no_links(src: object, dst: object) -> None:
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    first = keep(tmp_path, "report.txt", b"one")
    second = keep(tmp_path, "report.txt", b"two")
    assert (first.name, first.read_bytes()) == ("report.txt", b"one")
    assert (second.name, second.read_bytes()) == ("report（2）.txt", b"two")
    assert keep(tmp_path, "report.txt", b"one") == first and sorted(p.name for p in tmp_path.iterdir()) == [
        "report.txt", "report（2）.txt"]  # fmt: skip


def test_a_file_that_cannot_be_kept_is_its_own_failure(tmp_path: Path) -> None:
    into = tmp_path / "gone"  # not a folder any more: nothing can be written in it
    into.write_text("x")
    paths, unkept = keep_all(into, [("a.txt", b"1"), ("b.txt", b"2")])
    assert paths == [] and [(r.source, r.status.value) for r in unkept] == [("a.txt", "failed"), ("b.txt", "failed")]
    assert "PILOTQA_HOME" in unkept[0].message
