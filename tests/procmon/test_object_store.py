"""The filesystem object store: content-addressed, atomic, never outside its root."""

from __future__ import annotations

import hashlib
import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from procmon.errors import ObjectStoreError
from procmon.object_store import FilesystemStore, ObjectStore, open_store, store_root


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


@pytest.fixture
def umask_022() -> Iterator[None]:
    """A known umask for the test, the usual one, restored afterwards."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_put_then_get_by_content_address(tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path)
    reference = store.put(b"hello")
    digest = hashlib.sha256(b"hello").hexdigest()
    assert reference == f"sha256:{digest}"
    assert store.get(reference) == b"hello"
    assert _files(tmp_path) == [tmp_path / digest[:2] / digest]


def test_the_same_bytes_are_stored_once(tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path)
    first = store.put(b"listing")
    written = _files(tmp_path)[0].stat().st_mtime_ns
    assert store.put(b"listing") == first
    assert [p.stat().st_mtime_ns for p in _files(tmp_path)] == [written]


def test_concurrent_puts_of_one_listing_leave_one_whole_object(tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path)
    data = os.urandom(2_000_000)
    references: list[str] = []
    threads = [threading.Thread(target=lambda: references.append(store.put(data))) for _ in "1234"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(references)) == 1
    assert len(_files(tmp_path)) == 1, "no temporary file is left behind"
    assert store.get(references[0]) == data


def test_an_object_cut_short_is_written_again(tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path)
    reference = store.put(b"the whole listing")
    (path,) = _files(tmp_path)
    path.write_bytes(b"the whole")
    assert store.put(b"the whole listing") == reference
    assert store.get(reference) == b"the whole listing"


def test_objects_are_readable_by_a_worker_running_as_another_user(
    tmp_path: Path, umask_022: None
) -> None:
    FilesystemStore(tmp_path).put(b"listing")
    (path,) = _files(tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_a_failed_put_is_a_clear_error_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    digest = hashlib.sha256(b"x").hexdigest()
    # A directory where the object should be: the data is written, the final rename fails.
    blocker = tmp_path / digest[:2] / digest / "occupied"
    blocker.parent.mkdir(parents=True)
    blocker.write_bytes(b"")
    with pytest.raises(ObjectStoreError, match=f"cannot store an object under {tmp_path}"):
        FilesystemStore(tmp_path).put(b"x")
    assert _files(tmp_path) == [blocker]


def test_a_store_that_cannot_be_created_is_a_clear_error(tmp_path: Path) -> None:
    root = tmp_path / "not-a-directory"
    root.write_bytes(b"")
    with pytest.raises(ObjectStoreError, match=f"cannot store an object under {root}"):
        FilesystemStore(root).put(b"x")


@pytest.mark.parametrize(
    "reference",
    [
        "sha256:../../etc/passwd",
        "sha256:../" + "0" * 61,
        "/etc/passwd",
        "sha256:" + "g" * 64,
        "sha256:" + "0" * 64 + "/../x",
        "SHA256:" + "0" * 64,
        "",
    ],
)
def test_a_reference_never_leaves_the_root(tmp_path: Path, reference: str) -> None:
    with pytest.raises(ObjectStoreError, match="not an object reference"):
        FilesystemStore(tmp_path / "store").get(reference)


def test_a_missing_object_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ObjectStoreError, match=f"no object sha256:{'0' * 64} in {tmp_path}"):
        FilesystemStore(tmp_path).get("sha256:" + "0" * 64)


def test_an_unreadable_object_is_a_clear_error(tmp_path: Path) -> None:
    reference = "sha256:" + "1" * 64
    # A directory where the object should be: it exists, and cannot be read as one.
    (tmp_path / "11" / ("1" * 64)).mkdir(parents=True)
    with pytest.raises(ObjectStoreError, match=f"cannot read object {reference}"):
        FilesystemStore(tmp_path).get(reference)


@pytest.mark.parametrize(
    "url",
    [
        "s3://bucket/x",
        "file://host/x",
        "relative/path",
        "file:relative/path",
        "file:///tmp/x?versioned=1",
    ],
)
def test_only_local_file_urls_open(url: str) -> None:
    with pytest.raises(ObjectStoreError, match="must be file:///absolute/path"):
        open_store(url)


def test_a_file_url_names_its_directory_with_escapes_undone(tmp_path: Path) -> None:
    assert store_root("file:///srv/procmon%20objects") == Path("/srv/procmon objects")
    assert store_root("file://localhost/srv/objects") == Path("/srv/objects")
    store = open_store(f"file://{tmp_path}")
    assert isinstance(store, FilesystemStore)
    assert store.root == tmp_path


def test_no_url_no_store() -> None:
    assert open_store(None) is None
    assert open_store("") is None


def test_the_filesystem_store_is_an_object_store(tmp_path: Path) -> None:
    # Checked by mypy: the assignment fails type-checking if the class drifts from the interface.
    store: ObjectStore = FilesystemStore(tmp_path)
    assert store.get(store.put(b"")) == b""
