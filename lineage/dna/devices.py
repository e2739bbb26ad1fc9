"""Which device and dtype a run uses (torch is imported only to ask about CUDA).

Kept apart from the model adapters so that resolving a configuration never loads
the Hugging Face runtime.
"""

from __future__ import annotations

__all__ = ["resolve_device", "resolve_dtype"]


def resolve_device(device: str = "auto") -> str:
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def resolve_dtype(dtype: str, device: str) -> str:
    """``auto``: bfloat16 on CUDA devices that support it, float16 on older GPUs, float32 on CPU."""
    if dtype != "auto":
        if dtype not in ("float32", "bfloat16", "float16"):
            from lineage.errors import ConfigError

            raise ConfigError(f"unknown dtype {dtype!r}; use auto, float32, bfloat16 or float16")
        return dtype
    if device.startswith("cuda"):
        import torch

        return "bfloat16" if torch.cuda.is_bf16_supported() else "float16"
    return "float32"
