"""A Ray task body that kills its worker mid-way on its first attempt (for retry tests)."""

from __future__ import annotations

import os
from pathlib import Path


class DieOnce:
    """Extract like :func:`lineage.dna.executors.extract_on_worker`, but on the first attempt
    for ``model_id`` kill the worker process (``os._exit``, no cleanup: what a crash or the
    OOM killer does) once ``after`` probes are answered and saved to the response cache.
    The marker file records the first attempt (and its pid), so the retry runs through."""

    def __init__(self, marker: str | Path, model_id: str, after: int):
        self.marker, self.model_id, self.after = str(marker), model_id, after

    def __call__(self, config, cache_dir, entry):
        from lineage.dna.extract import Extractor

        first = entry.id == self.model_id and not Path(self.marker).exists()

        def progress(model_id, done, total, tokens):
            if first and done >= self.after:
                Path(self.marker).write_text(str(os.getpid()))
                os._exit(1)

        ex = Extractor(config, cache_dir=cache_dir, progress=progress)
        return ex.extract(entry), ex.reports[-1]
