"""Extraction on a local Ray cluster: the same DNAs as in-process, and a killed worker retried.

The cluster (2 CPUs) is started and stopped by the module fixture; Ray is an optional
extra, so the module is skipped with the reason when it is not installed.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

pytestmark = pytest.mark.slow
ray = pytest.importorskip("ray", reason="Ray is not installed (optional extra: pip install 'lineage[ray]')")

from lineage.dna.executors import LocalExecutor, RayExecutor, extract_all  # noqa: E402
from lineage.dna.extract import ExtractConfig, Extractor  # noqa: E402
from lineage.dna.record import DNA, GenerationConfig  # noqa: E402
from lineage.manifest import load_manifest  # noqa: E402
from tests.helpers.ray_faults import DieOnce  # noqa: E402

N_PROBES, MAX_NEW = 20, 16


@pytest.fixture(scope="module")
def zoo(tmp_path_factory):
    from lineage.zoo import build_zoo

    return build_zoo(profile="tiny", seed=0, out=tmp_path_factory.mktemp("zoo") / "tiny")


@pytest.fixture(scope="module")
def cluster():
    for attempt in (1, 2, 3):  # ray-project/ray#65983: the raylet gives its agents 15 s, then aborts
        try:
            ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
            break
        except Exception:
            ray.shutdown()
            if attempt == 3:
                raise
    yield
    ray.shutdown()


def _config(**kw) -> ExtractConfig:
    return ExtractConfig(n_probes=N_PROBES, generation=GenerationConfig(max_new_tokens=MAX_NEW), **kw)


def _run(executor, entries, cache_dir, config):
    config = executor.configure(config)
    ex = Extractor(config, cache_dir=cache_dir)
    return list(extract_all(ex, entries, executor)), ex


def test_ray_gives_the_same_dnas_as_local(zoo, cluster, tmp_path):
    entries = load_manifest(zoo.manifest_path).models
    local, _ = _run(LocalExecutor(), entries, tmp_path / "cache-local", _config())
    remote, ex = _run(RayExecutor(), entries, tmp_path / "cache-ray", _config())  # own cache: really generated
    assert [e.id for e, _ in remote] == [e.id for e in entries]  # in the order asked for
    for (e, a), (_, b) in zip(local, remote):
        assert isinstance(a, DNA) and isinstance(b, DNA), (e.id, a, b)
        assert a.provenance == b.provenance
        np.testing.assert_array_equal(a.vector, b.vector, err_msg=e.id)
        assert (a.n_empty, a.degenerate) == (b.n_empty, b.degenerate)
    # the reports came back through Ray: every answer generated on a worker, none cached
    assert [r.model_id for r in ex.reports] == [e.id for e in entries]
    assert all(r.n_generated == N_PROBES and r.n_cached == 0 for r in ex.reports)
    # the ray run wrote the same answers into its own cache as the local run did
    answers = lambda d: sorted(json.loads(p.read_text())["answers"].__repr__() for p in (d / "responses").glob("*.json"))
    assert answers(tmp_path / "cache-ray") == answers(tmp_path / "cache-local")


def test_extract_dna_on_ray_reports_each_model_and_leaves_the_session_running(zoo, cluster, tmp_path):
    """What `lineage extract --executor ray` calls: reports come back from the workers (here all
    answers are cached by a local run first), files are written here, and a Ray session the
    caller started is still up afterwards."""
    from lineage.dna.batch import extract_dna

    entries = load_manifest(zoo.manifest_path).models[:2]
    local = extract_dna(entries, config=_config(), cache_dir=tmp_path / "cache")
    events = []
    remote = extract_dna(entries, config=_config(), cache_dir=tmp_path / "cache", out=tmp_path / "dna",
                         executor="ray", progress=lambda event, info: events.append((event, info.get("model"))))
    assert [r.dna.model_id for r in remote] == [r.report.model_id for r in remote] == [e.id for e in entries]
    assert all(r.report.n_cached == N_PROBES and r.report.n_generated == 0 for r in remote)
    for a, b in zip(local, remote):
        np.testing.assert_array_equal(a.dna.vector, b.dna.vector)
        assert b.path.parent == tmp_path / "dna" and b.path.exists()
    assert [m for e, m in events if e == "model_done"] == [e.id for e in entries]
    assert ray.is_initialized()


def test_a_model_that_fails_on_a_worker_is_returned_as_its_error(zoo, cluster, tmp_path):
    from lineage.errors import ModelLoadError
    from lineage.manifest import ManifestEntry

    good = load_manifest(zoo.manifest_path).models[0]
    bad = ManifestEntry(id="missing", path=tmp_path / "no-such-model")
    [(e1, r1), (e2, r2)], _ = _run(RayExecutor(), [bad, good], tmp_path / "cache", _config())
    assert e1.id == "missing" and isinstance(r1, ModelLoadError) and "does not exist" in r1.message
    assert e2.id == good.id and isinstance(r2, DNA)


def test_a_killed_worker_is_retried_and_nothing_generated_twice(zoo, cluster, tmp_path):
    entries = load_manifest(zoo.manifest_path).models[:1]
    victim = entries[0].id
    cfg = _config(batch_size=5)  # 4 batches: the worker dies after the second one is cached
    marker = tmp_path / "died"
    got, ex = _run(RayExecutor(task=DieOnce(marker, victim, after=10), max_retries=2), entries,
                   tmp_path / "cache-ray", cfg)
    assert marker.is_file(), "the first attempt did not die"
    assert all(isinstance(r, DNA) for _, r in got), got
    rep = {r.model_id: r for r in ex.reports}
    assert rep[victim].n_cached == 10 and rep[victim].n_generated == 10  # the retry resumed from the cache
    local, _ = _run(LocalExecutor(), entries, tmp_path / "cache-local", cfg)
    for (e, a), (_, b) in zip(local, got):
        np.testing.assert_array_equal(a.vector, b.vector, err_msg=e.id)


def test_retries_exhausted_records_the_model_as_failed(zoo, cluster, tmp_path):
    from lineage.errors import GenerationError

    entry = load_manifest(zoo.manifest_path).models[0]
    marker = tmp_path / "died"
    [(e, r)], _ = _run(RayExecutor(task=DieOnce(marker, entry.id, after=0), max_retries=0), [entry],
                    tmp_path / "cache", _config(batch_size=10))
    assert isinstance(r, GenerationError) and "retries ran out" in r.message


@pytest.mark.neo4j
def test_ingest_on_ray_with_a_killed_worker_completes_the_graph(settings, graph, zoo, cluster, tmp_path):
    from lineage.pipeline.ingest import ingest

    s = settings.model_copy(update={"cache_dir": tmp_path / "cache"})  # a fresh cache: workers really generate
    full = load_manifest(zoo.manifest_path)
    batch = full.model_copy(update={"models": full.models[:4]})  # 4 models keep it short; enough for a tree
    ids = batch.ids()
    marker = tmp_path / "died"
    rep = ingest(batch, settings=s, extract_config=_config(batch_size=5),
                 executor=RayExecutor(task=DieOnce(marker, ids[2], after=10)))
    assert marker.is_file(), "the first attempt did not die"
    assert rep.n_models == rep.n_extracted == len(ids) and rep.n_failed == 0, rep.failures
    assert sorted(r["model"] for r in graph.query("models")) == sorted(ids)
    for model_id in ids:
        info = graph.query("model_info", model_id=model_id)[0]
        assert info["has_dna"] and info["status"] == "ok", model_id
    # the graph is written once, idempotently: a rerun on Ray skips every model
    again = ingest(batch, settings=s, extract_config=_config(batch_size=5), executor="ray")
    assert again.n_skipped == len(ids) and again.n_extracted == 0 and again.run_id == rep.run_id
