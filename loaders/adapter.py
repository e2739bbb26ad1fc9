"""LoRA adapters kept separate from their base (PEFT folders), read without PEFT.

A PEFT LoRA folder holds ``adapter_config.json`` and ``adapter_model.safetensors``
(tensors ``base_model.model.<module>.lora_A.weight`` of shape ``(r, in)`` and
``...lora_B.weight`` of shape ``(out, r)``), and names its base in
``base_model_name_or_path``. Every channel sees such a model as what it runs as: the base
with ``W + s * B @ A`` in each adapted module, ``s = lora_alpha / r`` (``/ sqrt(r)`` with
rsLoRA). The merge is done here, in one place, for the DNA (the model that answers), the
weights channel (the matrices that are sketched) and the next-token channel alike.

Decisions:

* The base is a local folder: ``base_model_name_or_path`` as an absolute path, or relative
  to the adapter folder. A hub id is refused with a hint (nothing is downloaded behind the
  user's back, and a hub id does not pin the base's weights).
* Only plain LoRA is merged. DoRA, other PEFT methods, bias training and adapters that
  replace whole modules (``modules_to_save``) are refused: merging them as LoRA would give
  a silently wrong model.
* The base named in ``adapter_config.json`` is a *requirement to run*, not a lineage claim:
  lineage still infers the adapter's parent from the evidence (it can be a grandchild of
  the base it runs on only if someone mislabels it, and the weights then say so).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lineage.errors import ModelLoadError

__all__ = ["ADAPTER_CONFIG", "AdapterInfo", "is_adapter", "read_adapter", "lora_deltas", "merge_into"]

ADAPTER_CONFIG = "adapter_config.json"
ADAPTER_WEIGHTS = "adapter_model.safetensors"
_PREFIX = "base_model.model."


def is_adapter(folder: str | Path | None) -> bool:
    """True for a folder holding a PEFT adapter config (and no full model config)."""
    if folder is None:
        return False
    p = Path(folder)
    return p.is_dir() and (p / ADAPTER_CONFIG).is_file() and not (p / "config.json").is_file()


@dataclass(frozen=True)
class AdapterInfo:
    folder: Path
    base: Path
    scale: float
    rank: int
    fan_in_fan_out: bool

    @property
    def weights(self) -> Path:
        return self.folder / ADAPTER_WEIGHTS

    @property
    def tokenizer_folder(self) -> Path:
        """The adapter's own tokenizer when it ships one, else the base's."""
        return self.folder if any((self.folder / n).is_file() for n in ("tokenizer.json", "tokenizer_config.json")) \
            else self.base


def read_adapter(folder: str | Path, model_id: str | None = None) -> AdapterInfo:
    """Check a PEFT LoRA folder and find its base.

    Raises
    ------
    ModelLoadError
        One line naming the model and what to fix.
    """
    p = Path(folder)
    mid = model_id or p.name
    try:
        cfg = json.loads((p / ADAPTER_CONFIG).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ModelLoadError(f"model {mid!r}: {p / ADAPTER_CONFIG} is not readable JSON ({e.__class__.__name__})") from None
    if not isinstance(cfg, dict):
        raise ModelLoadError(f"model {mid!r}: {p / ADAPTER_CONFIG} is not a JSON object")
    kind = str(cfg.get("peft_type", "")).upper()
    if kind != "LORA":
        raise ModelLoadError(f"model {mid!r}: adapter type {cfg.get('peft_type')!r} is not supported (only LoRA)",
                             hint="merge the adapter into its base and point the entry at the merged folder")
    unsupported = [k for k in ("use_dora", "modules_to_save") if cfg.get(k)]
    if str(cfg.get("bias", "none")) != "none":
        unsupported.append("bias")
    if unsupported:
        raise ModelLoadError(f"model {mid!r}: LoRA with {', '.join(unsupported)} cannot be merged as plain LoRA",
                             hint="merge the adapter into its base and point the entry at the merged folder")
    if not (p / ADAPTER_WEIGHTS).is_file():
        raise ModelLoadError(f"model {mid!r}: {p} has no {ADAPTER_WEIGHTS}",
                             hint="adapters saved as .bin (pickle) are not read; save with safe_serialization")
    base_name = cfg.get("base_model_name_or_path")
    if not base_name:
        raise ModelLoadError(f"model {mid!r}: {p / ADAPTER_CONFIG} names no base_model_name_or_path")
    base = Path(str(base_name)).expanduser()
    base = base if base.is_absolute() else (p / base)
    if not (base.is_dir() and (base / "config.json").is_file()):
        raise ModelLoadError(f"model {mid!r}: the adapter's base {base_name!r} is not a model folder here",
                             hint="set base_model_name_or_path in adapter_config.json to the base's local folder "
                                  "(absolute, or relative to the adapter folder)")
    # JSON gives any type here ("abc", [8], Infinity, true): only a whole positive number is a rank, and
    # a finite number an alpha; anything else fails this model alone, naming the file (#21)
    rank, alpha = cfg.get("r"), cfg.get("lora_alpha")
    if isinstance(rank, float) and rank.is_integer():
        rank = int(rank)
    if isinstance(rank, bool) or not isinstance(rank, int) or rank <= 0:
        raise ModelLoadError(f"model {mid!r}: {p / ADAPTER_CONFIG} has no positive whole rank r "
                             f"(got {str(rank)[:40]!r})", hint="set r to the LoRA rank, e.g. 8")
    if alpha is None or (alpha == 0 and not isinstance(alpha, bool)):
        alpha = rank  # absent (or 0, read as absent before): peft's scale 1
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not math.isfinite(alpha) or alpha <= 0:
        raise ModelLoadError(f"model {mid!r}: {p / ADAPTER_CONFIG} has lora_alpha {str(alpha)[:40]!r}, "
                             "not a finite positive number", hint="set lora_alpha to a number, e.g. 16")
    alpha = float(alpha)
    scale = alpha / math.sqrt(rank) if cfg.get("use_rslora") else alpha / rank
    return AdapterInfo(folder=p, base=base.resolve(), scale=scale, rank=rank,
                       fan_in_fan_out=bool(cfg.get("fan_in_fan_out")))


def lora_deltas(info: AdapterInfo, model_id: str | None = None) -> dict[str, np.ndarray]:
    """``{base tensor name: s * B @ A}`` (float32, in the base tensor's layout)."""
    from safetensors import safe_open

    from lineage.loaders.base import check_safetensors

    mid = model_id or info.folder.name
    check_safetensors(info.weights, mid)
    with safe_open(str(info.weights), framework="pt") as f:
        names = list(f.keys())
        pairs: dict[str, dict[str, np.ndarray]] = {}
        for n in names:
            for part in ("lora_A", "lora_B"):
                marker = f".{part}."
                if marker in n and n.endswith(".weight"):
                    module = n.split(marker)[0]
                    module = module[len(_PREFIX):] if module.startswith(_PREFIX) else module
                    pairs.setdefault(module, {})[part] = f.get_tensor(n).float().numpy()
    out = {}
    for module, ab in pairs.items():
        if set(ab) != {"lora_A", "lora_B"}:
            raise ModelLoadError(f"model {mid!r}: adapter module {module!r} lacks lora_A or lora_B")
        delta = (ab["lora_B"].astype(np.float32) @ ab["lora_A"].astype(np.float32)) * np.float32(info.scale)
        out[f"{module}.weight"] = delta.T if info.fan_in_fan_out else delta
    if not out:
        raise ModelLoadError(f"model {mid!r}: {info.weights} holds no LoRA tensors")
    return out


def merge_into(model, info: AdapterInfo, model_id: str | None = None) -> None:
    """Add the adapter's deltas to a loaded torch model's weights, in place."""
    import torch

    mid = model_id or info.folder.name
    params = dict(model.named_parameters())
    with torch.no_grad():
        for name, delta in lora_deltas(info, mid).items():
            w = params.get(name)
            if w is None or tuple(w.shape) != delta.shape:
                raise ModelLoadError(f"model {mid!r}: adapter tensor for {name!r} does not fit its base "
                                     f"({'absent' if w is None else tuple(w.shape)} vs {delta.shape})",
                                     hint="the adapter was trained on another base")
            w += torch.from_numpy(delta).to(dtype=w.dtype, device=w.device)
