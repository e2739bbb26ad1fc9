"""Training text for the zoo, produced at build time from Python itself.

Every corpus comes from the documentation strings of Python's standard library,
which any Python installation carries, so the zoo needs no download and no file
that a slim system might lack. Modules are grouped by topic so that corpora are
distinct in vocabulary; *styles* rewrite the same content into a recognisable
register (shouting, bullet lists, ...), imitating the style-specific fine-tuning
data that real derivatives are trained on.

The text depends on the Python version (docstrings change between releases); the
corpus hash is part of every model's cache key, so a different Python rebuilds.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import inspect
import io
import re
import warnings
from dataclasses import dataclass
from functools import lru_cache

# Topic groups of standard-library modules. Only modules present in every CPython
# build are listed; a missing one is skipped, never fatal.
TOPICS: dict[str, tuple[str, ...]] = {
    "text": ("string", "textwrap", "difflib", "json", "csv", "html", "html.parser", "argparse",
             "logging", "pprint", "gettext", "locale", "codecs", "unicodedata", "re", "configparser",
             "email.message", "email.utils", "xml.dom.minidom", "tomllib"),
    "system": ("os", "os.path", "pathlib", "shutil", "subprocess", "threading", "queue", "socket",
               "selectors", "signal", "tempfile", "glob", "fnmatch", "zipfile", "tarfile", "io",
               "http.client", "urllib.parse", "urllib.request", "sched", "mmap"),
    "maths": ("builtins", "math", "cmath", "statistics", "random", "decimal", "fractions",
              "numbers", "itertools", "functools", "operator", "collections", "heapq", "bisect",
              "datetime", "calendar", "time", "array", "struct", "hashlib"),
}


@dataclass(frozen=True)
class QA:
    """One question/answer pair derived from a documented function or class."""

    question: str
    answer: str


def _import(name: str):
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        try:
            return importlib.import_module(name)
        except Exception:  # noqa: BLE001 - a module absent from a slim build is skipped
            return None


def _clean(doc: str | None) -> str:
    if not doc:
        return ""
    doc = inspect.cleandoc(doc)
    # signature lines such as "dumps(obj, *, skipkeys=False)" carry no prose
    lines = [ln for ln in doc.splitlines() if not re.match(r"^\w[\w.]*\(.*\)( -> .*)?$", ln.strip())]
    return "\n".join(lines).strip()


def _paragraphs(doc: str) -> list[str]:
    out = []
    for para in re.split(r"\n\s*\n", doc):
        flat = " ".join(para.split())
        # keep prose: enough words, few code symbols
        if len(flat.split()) >= 6 and sum(c in "{}[]<>=|`$>" for c in flat) < len(flat) / 25:
            out.append(flat)
    return out


@lru_cache(maxsize=None)
def _documented(topic: str) -> tuple[tuple[str, str], ...]:
    """(qualified name, cleaned docstring) for a topic, in a fixed order."""
    items: list[tuple[str, str]] = []
    for modname in TOPICS[topic]:
        mod = _import(modname)
        if mod is None:
            continue
        if doc := _clean(getattr(mod, "__doc__", None)):
            items.append((modname, doc))
        for attr in sorted(vars(mod)):
            if attr.startswith("_"):
                continue
            obj = getattr(mod, attr, None)
            if not (inspect.isfunction(obj) or inspect.isbuiltin(obj) or inspect.isclass(obj)):
                continue
            if getattr(obj, "__module__", modname) not in (modname, None) and modname != "builtins":
                continue  # re-exports are documented where they live
            if doc := _clean(getattr(obj, "__doc__", None)):
                items.append((f"{modname}.{attr}" if modname != "builtins" else attr, doc))
    return tuple(items)


def text(topic: str, style: str = "plain") -> str:
    """All prose paragraphs of a topic, one per line, rewritten in ``style``.

    Parameters
    ----------
    topic : {"text", "system", "maths"}
    style : one of :data:`STYLES`

    Returns
    -------
    str
        Paragraphs separated by newlines (a few hundred kB).
    """
    if topic not in TOPICS:
        raise KeyError(f"unknown corpus topic {topic!r}; choose from {sorted(TOPICS)}")
    paras = [p for _, doc in _documented(topic) for p in _paragraphs(doc)]
    rewrite = STYLES[style]
    return "\n".join(rewrite(p) for p in paras)


def qa_pairs(topic: str, style: str = "plain", limit: int | None = None) -> list[QA]:
    """Question/answer pairs: "What does X do?" -> the first prose paragraph of X's docstring."""
    rewrite = STYLES[style]
    out: list[QA] = []
    templates = ("What does {} do?", "Explain {} briefly.", "What is {} used for?", "Describe {}.")
    for i, (name, doc) in enumerate(_documented(topic)):
        paras = _paragraphs(doc)
        if not paras:
            continue
        answer = paras[0]
        if len(answer) > 400:
            answer = answer[:400].rsplit(". ", 1)[0] + "."
        out.append(QA(templates[i % len(templates)].format(name), rewrite(answer)))
        if limit is not None and len(out) >= limit:
            break
    return out


def _shout(p: str) -> str:
    return re.sub(r"\.(\s|$)", r"!\1", p.upper())


def _bullets(p: str) -> str:
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+", p) if s.strip()]
    return " ".join(f"* {s}" for s in sentences)


def _polite(p: str) -> str:
    return f"Certainly! {p} I hope this helps."


def _plain(p: str) -> str:
    return p


STYLES = {"plain": _plain, "shout": _shout, "bullets": _bullets, "polite": _polite}


def corpus_hash() -> str:
    """A short hash of every topic's raw text; changes when Python's docstrings do."""
    h = hashlib.sha256()
    for topic in sorted(TOPICS):
        for name, doc in _documented(topic):
            h.update(name.encode())
            h.update(doc.encode())
    return h.hexdigest()[:16]
