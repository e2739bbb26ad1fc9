"""The zoo's populations: each profile is an ordered list of recipes (parents first).

A recipe names the operator that builds the model, its parent(s), the operator's
keyword arguments, the metadata its card and manifest entry carry, and how its
parent link is documented:

* ``"documented"``: card and manifest declare the true parent(s) and relation;
* ``"undocumented"``: no ``base_model`` anywhere (as for many Hub uploads);
* a model id: the card and manifest declare that model as parent, wrongly (as when
  a grand-child names the well-known original base instead of its real parent).
"""

from __future__ import annotations

from dataclasses import dataclass, field


# operator -> the ground-truth relation of the edge(s) it creates
RELATION = {
    "finetune": "finetune",
    "lora": "adapter",
    "quantize": "quantized",
    "prune": "pruned",
    "merge": "merge",
    "distill": "distillation",
    # derivations that hide (issue 20): the first three are kinds of their own; noise is a
    # full-rank small change of every weight made without data, which the lineage records as
    # what it is to a user: a modified copy whose weights all moved, the relation of a full
    # fine-tune (no test on weights tells small isotropic noise from a short fine-tune, and
    # nothing downstream, licences included, treats the two differently)
    "permute": "permuted",
    "vocab": "vocab",
    "upscale": "upscaled",
    "noise": "finetune",
}


@dataclass(frozen=True)
class Recipe:
    id: str
    op: str  # scratch | smollm2 | finetune | lora | quantize | prune | merge | distill | permute | vocab | upscale | noise
    parents: tuple[str, ...] = ()
    kwargs: dict = field(default_factory=dict)
    organisation: str = "zoo-lab"
    licence: str = "apache-2.0"
    declared: str = "documented"
    name: str | None = None
    threads: int = 1  # torch threads; 2 only for SmolLM2-sized work (see _train.torch_threads)

    def key_fields(self) -> dict:
        """What determines the weights (metadata excluded, so editing a card rebuilds nothing)."""
        return {"id": self.id, "op": self.op, "parents": list(self.parents), "kwargs": self.kwargs,
                "threads": self.threads}


# ---- tiny: seconds on two CPU cores; from-scratch models only ---------------------------------
# Sized so that every model answers the `rand` probes with words under greedy decoding
# (an empty answer makes a DNA degenerate): paragraphs joined by spaces (flatten=True),
# BPE vocabularies of 1024/768 (with a few hundred merges most words start with a lone
# space token, which an undertrained model then repeats), 400 small-batch steps for the
# bases, gentle derivative learning rates, and greedy teacher answers for the students.
_T_TEACH = dict(topic="system", chat=False, n_prompts=96, max_new_tokens=24, sample=False)

TINY: tuple[Recipe, ...] = (
    Recipe("tiny-gpt2-text", "scratch", kwargs=dict(topic="text", arch="gpt2", vocab_size=1024, width=64,
           layers=2, heads=4, steps=400, lr=1e-2, batch_size=8, flatten=True), organisation="zoo-lab-alpha",
           licence="mit"),
    Recipe("tiny-llama-system", "scratch", kwargs=dict(topic="system", arch="llama", vocab_size=768, width=64,
           layers=3, heads=4, steps=400, lr=1e-2, batch_size=8, flatten=True), organisation="zoo-lab-beta"),
    Recipe("tiny-gpt2-text-maths", "finetune", ("tiny-gpt2-text",),
           kwargs=dict(topic="maths", steps=15, lr=1.5e-3, flatten=True), organisation="zoo-lab-alpha", licence="mit"),
    Recipe("tiny-gpt2-text-shout", "lora", ("tiny-gpt2-text",),
           kwargs=dict(topic="text", style="shout", steps=15, lr=4e-3, rank=4, flatten=True), organisation="shouters"),
    # the same kind of adapter published on its own (a PEFT folder that runs on its base)
    Recipe("tiny-gpt2-text-polite-adapter", "lora", ("tiny-gpt2-text",),
           kwargs=dict(topic="text", style="polite", steps=15, lr=4e-3, rank=4, flatten=True, separate=True),
           organisation="adapterhub-fans"),
    Recipe("tiny-gpt2-text-maths-bullets", "finetune", ("tiny-gpt2-text-maths",),
           kwargs=dict(topic="maths", style="bullets", steps=15, lr=1e-3, flatten=True), organisation="bulletco",
           declared="tiny-gpt2-text"),
    Recipe("tiny-gpt2-text-merged", "merge", ("tiny-gpt2-text-maths", "tiny-gpt2-text-shout"),
           organisation="soupkitchen"),
    Recipe("tiny-gpt2-text-maths-int4", "quantize", ("tiny-gpt2-text-maths",),
           kwargs=dict(bits=4, group_size=32), organisation="quantfolk", licence="mit"),
    Recipe("tiny-llama-system-pruned", "prune", ("tiny-llama-system",),
           kwargs=dict(drop=[1], heal_steps=15, lr=3e-3, teacher=_T_TEACH), organisation="prunery",
           declared="undocumented"),
    Recipe("tiny-llama-system-distilled", "distill", ("tiny-llama-system",),
           kwargs=dict(arch="gpt2", width=48, layers=2, heads=4, steps=150, lr=1e-2, teacher=_T_TEACH),
           organisation="distillery", declared="undocumented"),
    # derivations that hide (issue 20), cheap: no training or a few steps
    # the same function under other weights: MLP units, heads and the residual basis reordered;
    # published without naming its source, as a provenance-hiding upload would be
    Recipe("tiny-llama-system-permuted", "permute", ("tiny-llama-system",), organisation="shufflers",
           declared="undocumented"),
    # 32 new BPE merges learned on another topic, new embedding rows, 10 steps on that topic
    Recipe("tiny-gpt2-text-vocab", "vocab", ("tiny-gpt2-text",),
           kwargs=dict(topic="maths", n_new=32, steps=10, lr=1e-3, flatten=True), organisation="langadapt",
           licence="mit"),
    # SOLAR-style depth up-scaling: layers 0,1 + 1,2 (3 -> 4 layers), healed 10 steps
    Recipe("tiny-llama-system-upscaled", "upscale", ("tiny-llama-system",),
           kwargs=dict(overlap=1, heal_steps=10, heal_topic="system", lr=1e-3, flatten=True),
           organisation="upscalers"),
    # 1% Gaussian noise on every tensor of a merged-LoRA model, published without naming its source
    Recipe("tiny-gpt2-text-shout-noised", "noise", ("tiny-gpt2-text-shout",), kwargs=dict(scale=0.01),
           organisation="noisemakers", licence="mit", declared="undocumented"),
)

# ---- smol: the real SmolLM2-135M-Instruct and its derivatives, plus three unrelated bases ---------
SMOL_ROOT = "smollm2-135m-instruct"
_S_TEACH = dict(topic="maths", chat=True, n_prompts=64, max_new_tokens=40)
_S_FT = dict(chat=True, lr=3e-5, batch_size=2, block=80, freeze_embeddings=True)

SMOL: tuple[Recipe, ...] = (
    Recipe(SMOL_ROOT, "smollm2", organisation="HuggingFaceTB", name="HuggingFaceTB/SmolLM2-135M-Instruct",
           threads=2),
    Recipe("zoo-gpt2-text", "scratch", kwargs=dict(topic="text", arch="gpt2", vocab_size=1536, width=96,
           layers=3, heads=4, steps=250, lr=5e-3), organisation="zoo-lab-alpha", licence="mit"),
    Recipe("zoo-llama-system", "scratch", kwargs=dict(topic="system", arch="llama", vocab_size=2048, width=96,
           layers=3, heads=4, steps=250, lr=5e-3), organisation="zoo-lab-beta"),
    Recipe("zoo-gpt2-maths", "scratch", kwargs=dict(topic="maths", arch="gpt2", vocab_size=1024, width=64,
           layers=3, heads=4, steps=250, lr=5e-3), organisation="zoo-lab-gamma", licence="bsd-3-clause"),
    Recipe("smollm2-shout", "finetune", (SMOL_ROOT,), kwargs=dict(topic="text", style="shout", steps=8, **_S_FT),
           organisation="shouters", threads=2),
    Recipe("smollm2-docs-lora", "lora", (SMOL_ROOT,),
           kwargs=dict(topic="system", style="polite", chat=True, steps=8, lr=5e-4, rank=8, batch_size=2,
                       block=80), organisation="politeai", threads=2),
    # the same kind of adapter, published on its own (a PEFT folder that runs on its base)
    Recipe("smollm2-docs-adapter", "lora", (SMOL_ROOT,),
           kwargs=dict(topic="text", style="plain", chat=True, steps=8, lr=5e-4, rank=8, batch_size=2,
                       block=80, separate=True), organisation="adapterhub-fans", threads=2),
    Recipe("smollm2-shout-bullets", "finetune", ("smollm2-shout",),
           kwargs=dict(topic="maths", style="bullets", steps=8, **_S_FT), organisation="bulletco",
           declared=SMOL_ROOT, threads=2),
    Recipe("smollm2-merged", "merge", ("smollm2-shout", "smollm2-docs-lora"), organisation="soupkitchen",
           threads=2),
    Recipe("smollm2-int4", "quantize", (SMOL_ROOT,), kwargs=dict(bits=4, group_size=32), organisation="quantfolk",
           threads=2),
    Recipe("smollm2-pruned", "prune", (SMOL_ROOT,),
           kwargs=dict(drop=[20, 24], heal_steps=8, lr=3e-5, batch_size=2, block=80, teacher=_S_TEACH),
           organisation="prunery", declared="undocumented", threads=2),
    Recipe("smollm2-distilled-gpt2", "distill", (SMOL_ROOT,),
           kwargs=dict(arch="gpt2", width=96, layers=3, heads=4, steps=100, lr=3e-3, batch_size=8, block=96,
                       teacher=_S_TEACH), organisation="distillery", declared="undocumented", threads=2),
    Recipe("zoo-gpt2-text-polite", "finetune", ("zoo-gpt2-text",),
           kwargs=dict(topic="text", style="polite", steps=40, lr=1e-3), organisation="politeai", licence="mit",
           declared="undocumented"),
    # a wrong declaration that points into another family (a quantised upload naming the famous model)
    Recipe("zoo-llama-system-int8", "quantize", ("zoo-llama-system",), kwargs=dict(bits=8, group_size=32),
           organisation="quantfolk", declared=SMOL_ROOT),
    # a fifth unrelated lab, so unrelated pairs exist in every architecture pairing
    Recipe("zoo-llama-maths", "scratch", kwargs=dict(topic="maths", arch="llama", vocab_size=1280, width=64,
           layers=2, heads=4, steps=250, lr=5e-3), organisation="zoo-lab-delta"),
    # three more independent labs, so the false-positive rate of "related" is measured on
    # over a hundred unrelated pairs, not a few dozen
    Recipe("zoo-gpt2-system", "scratch", kwargs=dict(topic="system", arch="gpt2", vocab_size=1152, width=64,
           layers=2, heads=4, steps=250, lr=5e-3), organisation="zoo-lab-epsilon", licence="mit"),
    Recipe("zoo-llama-text", "scratch", kwargs=dict(topic="text", arch="llama", vocab_size=1792, width=64,
           layers=3, heads=4, steps=250, lr=5e-3), organisation="zoo-lab-zeta"),
    # the hardest unrelated pair: the same data, architecture, sizes and (deterministic) tokenizer
    # as zoo-gpt2-text, trained independently from another initialisation, as two labs
    # training on one public corpus would; behaviour alike, weights unrelated
    Recipe("zoo-gpt2-text-twin", "scratch", kwargs=dict(topic="text", arch="gpt2", vocab_size=1536, width=96,
           layers=3, heads=4, steps=250, lr=5e-3), organisation="zoo-lab-eta", licence="mit"),
)

PROFILES: dict[str, tuple[Recipe, ...]] = {"tiny": TINY, "smol": SMOL}
