"""lineage: trace where language models come from.

The public Python API is re-exported here lazily, so ``import lineage`` never
imports torch, transformers or the Neo4j driver.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

__version__ = "0.1.0"

# ``loaders/`` and ``cypher/`` sit at the repository's top level (the project's agreed layout)
# and are installed as ``lineage.loaders`` and ``lineage.cypher``. Run from a checkout without
# an install, the package path also covers the checkout root so those names resolve the same.
_checkout = Path(__file__).resolve().parent.parent
if (_checkout / "loaders" / "__init__.py").is_file() and (_checkout / "cypher" / "__init__.py").is_file():
    __path__.append(str(_checkout))  # noqa: F821 (the package's own __path__)

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    "Settings": "lineage.settings",
    "load_settings": "lineage.settings",
    "LineageError": "lineage.errors",
    "DNA": "lineage.dna.record",
    "Provenance": "lineage.dna.record",
    "GenerationConfig": "lineage.dna.record",
    "load_dna": "lineage.dna.files",
    "save_dna": "lineage.dna.files",
    "load_manifest": "lineage.manifest",
    "load_truth": "lineage.manifest",
    "analyse_population": "lineage.core.infer.analysis",
    "build_tree": "lineage.core.infer.tree",
    "evaluate_files": "lineage.pipeline.evaluate",
    "write_tree": "lineage.pipeline.treeplot",
    "ingest": "lineage.pipeline.ingest",
    "Graph": "lineage.graph.store",
    "ExtractConfig": "lineage.dna.extract",
    "Extractor": "lineage.dna.extract",
    "extract_dna": "lineage.dna.batch",
    "build_zoo": "lineage.zoo",
    "export_graph": "lineage.graph.export",
    "write_reports": "lineage.graph.export",
}


def __getattr__(name: str) -> Any:
    mod = _EXPORTS.get(name)
    if mod is None:
        raise AttributeError(f"module 'lineage' has no attribute {name!r}")
    return getattr(importlib.import_module(mod), name)


def __dir__() -> list[str]:
    return sorted(list(globals()) + list(_EXPORTS))


__all__ = list(_EXPORTS)
