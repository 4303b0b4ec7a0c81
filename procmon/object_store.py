"""Object storage for raw outputs too large to travel through the broker.

A listing over the broker's limit even compressed is put in the store; its envelope then
carries ``raw_output_ref`` (the object's reference) instead of the text, and the worker reads
the object back, checking it against the envelope's ``content_hash``. Objects are named by
the SHA-256 of their bytes, so a listing sent twice is stored once.

:class:`ObjectStore` is the interface a production store (S3, GCS, ...) implements;
:class:`FilesystemStore` is the implementation here, for one machine or a shared mount.
References look like ``sha256:<hex>``: they name the object, not where a store keeps it, so
collectors and workers may mount the same store at different paths.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from pathlib import Path
from typing import Protocol
from urllib.parse import urlparse
from urllib.request import url2pathname

from procmon.atomic import write_atomically
from procmon.errors import ObjectStoreError

__all__ = ["FilesystemStore", "ObjectStore", "open_store", "store_root"]

_REFERENCE = re.compile(r"sha256:([0-9a-f]{64})")


class ObjectStore(Protocol):
    """Where large raw outputs are kept, by reference.

    A reference is ``sha256:<hex>`` of the object's bytes, whatever the store: the envelope
    accepts no other, and it lets the same object be found in any store that holds it.
    """

    def put(self, data: bytes) -> str:
        """Store ``data``; return its reference. ObjectStoreError when it cannot be stored."""
        ...

    def get(self, reference: str) -> bytes:
        """The bytes stored under ``reference``; ObjectStoreError when there are none."""
        ...


class FilesystemStore:
    """Objects as files under a root directory, named by their SHA-256.

    ``<root>/<first two hex digits>/<hex>``: the fan-out keeps directories small.
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, reference: str) -> Path:
        match = _REFERENCE.fullmatch(reference)
        if match is None:
            # Checked before any path is built: a reference never walks out of the root.
            raise ObjectStoreError(f"not an object reference: {reference[:100]!r}")
        digest = match[1]
        return self.root / digest[:2] / digest

    def put(self, data: bytes) -> str:
        """Store ``data`` atomically and durably; return its reference.

        A reader sees the whole object or none, and the object is on disk before the reference
        (which goes to the broker next) is returned.
        """
        reference = "sha256:" + hashlib.sha256(data).hexdigest()
        path = self._path(reference)
        try:
            # Already there: a file of the right size is the same object (named by its hash).
            # One of another size was cut short by a crash of some other writer: replaced.
            if path.stat().st_size == len(data):
                return reference
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise ObjectStoreError(f"cannot store an object under {self.root}: {exc}") from exc
        # Unique per writer, so that collectors putting the same listing never share a file.
        temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(path, data, temporary)
        except OSError as exc:
            raise ObjectStoreError(f"cannot store an object under {self.root}: {exc}") from exc
        return reference

    def get(self, reference: str) -> bytes:
        """The bytes stored under ``reference``."""
        path = self._path(reference)
        try:
            return path.read_bytes()
        except FileNotFoundError as exc:
            raise ObjectStoreError(f"no object {reference} in {self.root}") from exc
        except OSError as exc:
            raise ObjectStoreError(f"cannot read object {reference}: {exc}") from exc


def store_root(url: str) -> Path:
    """The directory a ``file:///absolute/path`` URL names; ObjectStoreError for any other URL."""
    parsed = urlparse(url)
    # url2pathname undoes %-escapes, and reads file:///C:/objects as C:\objects on Windows.
    root = Path(url2pathname(parsed.path))
    if (
        parsed.scheme != "file"
        or parsed.netloc not in ("", "localhost")
        or parsed.query
        or parsed.fragment
        or not root.is_absolute()
    ):
        raise ObjectStoreError(
            f"object store URL must be file:///absolute/path (the one store here), got {url!r}"
        )
    return root


def open_store(url: str | None) -> ObjectStore | None:
    """The store of ``PROCMON_OBJECT_STORE_URL`` (``file:///path``), or None when unset."""
    if not url:
        return None
    return FilesystemStore(store_root(url))
