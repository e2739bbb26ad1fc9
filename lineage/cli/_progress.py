"""Progress on stderr, built in one place.

One line per finished model, on a terminal and in logs alike, with where the batch
stands and about how long the rest will take::

    done: smollm2-shout (3/18, 41 s; about 9 min left)
    skipped: smollm2-base (1/18, already in the graph)

Lines start with ``done:``, ``skipped:`` or ``failed:`` and the model id, so scripts and
tests can wait on them. On a terminal, bars for the batch and the current model's probes
are drawn below the lines as well.

Third-party libraries' own progress bars and warnings (transformers' GGUF dequantisation
bars, Hugging Face and torch warnings) are kept off the terminal unless ``lineage --verbose``:
:func:`quiet_third_party`, which the root command calls once before any command runs.
"""

from __future__ import annotations

import os
import time

from lineage.cli._output import err_console, info

__all__ = ["ModelProgress", "duration", "quiet_third_party"]

#: Read by tqdm, huggingface_hub and transformers when they are imported (nothing heavy is
#: imported before a command runs), and inherited by worker processes (Ray).
_QUIET_ENV = {"TQDM_DISABLE": "1", "HF_HUB_DISABLE_PROGRESS_BARS": "1", "TRANSFORMERS_VERBOSITY": "error",
              "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1"}
#: Loggers of libraries that log through Python's logging without a handler of their own.
_QUIET_LOGGERS = ("transformers", "huggingface_hub", "sentence_transformers", "accelerate", "peft", "torch",
                  "tokenizers", "ray")


def quiet_third_party():
    """Keep third-party progress bars and warnings off stderr until the returned function is called.

    Python warnings are ignored and the libraries' loggers raised to ERROR; the variables
    in ``_QUIET_ENV`` are set unless the user set them (libraries read them when imported).
    lineage's own messages (``warning:``, ``failed:``, progress lines) are not touched.
    """
    import logging
    import sys
    import warnings

    set_env = {k: v for k, v in _QUIET_ENV.items() if k not in os.environ}
    os.environ.update(set_env)
    filters = warnings.filters[:]
    warnings.simplefilter("ignore")
    levels = {name: logging.getLogger(name).level for name in _QUIET_LOGGERS}
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    hf = sys.modules.get("transformers.utils.logging")  # imported already: the variables come too late
    bars = hf is not None and hf.is_progress_bar_enabled()
    if bars:
        hf.disable_progress_bar()

    def restore() -> None:
        for k in set_env:
            os.environ.pop(k, None)
        warnings.filters[:] = filters
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
        if bars:
            hf.enable_progress_bar()

    return restore


def duration(seconds: float) -> str:
    """``42 s``, ``3 min 05 s``, ``1 h 02 min``."""
    s = int(round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


class ModelProgress:
    """The ``progress(event, data)`` hook of ingest, eval, extract and the demo (their events:
    ``batch_start`` ``{"n_models"}``, ``model_start``, ``extract_progress``, ``model_done``,
    ``model_failed``, ``phase``): a line per finished model, and bars on a terminal.

    The time left is the mean time of the models worked on so far (skipped ones cost nothing)
    times the models still to come: an estimate, printed as one.
    """

    def __init__(self, clock=time.monotonic, *, announce_failures: bool = True):
        # a command that stops at its first failure (extract) leaves the failure to its one
        # error line, which names the model: a `failed:` line before it would be a second line
        self.clock = clock
        self.announce_failures = announce_failures

    def __enter__(self):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.p = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                          TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), console=err_console, transient=True,
                          disable=not err_console.is_terminal)  # no bars in logs and pipes
        self.p.__enter__()
        self.models = self.p.add_task("models", total=None, rate="")
        self.probes = None
        self.n_models: int | None = None
        self.n_finished = self.n_worked = 0
        self.t_batch: float | None = None
        self.t_model: float | None = None
        return self

    def __call__(self, event: str, data: dict) -> None:
        now = self.clock()
        if event == "batch_start":
            self.n_models, self.t_batch = data["n_models"], now
            self.p.update(self.models, total=self.n_models)
        elif event == "model_start":
            self.t_model = now
            if self.t_batch is None:
                self.t_batch = now
            if self.probes is not None:
                self.p.remove_task(self.probes)
            self.probes = self.p.add_task(f"  {data['model'][:40]}", total=None, rate="")
        elif event == "extract_progress" and self.probes is not None:
            self.p.update(self.probes, completed=data["done"], total=data["total"], rate=f"{data['tokens']} tok")
        elif event in ("model_done", "model_failed"):
            self.p.advance(self.models)
            self.n_finished += 1
            if self.t_batch is None:
                self.t_batch = now
            if event == "model_done" and data.get("skipped"):
                info(f"skipped: {data['model']} ({self._count()}, already in the graph)")
                return
            self.n_worked += 1
            took = duration(now - self.t_model) if self.t_model is not None else "?"
            self.t_model = None
            if event == "model_failed":
                if self.announce_failures:
                    info(f"failed: {data['model']} ({self._count()}, after {took}; the reason follows)")
            else:
                info(f"done: {data['model']} ({self._count()}, {took}{self._left(now)})")
        elif event == "phase":
            self.p.update(self.models, description=f"models ({data['name']})")
            info(f"{_PHASES.get(data['name'], data['name'])} ({duration(now - self.t_batch)} so far)"
                 if self.t_batch is not None else _PHASES.get(data['name'], data['name']))

    def _count(self) -> str:
        return f"{self.n_finished}/{self.n_models}" if self.n_models else str(self.n_finished)

    def _left(self, now: float) -> str:
        if not self.n_models or not self.n_worked or self.t_batch is None:
            return ""
        left = self.n_models - self.n_finished
        if left <= 0:
            return "; that was the last"
        return f"; about {duration((now - self.t_batch) / self.n_worked * left)} left"

    def __exit__(self, *exc):
        self.p.__exit__(*exc)


_PHASES = {"analyse": "analysing the population (tree, parents, relations)",
           "write": "writing the derived structure"}
