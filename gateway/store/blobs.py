"""Content-addressed files for attachment bytes: <dir>/attachments/ab/cdef…, named by sha256.

Written (and fsynced, file and folder) before the database commit that references them; the same content is stored
once. A crash between the two leaves an unreferenced file, never a reference to a missing one. Threads and processes
may store the same content at once: each writes a partial file of its own, and the renames agree.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root / "attachments"

    def path_for(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError(f"not a sha256 hex digest: {sha256!r}")
        return self.root / sha256[:2] / sha256[2:]

    def put(self, content: bytes) -> str:
        sha256 = hashlib.sha256(content).hexdigest()
        target = self.path_for(sha256)
        if target.exists():
            return sha256
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f"{target.name}.{uuid.uuid4().hex}.part")
        with open(partial, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, target)
        _fsync_folder(target.parent)  # the rename itself must survive a power cut before the commit refers to it
        return sha256

    def get(self, sha256: str) -> bytes:
        return self.path_for(sha256).read_bytes()


def _fsync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
