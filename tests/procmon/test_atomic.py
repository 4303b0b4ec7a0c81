"""Atomic writes: the whole file under its name, or nothing and no temporary file left."""

from __future__ import annotations

from pathlib import Path

import pytest

from procmon.atomic import write_atomically


def test_the_data_is_under_the_name_and_the_temporary_file_gone(tmp_path: Path) -> None:
    write_atomically(tmp_path / "file", b"data", tmp_path / "file.tmp")
    assert (tmp_path / "file").read_bytes() == b"data"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_a_failed_rename_leaves_no_temporary_file(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "inside").write_bytes(b"")
    with pytest.raises(OSError, match="taken"):
        write_atomically(tmp_path / "taken", b"data", tmp_path / "taken.tmp")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]


def test_a_temporary_name_in_use_is_refused_and_left_alone(tmp_path: Path) -> None:
    (tmp_path / "file.tmp").write_bytes(b"another writer's")
    with pytest.raises(FileExistsError):
        write_atomically(tmp_path / "file", b"data", tmp_path / "file.tmp")
    assert (tmp_path / "file.tmp").read_bytes() == b"another writer's"
    assert not (tmp_path / "file").exists()
