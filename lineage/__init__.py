"""lineage: trace where language models come from.

The public Python API is re-exported here lazily, so ``import lineage`` never
imports torch, transformers or the Neo4j driver.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    "Settings": "lineage.settings",
    "load_settings": "lineage.settings",
    "LineageError": "lineage.errors",
    "DNA": "lineage.dna",
    "Provenance": "lineage.dna",
    "GenerationConfig": "lineage.dna",
    "load_dna": "lineage.dnafile",
    "save_dna": "lineage.dnafile",
    "load_manifest": "lineage.manifest",
    "load_truth": "lineage.manifest",
    "analyse_population": "lineage.core.analysis",
    "build_tree": "lineage.core.tree",
    "evaluate_files": "lineage.evaluate",
    "write_tree": "lineage.treeplot",
    "ingest": "lineage.ingest",
    "Graph": "lineage.graph",
    "ExtractConfig": "lineage.extract",
    "Extractor": "lineage.extract",
    "extract_dna": "lineage.extract",
    "build_zoo": "lineage.zoo",
}


def __getattr__(name: str) -> Any:
    mod = _EXPORTS.get(name)
    if mod is None:
        raise AttributeError(f"module 'lineage' has no attribute {name!r}")
    return getattr(importlib.import_module(mod), name)


def __dir__() -> list[str]:
    return sorted(list(globals()) + list(_EXPORTS))


__all__ = list(_EXPORTS)
