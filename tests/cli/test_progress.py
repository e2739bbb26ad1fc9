"""Progress a person can trust, read as a person reads it: stderr of the real commands.

The zoo build names each model as it is built, with the time so far and how many are left;
ingest, eval and extract print ``n/N`` and an estimate of the time left per model; third-party
progress bars (transformers' GGUF dequantisation bar) stay off the terminal unless
``lineage --verbose``. The arithmetic of the estimate is checked on its own with a clock the
test moves, so the expected lines are exact.
"""

from __future__ import annotations

import re
import shutil

import pytest

from lineage.cli._progress import ModelProgress, duration
from lineage.manifest import load_manifest
from lineage.zoo.profiles import PROFILES
from tests.helpers.cli import run_cli

TINY = [r.id for r in PROFILES["tiny"]]
FLAGS = ["--n-probes", "4", "--max-new-tokens", "4"]
#: transformers' own bar while it reads a GGUF file (transformers/modeling_gguf_pytorch_utils.py)
GGUF_BAR = "de-quantizing GGUF tensors"


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_duration_reads_as_a_person_says_it():
    assert [duration(s) for s in (0, 41.4, 60, 185, 3599, 3720)] == \
        ["0 s", "41 s", "1 min 00 s", "3 min 05 s", "59 min 59 s", "1 h 02 min"]


def test_each_model_line_has_its_count_its_time_and_the_time_left(capsys):
    clock = Clock()
    with ModelProgress(clock=clock) as hook:
        hook("batch_start", {"n_models": 4})
        hook("model_done", {"model": "a", "skipped": True})  # already in the graph: costs nothing
        hook("model_start", {"model": "b"})
        clock.now = 30.0
        hook("model_done", {"model": "b", "skipped": False})  # 30 s for 1 worked model, 2 to come
        hook("model_start", {"model": "c"})
        clock.now = 100.0
        hook("model_failed", {"model": "c", "error": "no weights"})
        hook("model_start", {"model": "d"})
        clock.now = 150.0
        hook("model_done", {"model": "d", "skipped": False})
        hook("phase", {"name": "analyse"})
    lines = capsys.readouterr().err.splitlines()
    assert lines == [
        "skipped: a (1/4, already in the graph)",
        "done: b (2/4, 30 s; about 1 min 00 s left)",
        "failed: c (3/4, after 1 min 10 s; the reason follows)",
        "done: d (4/4, 50 s; that was the last)",
        "analysing the population (tree, parents, relations) (2 min 30 s so far)",
    ]


def test_without_a_batch_size_the_lines_count_and_promise_nothing(capsys):
    clock = Clock()
    with ModelProgress(clock=clock) as hook:
        hook("model_start", {"model": "x"})
        clock.now = 5.0
        hook("model_done", {"model": "x", "skipped": False})
    assert capsys.readouterr().err.splitlines() == ["done: x (1, 5 s)"]


# -- the real commands ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def zoo_build(tmp_path_factory):
    """The tiny zoo built through the CLI (about a minute on two busy cores)."""
    out = tmp_path_factory.mktemp("zoo") / "tiny"
    proc = run_cli("zoo", "build", "--profile", "tiny", "--out", str(out), timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out, proc


@pytest.mark.slow
def test_the_zoo_build_names_each_model_with_the_time_so_far_and_how_many_are_left(zoo_build):
    out, proc = zoo_build
    n = len(TINY)
    lines = proc.stderr.splitlines()
    for i, model in enumerate(TINY, start=1):
        step = re.escape(f"[{i}/{n}] {model}: ")
        assert any(re.fullmatch(step + r"building \(\w+\)", ln) for ln in lines), (model, proc.stderr)
        left = f"{n - i} to go" if i < n else "that was the last"
        built = [ln for ln in lines if re.fullmatch(step + r"built in \d+ s \((\d+ min )?\d+ s so far; " + left + r"\)", ln)]
        assert len(built) == 1, (model, proc.stderr)
    # a second build reuses every model, and still says where it is
    again = run_cli("zoo", "build", "--profile", "tiny", "--out", str(out), timeout=300)
    assert again.returncode == 0, again.stderr[-3000:]
    cached = [ln for ln in again.stderr.splitlines() if re.fullmatch(r"\[\d+/\d+\] \S+: cached \(.* so far; .*\)", ln)]
    assert [ln.split("] ")[1].split(":")[0] for ln in cached] == TINY


def _model_lines(stderr: str, ids: list[str]) -> list[re.Match]:
    pattern = re.compile(r"done: (?P<model>\S+) \((?P<i>\d+)/(?P<n>\d+), (?:\d+ min )?\d+ s(?P<left>; .*)?\)")
    found = [m for m in map(pattern.fullmatch, stderr.splitlines()) if m]
    assert [m["model"] for m in found] == ids, stderr
    assert [(int(m["i"]), int(m["n"])) for m in found] == [(i, len(ids)) for i in range(1, len(ids) + 1)], stderr
    assert all(re.fullmatch(r"; about .+ left", m["left"]) for m in found[:-1]), stderr
    assert found[-1]["left"] == "; that was the last", stderr
    return found


@pytest.mark.neo4j
@pytest.mark.slow
def test_ingest_and_eval_print_n_of_N_and_the_time_left(zoo_build, graph):
    out, _ = zoo_build
    ids = load_manifest(out / "manifest.yaml").ids()
    proc = run_cli("ingest", str(out / "manifest.yaml"), *FLAGS, timeout=1200)
    assert proc.returncode == 0, proc.stderr[-3000:]
    _model_lines(proc.stderr, ids)
    assert "analysing the population" in proc.stderr
    assert sorted(r["model"] for r in graph.query("models")) == sorted(ids)

    rerun = run_cli("ingest", str(out / "manifest.yaml"), *FLAGS, timeout=600)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    skipped = [ln for ln in rerun.stderr.splitlines() if ln.startswith("skipped: ")]
    assert skipped == [f"skipped: {m} ({i}/{len(ids)}, already in the graph)" for i, m in enumerate(ids, start=1)]

    ev = run_cli("eval", "--truth", str(out / "truth.json"), "--manifest", str(out / "manifest.yaml"), *FLAGS,
                 "--split", "family", "--fpr", "0.05", timeout=1200)
    assert ev.returncode == 0, ev.stderr[-3000:]
    _model_lines(ev.stderr, ids)


@pytest.mark.slow
def test_transformers_gguf_bar_shows_only_with_verbose(tmp_path):
    from tests.helpers.tiny import smollm2_gguf

    try:
        gguf = smollm2_gguf()
    except FileNotFoundError as e:
        pytest.skip(str(e))
    args = ("extract", str(gguf), "--n-probes", "1", "--max-new-tokens", "2", "--out", str(tmp_path / "dna"))
    env = {"LINEAGE_CACHE_DIR": str(tmp_path / "cache")}
    quiet = run_cli(*args, env=env, timeout=900)
    assert quiet.returncode == 0, quiet.stderr[-3000:]
    assert GGUF_BAR not in quiet.stderr, quiet.stderr[-3000:]
    assert re.search(rf"^done: {re.escape(gguf.stem)} \(1/1, .+; that was the last\)$", quiet.stderr, re.M), quiet.stderr
    shutil.rmtree(tmp_path / "cache")  # the answers again from the model, not the cache: it is loaded again
    loud = run_cli("--verbose", *args, env=env, timeout=900)
    assert loud.returncode == 0, loud.stderr[-3000:]
    assert GGUF_BAR in loud.stderr, loud.stderr[-3000:]
