"""File hashes: the cache fingerprint and the plain SHA-256 a bill of materials carries (pure I/O, milliseconds)."""

from __future__ import annotations

import hashlib
import os

from lineage.loaders.base import file_fingerprint, file_sha256


def test_plain_sha256_whether_or_not_the_file_was_fingerprinted_first(tmp_path):
    a, b = tmp_path / "a.safetensors", tmp_path / "b.safetensors"
    a.write_bytes(os.urandom(3 << 20) + b"tail")
    b.write_bytes(a.read_bytes())
    want = hashlib.sha256(a.read_bytes()).hexdigest()
    file_fingerprint(a)  # one read fills both memos
    assert file_sha256(a) == want == file_sha256(b)  # b: never fingerprinted, read on its own
    assert file_fingerprint(a) != want  # the fingerprint also covers the size: it is not the file's hash
    b.write_bytes(b.read_bytes()[:-1] + b"X")  # an edit is a new hash (memo keyed by size and mtime)
    os.utime(b, ns=(1, 1))
    assert file_sha256(b) == hashlib.sha256(b.read_bytes()).hexdigest() != want
