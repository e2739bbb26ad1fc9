"""Keyed seals on cache entries, so a cache stays an optimisation and never becomes an input.

Every cached artefact (probe answers, weight profiles, next-token profiles) decides a
lineage answer when it is read back. A plain checksum only catches damage: whoever can
write the file can recompute it. Entries are therefore sealed with HMAC-SHA256 under a
secret key that lives beside them, in ``<cache_dir>/cache.key``, readable by its owner only
(mode 0600), created on first use from :func:`secrets.token_bytes`.

Threat model
------------
The attacker can write, copy, rename and delete files under the cache folders (a shared
cache for Ray workers, a synced or copied cache, another account given write access to
``responses/`` or ``evidence/``) but cannot read ``cache.key``. Such an attacker cannot:

- forge an entry, or edit one (answers, sketches, top-k arrays, metadata): the seal covers
  every byte read back;
- move a genuine entry to another key (copying model A's profile over model B's): the seal
  covers the entry's path below the cache root, and the key in that path derives from the
  model's content and the settings;
- strip the seal, downgrade the format, or recompute an unkeyed checksum: an entry without a
  valid seal is a miss.

Every such entry is treated as absent: it is recomputed from the model and overwritten, with
a warning naming the file. What remains possible is deleting entries (which costs
recomputation, never a wrong answer) and replaying an older genuine entry of the same key
(the same model and settings, so the same content). Out of scope: an attacker who can read
the key (the cache owner's own account), or who can write the cache root itself as the same
user (who could replace the key). A key file that another account owns, that others can
read, or that is a link, is refused with one line, because its secrecy cannot be assumed.
Deleting ``cache.key`` is safe: a new key is made and every entry is recomputed once.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from pathlib import Path

from lineage.errors import CacheError

__all__ = ["Seal", "KEY_FILE", "SEAL_SCHEME"]

KEY_FILE = "cache.key"
#: Prefix of every seal; a seal of another scheme (an older or unkeyed one) never verifies.
SEAL_SCHEME = "hmac-sha256/1:"


class Seal:
    """Seals and checks entries of the cache rooted at ``root`` (``Settings.cache_dir``).

    The key is read from disk at every use (32 bytes): a key deleted or replaced while a
    long run goes on is noticed, and no copy outlives the process's need for it.
    """

    def __init__(self, root: str | Path):
        self.root = Path(root).expanduser()

    @property
    def key_path(self) -> Path:
        return self.root / KEY_FILE

    def _read_key(self) -> bytes | None:
        try:
            fd = os.open(self.key_path, os.O_RDONLY | os.O_NOFOLLOW)
        except FileNotFoundError:
            return None
        except OSError as e:
            raise CacheError(f"cannot read the cache key {self.key_path}: {e.strerror}",
                             hint=f"delete {self.key_path} if it is not a plain file (every cache entry is then "
                                  "recomputed once)") from None
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise CacheError(f"the cache key {self.key_path} is not a regular file",
                                 hint=f"delete {self.key_path} (every cache entry is then recomputed once)")
            if st.st_uid != os.getuid():
                raise CacheError(f"the cache key {self.key_path} belongs to another account (uid {st.st_uid}); "
                                 "whoever made it can forge cache entries",
                                 hint=f"delete {self.key_path} (every cache entry is then recomputed once)")
            if st.st_mode & 0o077:
                raise CacheError(f"the cache key {self.key_path} can be read by others "
                                 f"(mode {stat.S_IMODE(st.st_mode):04o}); whoever reads it can forge cache entries",
                                 hint=f"delete {self.key_path} (every cache entry is then recomputed once), "
                                      "or `chmod 600` it if nobody else has read it")
            raw = os.read(fd, 129)
        finally:
            os.close(fd)
        try:
            key = bytes.fromhex(raw.decode("ascii").strip())
        except (UnicodeDecodeError, ValueError):
            key = b""
        if len(key) != 32:
            raise CacheError(f"the cache key {self.key_path} is damaged (64 hex digits expected)",
                             hint=f"delete {self.key_path} (every cache entry is then recomputed once)")
        return key

    def _create_key(self) -> None:
        """Write a new key under a temporary name, then hard-link it into place: a concurrent
        reader (another Ray worker) sees no key or a whole one, and of two writers one wins."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            tmp = self.root / f".{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            try:
                try:
                    os.write(fd, (secrets.token_bytes(32).hex() + "\n").encode())
                    os.fsync(fd)
                finally:
                    os.close(fd)
                try:
                    os.link(tmp, self.key_path)
                except FileExistsError:
                    pass  # another process made it first: use theirs
            finally:  # never leave a half-written key behind (a full disk fails the write)
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
        except OSError as e:
            raise CacheError(f"cannot create the cache key in {self.root}: {e.strerror}") from None

    def key(self) -> bytes:
        """The cache's secret key, created on first use."""
        key = self._read_key()
        if key is None:
            self._create_key()
            key = self._read_key()
        return key  # type: ignore[return-value]

    def _label(self, path: Path) -> bytes:
        try:
            rel = Path(path).relative_to(self.root).as_posix()
        except ValueError:
            rel = Path(path).as_posix()
        return rel.encode("utf-8", "surrogateescape")

    def sign(self, path: Path, *parts: bytes) -> str:
        """The seal of an entry stored at ``path`` whose content is ``parts`` (in order).

        Each part is length-prefixed, so ``(b"ab", b"c")`` and ``(b"a", b"bc")`` seal differently.
        """
        mac = hmac.new(self.key(), digestmod=hashlib.sha256)
        for part in (self._label(path), *parts):
            mac.update(len(part).to_bytes(8, "big"))
            mac.update(part)
        return SEAL_SCHEME + mac.hexdigest()

    def verify(self, path: Path, seal: object, *parts: bytes) -> bool:
        """True when ``seal`` is this cache's seal of ``parts`` stored at ``path`` (constant time)."""
        if not isinstance(seal, str) or not seal.startswith(SEAL_SCHEME):
            return False
        return hmac.compare_digest(seal, self.sign(path, *parts))
