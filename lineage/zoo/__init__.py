"""The model zoo: runnable models with a known genealogy (demo population and yardstick).

``build_zoo(profile, seed, out)`` writes Hugging Face folders, a manifest, a ground
truth and build facts; see :mod:`lineage.zoo.build`. Importing this package does not
import torch; the builders do, when called.
"""

from __future__ import annotations

from typing import Any

__all__ = ["build_zoo", "ZooResult", "ZooModel", "PROFILES", "default_zoo_dir"]


def __getattr__(name: str) -> Any:
    if name in ("build_zoo", "ZooResult", "ZooModel", "default_zoo_dir"):
        from lineage.zoo import build

        return getattr(build, name)
    if name == "PROFILES":
        from lineage.zoo.profiles import PROFILES

        return PROFILES
    raise AttributeError(f"module 'lineage.zoo' has no attribute {name!r}")
