"""`lineage db` against real servers: errors users make, and restarts that keep data."""

from __future__ import annotations

import socket

import pytest

from tests.helpers.cli import assert_one_line_error, run_cli


@pytest.mark.neo4j
def test_wrong_password_is_one_line_error(settings):
    proc = run_cli("db", "init", env={"NEO4J_PASSWORD": "definitely-wrong-pw"})
    line = assert_one_line_error(proc, "refused the credentials")
    assert "definitely-wrong-pw" not in proc.stderr + proc.stdout


def test_unreachable_server_points_at_db_start(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]
    proc = run_cli("db", "init", env={"LINEAGE_STATE_DIR": str(tmp_path), "LINEAGE_BOLT_PORT": str(free),
                                       "LINEAGE_NEO4J_URI": f"bolt://127.0.0.1:{free}", "NEO4J_PASSWORD": "x" * 12})
    assert_one_line_error(proc, "cannot reach Neo4j")
    assert "lineage db start" in proc.stderr


def test_db_start_reports_port_taken(tmp_path):
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen(1)
        port = blocker.getsockname()[1]
        proc = run_cli("db", "start", env={"LINEAGE_STATE_DIR": str(tmp_path), "LINEAGE_BOLT_PORT": str(port),
                                            "LINEAGE_HTTP_PORT": str(port + 1)})
    assert_one_line_error(proc, f"port {port}", "already in use")
    assert not (tmp_path / "neo4j" / "neo4j.pid").exists()


def test_settings_precedence(tmp_path, monkeypatch):
    from lineage.settings import load_settings

    cfg = tmp_path / "config.toml"
    cfg.write_text('neo4j_uri = "bolt://from-file:7687"\nneo4j_user = "file-user"\nneo4j_database = "filedb"\n')
    monkeypatch.setenv("LINEAGE_CONFIG", str(cfg))
    for v in ("NEO4J_URI", "LINEAGE_NEO4J_URI", "NEO4J_USER", "LINEAGE_NEO4J_USER", "NEO4J_DATABASE", "LINEAGE_NEO4J_DATABASE"):
        monkeypatch.delenv(v, raising=False)
    s = load_settings()
    assert (s.neo4j_uri, s.neo4j_user, s.neo4j_database) == ("bolt://from-file:7687", "file-user", "filedb")
    monkeypatch.setenv("NEO4J_URI", "bolt://from-env:7687")
    assert load_settings().neo4j_uri == "bolt://from-env:7687"
    assert load_settings(neo4j_uri="bolt://from-flag:7687").neo4j_uri == "bolt://from-flag:7687"
    assert load_settings(neo4j_uri=None).neo4j_uri == "bolt://from-env:7687"
    assert load_settings().neo4j_user == "file-user"


@pytest.mark.neo4j
@pytest.mark.slow
def test_second_server_start_twice_stop_start_keeps_data(tmp_path):
    """A separate server on its own ports: start, start again (harmless), write, stop, start, read back."""
    with socket.socket() as a, socket.socket() as b:
        a.bind(("127.0.0.1", 0)); b.bind(("127.0.0.1", 0))
        bolt, http = a.getsockname()[1], b.getsockname()[1]
    env = {"LINEAGE_STATE_DIR": str(tmp_path), "LINEAGE_BOLT_PORT": str(bolt), "LINEAGE_HTTP_PORT": str(http),
           "LINEAGE_NEO4J_URI": f"bolt://127.0.0.1:{bolt}", "LINEAGE_HEAP_SIZE": "512m", "LINEAGE_PAGECACHE_SIZE": "128m"}
    try:
        first = run_cli("db", "start", env=env)
        assert first.returncode == 0, first.stderr
        again = run_cli("db", "start", env=env)
        assert again.returncode == 0 and "already running" in again.stderr
        status = run_cli("db", "status", "--format", "json", env=env)
        assert status.returncode == 0 and '"running": true' in status.stdout and "5.26" in status.stdout
        from lineage.graph.store import Graph
        from lineage.settings import load_settings

        s = load_settings(state_dir=tmp_path, bolt_port=bolt, http_port=http, neo4j_uri=f"bolt://127.0.0.1:{bolt}")
        with Graph(s) as g:
            g.query("upsert_run", run_id="run:test", props={})
            g.write("upsert_models", [{"id": "kept", "props": {"family": "f"}, "dna": [0.5] * s.dna_dim,
                                       "release_date": None}], run_id="run:test")
        assert run_cli("db", "stop", env=env).returncode == 0
        assert run_cli("db", "status", env=env).returncode == 1
        assert run_cli("db", "start", env=env).returncode == 0
        with Graph(s) as g:
            rows = g.query("model_info", model_id="kept")
        assert rows and rows[0]["family"] == "f"
    finally:
        run_cli("db", "stop", env=env)
