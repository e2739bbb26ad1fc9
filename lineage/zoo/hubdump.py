"""A synthetic dump of Hugging Face Hub model metadata at the Hub's published proportions.

For benchmarks and tests of ``lineage import-metadata``: records laid out as the Hub's model
API returns them (``id``, ``author``, ``createdAt``, ``lastModified``, ``downloads``, ``likes``,
``library_name``, ``pipeline_tag``, ``tags``, ``gated``, ``cardData.base_model`` /
``base_model_relation`` / ``license``), written as JSONL or Parquet, deterministic by seed.

Usage::

    python -m lineage.zoo.hubdump --n 1000000 --seed 0 --out dump.parquet

How the population is drawn
---------------------------
Every proportion is a named constant below with its source; where no published figure
exists the comment says "assumed".

- ``n`` models split into undocumented ones (no declared base: :data:`UNDOCUMENTED_SHARE`),
  derived ones (a declared base) and the bases the derived ones descend from, in the ratio
  :data:`HUB_BASES` : :data:`HUB_DERIVED`. The bases themselves declare nothing.
- Each derived model picks its base family with Zipf weights (:data:`BASE_POPULARITY_EXPONENT`):
  a few bases have tens of thousands of descendants, most a handful (heavy tail).
- Its depth below the base follows :data:`DEPTH_SHARES` (mostly 1-2, a tail to 6); its parent
  is drawn from the models of the same family one level up that may have children. A quantized
  model may have children with probability ``1 - QUANTIZED_LEAF_SHARE``, so at least that share
  of quantized models are leaves.
- Relations follow :data:`RELATION_SHARES`; a merge has 2-4 parents (:data:`MERGE_PARENTS`), the
  extra ones drawn from any model created before it, so the declarations form no cycle.
- Dates are consistent: every model is created after each of its parents, and modified after
  it was created; all lie within :data:`HUB_START` .. :data:`HUB_END`.
- Licences follow :data:`LICENCE_SHARES` for models without parent; a derived model keeps its
  first parent's licence with probability :data:`LICENCE_INHERITED`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

#: Models derived from a declared base, and the bases they come from: "52,227 models derive from
#: only 299 base models" (Ajibode et al., 2024, via docs/scaling.md and the project's notes).
HUB_DERIVED = 52_227
HUB_BASES = 299
#: Share of models with no declared base: "over 60% of the repository undocumented" (Model Atlas,
#: Horwitz et al., 2025). The published figure is a lower bound; 0.62 is assumed.
UNDOCUMENTED_SHARE = 0.62
#: Share of quantized models that are leaves: 99.41% (Model Atlas, Horwitz et al., 2025).
QUANTIZED_LEAF_SHARE = 0.9941
#: Relation of a derived model to its base. Assumed (no published shares found): fine-tunes
#: most common, quantizations next, then adapters; merges a few percent.
RELATION_SHARES = {"finetune": 0.45, "quantized": 0.30, "adapter": 0.20, "merge": 0.05}
#: Number of parents of a merge (2, 3, 4). Assumed.
MERGE_PARENTS = {2: 0.80, 3: 0.15, 4: 0.05}
#: Depth of a derived model below its base (1, 2, ... 6). Assumed ("mostly 1-2 with a tail").
DEPTH_SHARES = (0.62, 0.26, 0.08, 0.025, 0.01, 0.005)
#: Zipf exponent of the number of descendants per base. Assumed (a heavy tail: the most popular
#: base gathers about a fifth of all derived models at the Hub's 299 bases).
BASE_POPULARITY_EXPONENT = 1.1
#: Licence of a model without a parent; None: no licence declared. Assumed mix.
LICENCE_SHARES = {"apache-2.0": 0.32, "mit": 0.17, None: 0.22, "other": 0.08, "llama3.1": 0.05,
                  "cc-by-nc-4.0": 0.05, "gemma": 0.03, "openrail": 0.03, "cc-by-4.0": 0.03, "gpl-3.0": 0.02}
#: Probability that a derived model keeps its first parent's licence. Assumed.
LICENCE_INHERITED = 0.80
#: Share of documented models whose base appears only in the tags (no cardData.base_model). Assumed.
TAGS_ONLY_SHARE = 0.10
#: Gating of bases and of other models: (auto, manual). Assumed.
GATED_BASE = (0.05, 0.03)
GATED_OTHER = (0.01, 0.005)
#: Mean days between a parent's creation and its child's. Assumed.
MEAN_CHILD_GAP_DAYS = 90.0
#: Date range of the dump (the Hub's model API dates from 2021; the dump's day). Assumed.
HUB_START = datetime(2021, 3, 1, tzinfo=timezone.utc)
HUB_END = datetime(2025, 10, 1, tzinfo=timezone.utc)
#: Models per organisation (organisations are drawn with Zipf weights). Assumed.
MODELS_PER_ORG = 20


@dataclass
class HubDumpStats:
    """What was written, to compare with the constants."""

    n: int
    n_bases: int
    n_derived: int
    n_undocumented: int
    relations: dict
    depths: dict
    quantized_leaf_share: float
    max_children_per_base: int
    median_children_per_base: float
    n_edges: int

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def generate(n: int, seed: int = 0) -> tuple[list[dict], HubDumpStats]:
    """``n`` synthetic records (dicts in the model API's layout, parents before children) and their stats."""
    if n < 3:
        raise ValueError("a dump needs at least 3 models")
    rng = np.random.default_rng(seed)
    n_derived = round(n * (1 - UNDOCUMENTED_SHARE) * HUB_DERIVED / (HUB_DERIVED + HUB_BASES))
    n_bases = max(1, round(n_derived * HUB_BASES / HUB_DERIVED))
    n_derived = min(n_derived, n - n_bases)
    n_alone = n - n_bases - n_derived

    rels = list(RELATION_SHARES)
    relation = rng.choice(len(rels), size=n_derived, p=list(RELATION_SHARES.values()))
    depth = 1 + rng.choice(len(DEPTH_SHARES), size=n_derived, p=np.array(DEPTH_SHARES) / sum(DEPTH_SHARES))
    weights = 1.0 / np.arange(1, n_bases + 1) ** BASE_POPULARITY_EXPONENT
    family = rng.choice(n_bases, size=n_derived, p=weights / weights.sum())
    order = np.lexsort((rng.random(n_derived), depth))  # parents (shallower) first
    u = rng.random((n_derived, 6))

    n_orgs = max(3, n // MODELS_PER_ORG)
    ow = 1.0 / np.arange(1, n_orgs + 1) ** 1.0
    org_of = rng.choice(n_orgs, size=n, p=ow / ow.sum())

    lic_names = list(LICENCE_SHARES)
    lic_draw = rng.choice(len(lic_names), size=n, p=list(LICENCE_SHARES.values()))
    start, span = HUB_START.timestamp(), (HUB_END - HUB_START).total_seconds()

    ids: list[str] = []
    created = np.zeros(n)
    licence: list[str | None] = [None] * n
    parents: list[tuple[int, ...]] = [()] * n
    rel_of: list[str | None] = [None] * n
    kind = [""] * n

    def new_id(i: int, suffix: str) -> str:
        return f"org{org_of[i]:05d}/model-{i:07d}{suffix}"

    # bases: created in the first half of the range (later models derive from them)
    for b in range(n_bases):
        ids.append(new_id(b, "-base"))
        created[b] = start + span * 0.5 * rng.random()
        licence[b] = lic_names[lic_draw[b]]
        kind[b] = "base"
    pools: list[list[list[int]]] = [[[b]] for b in range(n_bases)]  # family -> depth -> parentable models
    parentable_all: list[int] = list(range(n_bases))
    depth_of = Counter()
    n_quant, n_quant_parentable = 0, 0
    suffix = {"finetune": "-ft", "quantized": "-GGUF", "adapter": "-lora", "merge": "-merge"}
    for j in order:
        i = len(ids)
        rel = rels[relation[j]]
        fam, d = family[j], int(depth[j])
        levels = pools[fam]
        d = min(d, len(levels))  # levels[k]: the family's parentable models at depth k (levels[0]: the base)
        while not levels[d - 1]:
            d -= 1
        pool = levels[d - 1]
        first = pool[int(u[j, 0] * len(pool))]
        ps = [first]
        if rel == "merge":
            k = list(MERGE_PARENTS)[int(np.searchsorted(np.cumsum(list(MERGE_PARENTS.values())), u[j, 1]))]
            for t in range(k - 1):
                other = parentable_all[int(((u[j, 2] + t * 0.618034) % 1.0) * len(parentable_all))]
                if other not in ps:
                    ps.append(other)
            if len(ps) < 2:  # a merge needs two parents: fall back to a fine-tune
                rel = "finetune"
        ids.append(new_id(i, suffix[rel]))
        parents[i] = tuple(ps)
        rel_of[i] = rel
        kind[i] = "derived"
        latest = max(created[p] for p in ps)
        room = start + span - latest
        gap = min(rng.exponential(MEAN_CHILD_GAP_DAYS * 86400.0), room * 0.999)
        created[i] = latest + max(gap, min(3600.0, room * 0.5))
        licence[i] = licence[first] if u[j, 3] < LICENCE_INHERITED else lic_names[lic_draw[i]]
        depth_of[d] += 1
        may_have_children = rel != "quantized" or u[j, 4] >= QUANTIZED_LEAF_SHARE
        n_quant += rel == "quantized"
        n_quant_parentable += rel == "quantized" and may_have_children
        if may_have_children:
            while len(levels) <= d:
                levels.append([])
            levels[d].append(i)
            parentable_all.append(i)
    for i in range(n_bases + n_derived, n):
        ids.append(new_id(i, ""))
        created[i] = start + span * rng.random()
        licence[i] = lic_names[lic_draw[i]]
        kind[i] = "alone"

    children = Counter(p for ps in parents for p in ps)
    quant_leaves = sum(1 for i in range(n) if rel_of[i] == "quantized" and children[i] == 0)
    fam_sizes = np.bincount(family, minlength=n_bases)
    records = _records(ids, created, licence, parents, rel_of, kind, rng, span)
    stats = HubDumpStats(
        n=n, n_bases=n_bases, n_derived=n_derived, n_undocumented=n_alone + n_bases,
        relations=dict(Counter(r for r in rel_of if r)), depths=dict(sorted(depth_of.items())),
        quantized_leaf_share=quant_leaves / n_quant if n_quant else 1.0,
        max_children_per_base=int(fam_sizes.max()), median_children_per_base=float(np.median(fam_sizes)),
        n_edges=sum(len(p) for p in parents))
    return records, stats


def _records(ids, created, licence, parents, rel_of, kind, rng, span) -> list[dict]:
    n = len(ids)
    modified_gap = rng.exponential(30 * 86400.0, size=n)
    end = HUB_END.timestamp()
    downloads = np.floor(rng.lognormal(3.0, 2.5, size=n)).astype(np.int64)
    likes = rng.poisson(np.sqrt(downloads) / 10.0)
    lib_u, pipe_u, gate_u, layout_u = rng.random(n), rng.random(n), rng.random(n), rng.random(n)
    out = []
    for i in range(n):
        org = ids[i].split("/", 1)[0]
        rel, ps, lic = rel_of[i], parents[i], licence[i]
        if rel == "adapter":
            lib = "peft"
        elif rel == "quantized":
            lib = "gguf" if lib_u[i] < 0.7 else "transformers"
        else:
            lib = "transformers" if lib_u[i] < 0.9 else None
        pipe = "text-generation" if pipe_u[i] < 0.85 else ("text2text-generation" if pipe_u[i] < 0.9 else None)
        auto, manual = GATED_BASE if kind[i] == "base" else GATED_OTHER
        gated = "auto" if gate_u[i] < auto else ("manual" if gate_u[i] < auto + manual else False)
        tags = [t for t in (lib, pipe) if t]
        if lic:
            tags.append(f"license:{lic}")
        for p in ps:
            tags += [f"base_model:{ids[p]}", f"base_model:{rel}:{ids[p]}"]
        tags.append("region:us")
        c = created[i]
        m = min(c + modified_gap[i], max(end, c))
        rec = {"id": ids[i], "author": org, "createdAt": _iso(c), "lastModified": _iso(m),
               "downloads": int(downloads[i]) * (100 if kind[i] == "base" else 1), "likes": int(likes[i]),
               "library_name": lib, "pipeline_tag": pipe, "tags": tags, "gated": gated}
        card = {}
        if lic:
            card["license"] = lic
        if ps and layout_u[i] >= TAGS_ONLY_SHARE:
            card["base_model"] = ids[ps[0]] if len(ps) == 1 else [ids[p] for p in ps]
            card["base_model_relation"] = rel
        if card:
            rec["cardData"] = card
        out.append(rec)
    return out


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def write_dump(records: list[dict], out: str | Path) -> Path:
    """Write records as JSONL (``.jsonl``) or Parquet (``.parquet``; ``cardData`` a struct, ``base_model`` a list)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        card = pa.struct([("base_model", pa.list_(pa.string())), ("base_model_relation", pa.string()),
                          ("license", pa.string())])
        schema = pa.schema([("id", pa.string()), ("author", pa.string()), ("createdAt", pa.string()),
                            ("lastModified", pa.string()), ("downloads", pa.int64()), ("likes", pa.int64()),
                            ("library_name", pa.string()), ("pipeline_tag", pa.string()),
                            ("tags", pa.list_(pa.string())), ("gated", pa.string()), ("cardData", card)])
        cols = {f.name: [] for f in schema}
        for r in records:
            for k in cols:
                v = r.get(k)
                if k == "gated":
                    v = v or None
                elif k == "cardData" and v is not None:
                    b = v.get("base_model")
                    v = {"base_model": [b] if isinstance(b, str) else b,
                         "base_model_relation": v.get("base_model_relation"), "license": v.get("license")}
                cols[k].append(v)
        pq.write_table(pa.table(cols, schema=schema), out, row_group_size=100_000)
    else:
        with out.open("w", encoding="utf-8") as f:
            for r in records:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m lineage.zoo.hubdump", description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000, help="number of models")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", required=True, help="output file: .jsonl or .parquet")
    a = ap.parse_args(argv)
    records, stats = generate(a.n, a.seed)
    write_dump(records, a.out)
    json.dump(stats.as_dict(), sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
