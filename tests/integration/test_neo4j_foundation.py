"""The local Neo4j server, the schema bootstrap and the vector index, against the real server."""

from __future__ import annotations

import urllib.request

import numpy as np
import pytest

pytestmark = pytest.mark.neo4j


def test_bolt_round_trip_with_official_driver(settings, graph):
    import neo4j

    with neo4j.GraphDatabase.driver(settings.neo4j_uri, auth=(settings.neo4j_user, settings.resolved_password())) as d:
        records, _, _ = d.execute_query("RETURN $x + 1 AS y", x=41, database_=settings.neo4j_database)
    assert records[0]["y"] == 42


def _schema_signature(rows):
    return sorted((r["name"], r["type"], tuple(r["labels"] or ()), tuple(r["properties"] or ()), r["state"]) for r in rows)


def test_schema_bootstrap_is_idempotent(graph):
    first = _schema_signature(graph.bootstrap_schema())
    second = _schema_signature(graph.bootstrap_schema())
    assert first == second
    names = {r[0] for r in first}
    assert {"model_id", "model_dna"} <= names


def test_vector_index_online_and_knn_returns_right_neighbours(settings, graph):
    rows = {r["name"]: r for r in graph.schema()}
    assert rows["model_dna"]["state"] == "ONLINE"
    assert rows["model_dna"]["config"]["vector.dimensions"] == settings.dna_dim
    rng = np.random.default_rng(0)
    centre = rng.normal(size=settings.dna_dim).astype(np.float32)
    near = [centre + 0.01 * (i + 1) * rng.normal(size=settings.dna_dim).astype(np.float32) for i in range(3)]
    far = [centre + 5.0 + rng.normal(size=settings.dna_dim).astype(np.float32) for _ in range(20)]
    models = [{"id": f"near{i}", "props": {}, "dna": v.tolist()} for i, v in enumerate(near)]
    models += [{"id": f"far{i}", "props": {}, "dna": v.tolist()} for i, v in enumerate(far)]
    graph.query("upsert_run", run_id="run:test", props={})
    graph.write("upsert_models", [{**m, "release_date": None} for m in models], run_id="run:test")
    hits = graph.query("nearest_to_vector", vector=centre.tolist(), k=3)
    assert [h["id"] for h in hits] == ["near0", "near1", "near2"]


def test_browser_page_is_served(settings):
    with urllib.request.urlopen(f"http://127.0.0.1:{settings.http_port}/browser/", timeout=10) as r:
        body = r.read().decode("utf-8", "replace")
        assert r.status == 200
    assert "<html" in body.lower() and "neo4j" in body.lower()


def test_password_file_is_private(settings):
    import stat

    mode = stat.S_IMODE(settings.password_file.stat().st_mode)
    assert mode == 0o600


def test_local_server_listens_on_loopback_only(settings, graph):
    import socket
    import subprocess

    addrs = [a for a in subprocess.run(["hostname", "-I"], capture_output=True, text=True).stdout.split()
             if "." in a and not a.startswith("127.")]
    if not addrs:
        pytest.skip("this machine has no non-loopback IPv4 address to test against")
    for port in (settings.bolt_port, settings.http_port):
        with socket.socket() as s:
            s.settimeout(1)
            assert s.connect_ex(("127.0.0.1", port)) == 0
        with socket.socket() as s:
            s.settimeout(1)
            assert s.connect_ex((addrs[0], port)) != 0, f"port {port} answers on {addrs[0]}"
