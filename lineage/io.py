"""Reading and writing files safely, for every layer: bounded UTF-8 reads that name the
file in their error, safe YAML (no aliases, no implicit timestamps, nesting limited), a
nesting check for parsed JSON, and atomic writes (temporary file + rename: a reader never
sees half a file)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import yaml

from lineage.errors import CacheError, InputError, LineageError, ManifestError

#: Largest manifest, ground truth or model card read (bytes): a million entries fit.
MAX_FILE_BYTES = 64 * 2**20
#: Deepest nesting of lists/mappings accepted in a manifest, ground truth or card.
MAX_DEPTH = 32

class _Loader(yaml.SafeLoader):
    """Safe YAML without implicit timestamps (dates stay text and pydantic parses them,
    so a bad date is a one-line error naming the entry instead of a crash inside PyYAML),
    without aliases (an alias bomb of a few hundred bytes expands to gigabytes) and with
    a nesting limit (deep nesting exhausts the recursion limit)."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            raise yaml.composer.ComposerError(None, None, "YAML aliases (*name) are not allowed", mark)
        self._depth = getattr(self, "_depth", 0) + 1
        try:
            if self._depth > MAX_DEPTH:
                raise yaml.composer.ComposerError(None, None, f"nested deeper than {MAX_DEPTH} levels",
                                                  self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}

def read_text_file(path: str | Path, what: str, *, max_bytes: int = MAX_FILE_BYTES,
                   error: type[InputError] = ManifestError) -> str:
    """The UTF-8 text of a user-supplied file, or one ``error`` naming the file: missing,
    a directory, unreadable, larger than ``max_bytes``, or not UTF-8."""
    path = Path(path)
    if path.is_dir():
        raise error(f"{what} {path} is a directory, not a file", hint=f"pass the path of the {what} file itself")
    if not path.is_file():
        raise error(f"{what} {path} does not exist")
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise error(f"{path}: {what} of {size:,} bytes is larger than the {max_bytes:,} bytes accepted")
        raw = path.read_bytes()
    except OSError as e:
        raise error(f"cannot read {what} {path}: {e.strerror}") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[:e.start].count(b"\n") + 1
        raise error(f"{path}:{line}: {what} is not UTF-8 text (byte {raw[e.start]:#04x} at offset {e.start})",
                    hint="save the file as UTF-8") from None


def check_depth(data: object, limit: int = MAX_DEPTH) -> None:
    """Raise ``ValueError`` when lists/mappings nest deeper than ``limit`` (iterative: no recursion)."""
    stack = [(data, 1)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, (list, dict)):
            if d > limit:
                raise ValueError(f"nested deeper than {limit} levels")
            stack.extend((x, d + 1) for x in (v.values() if isinstance(v, dict) else v))


def load_yaml_text(text: str):
    """Parse YAML with the manifest loader (no aliases, no timestamps, nesting limited)."""
    return yaml.load(text, Loader=_Loader)


def check_output_path(path: str | Path, error: type[LineageError] = CacheError) -> Path:
    """``path`` when it may be written: a new file, or an existing regular file (or a link to
    one). Refused with one ``error`` naming it: a directory, a device, a pipe or a socket, or a
    link to one of those. A rename over ``/dev/full`` once replaced the device node with a file
    and reported success; writing into a device would be worse."""
    path = Path(path)
    if not os.path.lexists(path):
        return path
    target = path.resolve() if path.is_symlink() else path
    via = f" (a link to {target})" if target != path else ""
    if target.is_dir():
        raise error(f"{path}{via} is a directory, not a file", hint="give the path of a file to write")
    if target.exists() and not target.is_file():
        raise error(f"{path}{via} is not a regular file (a device, pipe or socket); it is never replaced",
                    hint="give the path of a regular file to write")
    return path


def atomic_write_text(path: Path, text: str) -> None:
    """Write via a temporary file in the same folder, then rename: never a half-written file.
    Only new files and regular files are written (:func:`check_output_path`)."""
    path = check_output_path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as e:
        raise CacheError(f"cannot write in {path.parent}: {e.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise CacheError(f"cannot write {path}: {e.strerror}") from None
