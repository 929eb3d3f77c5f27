"""Attachment files: content-addressed, durable before the commit, safe to store from several threads at once."""

from __future__ import annotations

import hashlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from gateway.store.blobs import BlobStore

THREADS = 8


def test_the_same_content_stored_by_many_threads_at_once_is_one_whole_file(tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path)
    for round_number in range(5):
        content = bytes([round_number]) * 2_000_000
        start = threading.Barrier(THREADS)

        def put(content: bytes, start: threading.Barrier) -> str:
            start.wait()
            return blobs.put(content)

        with ThreadPoolExecutor(THREADS) as pool:
            digests = set(pool.map(put, [content] * THREADS, [start] * THREADS))
        assert digests == {hashlib.sha256(content).hexdigest()}
        assert blobs.get(digests.pop()) == content
    assert not list(blobs.root.rglob("*.part"))


def test_a_stored_file_and_its_folder_entry_are_synced_to_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[str] = []
    real_fsync = os.fsync

    def recording_fsync(descriptor: int) -> None:
        synced.append(Path(f"/proc/self/fd/{descriptor}").resolve().name)
        real_fsync(descriptor)

    monkeypatch.setattr("gateway.store.blobs.os.fsync", recording_fsync)
    digest = BlobStore(tmp_path).put(b"show tech\n")
    assert synced[0].startswith(digest[2:]) and synced[0].endswith(".part")  # the file, before its rename
    assert synced[1] == digest[:2]  # then the folder that holds the new name
