"""Probe sets: ordered prompts identified by a content hash.

* ``rand``: our own seeded grammar of natural-looking English questions and
  requests (deterministic, offline, no external data).
* ``paper``: the paper's six-dataset mix (first 100 rows of squad, commonsense_qa,
  hellaswag, winogrande, ARC-Challenge and mmlu, in that order, shuffled once with
  ``np.random.seed(42)``), through Hugging Face ``datasets`` or from local files.
* a ``.jsonl`` (one string, or an object with ``prompt``/``text``/``question``, per
  line) or ``.txt`` (one probe per line) file.

The hash is ``sha256`` of the JSON list (UTF-8, no ASCII escaping, compact
separators), the same formula as the reference's ``probe_order_sha256``.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from lineage.errors import ConfigError, InputError

__all__ = ["ProbeSet", "probe_hash", "rand_probes", "paper_probes", "load_probe_file", "resolve_probes"]


def probe_hash(texts: Sequence[str]) -> str:
    """Content hash of an ordered probe list (64 hex digits)."""
    blob = json.dumps(list(texts), ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ProbeSet:
    """An ordered probe set.

    Attributes
    ----------
    name : str
        ``rand``, ``paper`` or the file name; with the hash it names the set in provenance.
    texts : tuple of str
    """

    name: str
    texts: tuple[str, ...]

    @property
    def hash(self) -> str:
        return probe_hash(self.texts)

    def __len__(self) -> int:
        return len(self.texts)


# --- the `rand` grammar -------------------------------------------------------------
_SUBJECTS = ["a farmer", "the old teacher", "a young doctor", "my neighbour", "the captain", "a small child",
             "the engineer", "a travelling musician", "the mayor", "an astronaut", "the baker", "a student",
             "the night guard", "a retired pilot", "the gardener", "a chess player", "the librarian",
             "a fisherman", "the scientist", "a shy painter"]
_VERBS = [("repair", "repaired"), ("describe", "described"), ("paint", "painted"), ("explain", "explained"),
          ("build", "built"), ("find", "found"), ("lose", "lost"), ("study", "studied"), ("sell", "sold"),
          ("carry", "carried"), ("measure", "measured"), ("cook", "cooked"), ("borrow", "borrowed"),
          ("protect", "protected"), ("forget", "forgot"), ("discover", "discovered")]
_OBJECTS = ["a wooden bridge", "the broken clock", "an ancient map", "a bowl of soup", "the red bicycle",
            "a strange letter", "the village well", "a loaf of bread", "the weather report", "a silver coin",
            "the garden fence", "a paper kite", "the train timetable", "an old radio", "the mountain path",
            "a glass of water", "the city budget", "a lost dog", "the school play", "a pair of boots"]
_PLACES = ["in the harbour", "near the forest", "at the market", "on a rainy morning", "after the storm",
           "in a quiet library", "during the festival", "behind the station", "on the north coast",
           "before sunrise", "at the edge of town", "in the mountains", "under the bridge", "in winter"]
_TOPICS = ["photosynthesis", "the water cycle", "volcanoes", "the history of writing", "gravity",
           "the French Revolution", "prime numbers", "how vaccines work", "the stock market", "tides",
           "electricity", "the Roman Empire", "climate change", "honey bees", "the internet", "black holes",
           "democracy", "the human heart", "earthquakes", "compound interest", "rainbows", "jazz music",
           "the printing press", "desert plants", "the moon landing", "recycling", "sleep", "chess openings"]
_ADJ = ["simple", "short", "clear", "careful", "friendly", "detailed", "funny", "honest", "practical"]
_AUDIENCE = ["a ten-year-old", "a busy manager", "a new student", "my grandmother", "a tourist", "a beginner"]
_QWORDS = ["Why did", "How did", "When did", "Where did"]
_FORMS = ["a poem", "a short story", "a haiku", "a letter", "a news headline", "a riddle", "a dialogue"]


def _sentence(rng: random.Random) -> str:
    s, (v, vp), o, p = rng.choice(_SUBJECTS), rng.choice(_VERBS), rng.choice(_OBJECTS), rng.choice(_PLACES)
    t, a, aud = rng.choice(_TOPICS), rng.choice(_ADJ), rng.choice(_AUDIENCE)
    k = rng.randrange(10)
    if k == 0:
        return f"{rng.choice(_QWORDS)} {s} {v} {o} {p}?"
    if k == 1:
        return f"Explain {t} to {aud} in {a} words."
    if k == 2:
        return f"What is the most important thing to know about {t}?"
    if k == 3:
        return f"{s.capitalize()} {vp} {o} {p}. What happened next?"
    if k == 4:
        return f"Write {rng.choice(_FORMS)} about {o} {p}."
    if k == 5:
        return f"Give three {a} facts about {t}."
    if k == 6:
        return f"Is it true that {s} once {vp} {o} {p}? Answer briefly."
    if k == 7:
        return f"Compare {t} and {rng.choice(_TOPICS)} in two sentences."
    if k == 8:
        return f"Continue the story: {s.capitalize()} {vp} {o} {p}, and then"
    return f"How would you {v} {o} if you were {s}?"


def rand_probes(n: int = 100, seed: int = 0) -> ProbeSet:
    """``n`` distinct natural-looking English prompts from a seeded grammar.

    Parameters
    ----------
    n : int
    seed : int
        Seed of a private ``random.Random``; equal seeds give equal lists.
    """
    if n <= 0:
        raise ConfigError(f"n_probes must be positive, got {n}")
    rng = random.Random(seed)
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < n:
        s = _sentence(rng)
        if s not in seen:
            seen.add(s)
            out.append(s)
    return ProbeSet(name=f"rand(seed={seed})", texts=tuple(out))


# --- the paper mix ------------------------------------------------------------------
# (hub id, config, split, column, local file stem)
PAPER_SOURCES = [
    ("rajpurkar/squad", None, "train", "question", "squad"),
    ("tau/commonsense_qa", None, "train", "question", "commonsense_qa"),
    ("Rowan/hellaswag", None, "train", "ctx", "hellaswag"),
    ("allenai/winogrande", "winogrande_xl", "train", "sentence", "winogrande"),
    ("allenai/ai2_arc", "ARC-Challenge", "train", "question", "arc_challenge"),
    ("cais/mmlu", "all", "test", "question", "mmlu"),
]


def _paper_from_folder(folder: Path, per_dataset: int) -> list[list[str]]:
    parts = []
    for *_, col, stem in PAPER_SOURCES:
        f = next((folder / f"{stem}{ext}" for ext in (".jsonl", ".txt") if (folder / f"{stem}{ext}").is_file()), None)
        if f is None:
            raise InputError(f"paper probes: {folder} has no {stem}.jsonl or {stem}.txt",
                             hint="put the six dataset files (squad, commonsense_qa, hellaswag, winogrande, "
                                  "arc_challenge, mmlu) in that folder, or go online")
        parts.append(list(load_probe_file(f, column=col).texts[:per_dataset]))
    return parts


def _paper_from_hub(per_dataset: int) -> list[list[str]]:
    try:
        import datasets
    except ImportError:
        raise InputError("paper probes need the `datasets` package or a local folder",
                         hint="pip install datasets, or pass --probes paper:<folder>") from None
    parts = []
    for hub_id, cfg, split, col, _ in PAPER_SOURCES:
        try:
            ds = datasets.load_dataset(hub_id, cfg, split=f"{split}[:{per_dataset}]")
        except Exception as e:  # offline, missing, renamed: all end the same way for the user
            raise InputError(f"paper probes: cannot load {hub_id} ({type(e).__name__})",
                             hint="the paper mix needs the Hugging Face hub; offline use --probes rand "
                                  "or --probes paper:<folder with local copies>") from None
        parts.append([str(x) for x in ds[col]])
    return parts


def paper_probes(folder: str | Path | None = None, per_dataset: int = 100, shuffle_seed: int = 42) -> ProbeSet:
    """The paper's six-dataset probe mix, concatenated in order then shuffled once.

    Parameters
    ----------
    folder : path, optional
        Local copies (``squad.jsonl`` ... ``mmlu.jsonl``); else Hugging Face ``datasets``.
    per_dataset : int, default 100
    shuffle_seed : int, default 42
        ``np.random.seed(shuffle_seed); np.random.shuffle(list)`` as the paper, via a private RandomState.
    """
    import numpy as np

    parts = _paper_from_folder(Path(folder), per_dataset) if folder else _paper_from_hub(per_dataset)
    texts = [t for p in parts for t in p]
    order = list(texts)
    np.random.RandomState(shuffle_seed).shuffle(order)
    return ProbeSet(name="paper", texts=tuple(order))


def load_probe_file(path: str | Path, *, column: str | None = None) -> ProbeSet:
    """Probes from a ``.txt`` (one per line, blank lines skipped) or ``.jsonl`` file."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"probe file {path} does not exist", hint="pass --probes rand, paper, or a .jsonl/.txt file")
    texts: list[str] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    if path.suffix in (".jsonl", ".ndjson"):
        keys = [column] if column else ["prompt", "text", "question", "probe"]
        for n, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                v = json.loads(line)
            except json.JSONDecodeError as e:
                raise InputError(f"{path}:{n}: invalid JSON ({e.msg})") from None
            if isinstance(v, dict):
                v = next((v[k] for k in keys if isinstance(v.get(k), str)), None)
            if not isinstance(v, str) or not v.strip():
                raise InputError(f"{path}:{n}: expected a non-empty string or an object with one of {keys}")
            texts.append(v)
    elif path.suffix == ".txt":
        texts = [ln for ln in lines if ln.strip()]
    else:
        raise InputError(f"probe file {path}: unknown format (use .jsonl or .txt)")
    if not texts:
        raise InputError(f"probe file {path} holds no probes")
    return ProbeSet(name=path.name, texts=tuple(texts))


def resolve_probes(spec: str | Path, n_probes: int | None = 100, seed: int = 0) -> ProbeSet:
    """Turn ``rand``, ``paper``, ``paper:<folder>`` or a file path into a probe set.

    ``n_probes`` keeps the first n (for ``rand`` it is the number generated);
    ``None`` keeps the whole file / paper mix.
    """
    s = str(spec)
    if s == "rand":
        return rand_probes(n_probes or 100, seed)
    if s == "paper" or s.startswith("paper:"):
        ps = paper_probes(s.split(":", 1)[1] if ":" in s else None)
    else:
        ps = load_probe_file(s)
    if n_probes is not None and n_probes < len(ps):
        ps = ProbeSet(name=ps.name, texts=ps.texts[:n_probes])
    return ps
