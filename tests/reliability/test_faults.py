"""Faults: an unusable cache, a full disk, and Neo4j killed in the middle of an ingest.
For each, what was lost must be nothing."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.cli import assert_one_line_error, drain, run_cli, wait_for_lines
from tests.helpers.tiny import build_tiny_model


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return build_tiny_model(tmp_path_factory.mktemp("m") / "tiny-fault", arch="gpt2", seed=3)


def test_cache_dir_that_cannot_be_created_is_a_clear_error(tiny, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    proc = run_cli("extract", str(tiny), "--n-probes", "4", "--max-new-tokens", "4", "--out", str(tmp_path / "out"),
                   env={"LINEAGE_CACHE_DIR": str(blocker / "cache")})
    assert_one_line_error(proc, str(blocker))


@pytest.fixture()
def full_disk(tmp_path):
    """A 64 KiB tmpfs filled to the last byte: folders can be made, files cannot grow."""
    mnt = tmp_path / "full"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mnt)], capture_output=True).returncode:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        filler = mnt / "filler"
        with open(filler, "wb", buffering=0) as f:
            try:
                while True:
                    f.write(b"\0" * 512)
            except OSError:
                pass
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def test_disk_full_is_a_clear_error_and_leaves_no_corrupt_entry(tiny, full_disk, tmp_path):
    proc = run_cli("extract", str(tiny), "--n-probes", "40", "--max-new-tokens", "16", "--out", str(tmp_path / "out"),
                   env={"LINEAGE_CACHE_DIR": str(full_disk / "cache")})
    assert_one_line_error(proc, "No space left on device")  # whichever write fails first (the cache key, an entry)
    leftovers = [p for p in full_disk.rglob("*") if p.is_file() and p.name != "filler"]
    for p in leftovers:  # whatever is there is complete, valid JSON; no temp files remain
        assert not p.name.endswith(".tmp"), p
        json.loads(p.read_text())
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").glob("*.dna.json"))


def _free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


@pytest.mark.neo4j
@pytest.mark.slow
def test_neo4j_killed_mid_ingest_then_rerun_completes(tmp_path):
    from lineage.graph import server
    from lineage.graph.store import Graph
    from lineage.manifest import load_manifest
    from lineage.settings import load_settings
    from lineage.zoo import build_zoo

    zoo = build_zoo(profile="tiny", seed=0, out=tmp_path / "zoo")
    bolt, http = _free_ports(2)
    env = {**os.environ, "LINEAGE_STATE_DIR": str(tmp_path / "state"), "LINEAGE_BOLT_PORT": str(bolt),
           "LINEAGE_HTTP_PORT": str(http), "LINEAGE_NEO4J_URI": f"bolt://127.0.0.1:{bolt}",
           "LINEAGE_CACHE_DIR": str(tmp_path / "cache"), "LINEAGE_HEAP_SIZE": "512m", "LINEAGE_PAGECACHE_SIZE": "128m"}
    env.pop("LINEAGE_DEBUG", None)
    s = load_settings(state_dir=tmp_path / "state", bolt_port=bolt, http_port=http,
                      neo4j_uri=f"bolt://127.0.0.1:{bolt}", cache_dir=tmp_path / "cache")
    ingest_cmd = [sys.executable, "-m", "lineage", "ingest", str(zoo.manifest_path), "--n-probes", "20",
                  "--max-new-tokens", "16"]
    try:
        server.start(s)
        proc = subprocess.Popen(ingest_cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        # ingest prints "done: <id>" per model written (stderr is a pipe): wait for two
        wait_for_lines(proc, "done: ", 2, timeout=300)
        assert proc.poll() is None, "ingest ended before Neo4j could be killed"
        pid = server.status(s).pid
        os.kill(pid, signal.SIGKILL)  # the database dies mid-ingest
        proc.wait(timeout=300)
        err = drain(proc)
        assert proc.returncode == 1 and "Traceback" not in err, err
        errors = [ln for ln in err.splitlines() if ln.startswith("error:")]
        assert len(errors) == 1 and "Neo4j" in errors[0], err
        server.start(s)  # recovers from its transaction log
        with Graph(s) as g:
            for r in g.query("models"):  # nothing half-written survived the crash
                assert g.query("model_info", model_id=r["model"])[0]["has_dna"]
        done = subprocess.run(ingest_cmd, env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr
        ids = load_manifest(zoo.manifest_path).ids()
        with Graph(s) as g:
            listed = sorted(r["model"] for r in g.query("models"))
            assert listed == sorted(ids)
            assert all(g.query("model_info", model_id=i)[0]["has_dna"] for i in ids)
    finally:
        server.stop(s)
