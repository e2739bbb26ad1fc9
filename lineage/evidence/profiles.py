"""A model's evidence beyond its DNA, built in one place for ``lineage ingest`` and ``lineage eval``.

Which channel applies to which manifest entry:

- ``weights``: an entry with a local ``path`` holding weights (a safetensors folder, a LoRA
  adapter folder, a GGUF file), whatever its DNA comes from;
- ``logits``: the same local paths, run on the shipped text; and endpoint entries (the DNA
  comes from the server), read through ``echo`` + ``logprobs``;
- anything else (hub ids, precomputed DNAs without a path): absent, silently.

What happens when a channel that applies cannot be built is the caller's policy, named at the
call: ``on_error="record"`` keeps the one-line reason in :attr:`ModelEvidence.errors` and goes
on (ingest: the model keeps its DNA and its node records ``weights_error`` / ``logits_error``);
``on_error="raise"`` raises one :class:`~lineage.errors.InputError` naming the model, the
channel and the fix (eval: a score over a population silently missing a channel would mislead).
With ``"record"``, a model whose weights cannot be read is not run on the text either, as
ingest has always done (the same files would be loaded again to fail again).

A server that does not return log-probabilities is neither: the model is fine, the channel
does not exist for it. Under both policies it is absent with its reason in
:attr:`ModelEvidence.notes` (ingest records it as ``logits_error``; eval warns and scores the
model on its other channels). A missing API key, a bad URL or a server that is down are
errors like any other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Sequence

from lineage.core.channels.logits import LogitsProfile
from lineage.core.channels.weights import WeightProfile
from lineage.errors import InputError, LineageError

__all__ = ["ModelEvidence", "model_evidence", "CHANNELS"]

CHANNELS = ("weights", "logits")


@dataclass
class ModelEvidence:
    """One model's evidence profiles and, per channel, why one is missing.

    Attributes
    ----------
    model_id : str
    weights : WeightProfile or None
    logits : LogitsProfile or None
    errors : dict of str to str
        Channel -> one-line reason it failed (only with ``on_error="record"``).
    notes : dict of str to str
        Channel -> one-line reason it is absent although it could apply (an endpoint without
        logprobs); not a failure.
    """

    model_id: str
    weights: WeightProfile | None = None
    logits: LogitsProfile | None = None
    errors: dict[str, str] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)


def _local_path(entry) -> Path | None:
    from lineage.evidence.weights import weights_available

    path = getattr(entry, "path", None)
    return Path(path) if path is not None and weights_available(path) else None


def _logits(entry, path: Path | None, cache_dir) -> LogitsProfile | None:
    from lineage.evidence.logits import endpoint_logits_profile, logits_profile

    if path is not None:
        return logits_profile(path, cache_dir=cache_dir, model_id=entry.id)
    if entry.source_kind == "endpoint":
        from lineage.loaders.endpoint import EndpointSource

        src = EndpointSource(entry.id, endpoint=entry.endpoint, endpoint_model=entry.endpoint_model,
                             api_key_env=entry.api_key_env)
        return endpoint_logits_profile(src, cache_dir=cache_dir)
    return None


def model_evidence(entry, *, cache_dir: str | Path | None, channels: Sequence[str] = CHANNELS,
                   on_error: Literal["raise", "record"] = "raise") -> ModelEvidence:
    """The weight and next-token profiles of one manifest entry (each from its cache when there).

    Parameters
    ----------
    entry : lineage.manifest.ManifestEntry
    cache_dir : path or None
        Where profiles are cached (``<cache_dir>/evidence/``); None: built every time.
    channels : sequence of {"weights", "logits"}
        The channels wanted; others (``"dna"``) are ignored.
    on_error : {"raise", "record"}
        What a channel that applies but fails does (see the module docstring).

    Raises
    ------
    InputError
        With ``on_error="raise"``, for the first channel that fails.
    """
    if on_error not in ("raise", "record"):
        raise ValueError(f"on_error must be 'raise' or 'record', not {on_error!r}")
    from lineage.evidence.weights import weight_profile
    from lineage.loaders.endpoint import LogprobsUnavailable

    ev = ModelEvidence(entry.id)
    path = _local_path(entry)

    def build(channel, make):
        try:
            return make()
        except LogprobsUnavailable as e:
            ev.notes[channel] = e.message
        except LineageError as e:
            if on_error == "raise":
                said = e.message if e.message.startswith(f"model {entry.id!r}") else f"model {entry.id!r}: {e.message}"
                hint = f"{e.hint}; or evaluate without the {channel} channel" if e.hint else \
                    f"fix or drop this model, or evaluate without the {channel} channel"
                raise InputError(f"{said} ({channel} channel)", hint=hint) from e
            ev.errors[channel] = e.message
        return None

    if "weights" in channels and path is not None:
        ev.weights = build("weights", lambda: weight_profile(path, cache_dir=cache_dir, model_id=entry.id))
    if "logits" in channels and "weights" not in ev.errors:
        ev.logits = build("logits", lambda: _logits(entry, path, cache_dir))
    return ev
