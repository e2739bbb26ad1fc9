"""The local server as a hostile neighbour on the same machine would try it: the default
password never works, the advertised Bolt address is the configured one, state files are
private, and a deleted password file is recovered by `lineage db start` (graph kept)."""

from __future__ import annotations

import os
import shutil
import socket
import stat
from pathlib import Path

import pytest

from tests.helpers.cli import run_cli

pytestmark = pytest.mark.neo4j


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def fresh(tmp_path, settings):
    """Settings for a second, fresh server (own state dir and ports), reusing the jars."""
    from lineage.graph import server
    from lineage.settings import load_settings

    if shutil.which("java") is None:
        pytest.skip("no Java runtime")
    bolt, http = _free_port(), _free_port()
    env = {"LINEAGE_STATE_DIR": str(tmp_path / "state"), "LINEAGE_BOLT_PORT": str(bolt),
           "LINEAGE_HTTP_PORT": str(http), "LINEAGE_NEO4J_URI": f"bolt://127.0.0.1:{bolt}",
           "LINEAGE_HEAP_SIZE": "256m", "LINEAGE_PAGECACHE_SIZE": "64m"}
    s = load_settings(state_dir=tmp_path / "state", bolt_port=bolt, http_port=http,
                      neo4j_uri=env["LINEAGE_NEO4J_URI"], heap_size="256m", pagecache_size="64m")
    lib = server._lib(settings)
    if (lib / ".complete").exists():
        s.neo4j_home.mkdir(parents=True)
        os.symlink(lib, server._lib(s))
    yield s, env
    server.stop(s)


def test_first_start_has_no_default_password_window_and_private_files(fresh):
    import neo4j
    from neo4j.exceptions import AuthError

    from lineage.graph import server

    s, _ = fresh
    # before the first start the password is already decided, and only the user can read it
    server._private_dirs(s)
    server._prepare_auth(s, note=lambda m: None)
    assert stat.S_IMODE(s.password_file.stat().st_mode) == 0o600
    auth = s.neo4j_home / "data" / "dbms" / "auth.ini"
    assert s.password_file.read_text().strip() not in auth.read_text()  # a salted hash, not the password
    server.start(s, note=lambda m: None)
    with pytest.raises(AuthError):
        with neo4j.GraphDatabase.driver(s.neo4j_uri, auth=("neo4j", "neo4j")) as d:
            d.verify_connectivity()
    with neo4j.GraphDatabase.driver(s.neo4j_uri, auth=("neo4j", s.resolved_password())) as d:
        d.verify_connectivity()
    conf = (s.neo4j_home / "conf" / "neo4j.conf").read_text()
    assert f"server.bolt.advertised_address=:{s.bolt_port}" in conf
    assert "server.default_advertised_address=127.0.0.1" in conf
    for d in (s.neo4j_home, s.neo4j_home / "data", s.neo4j_home / "logs", s.neo4j_home / "conf"):
        assert stat.S_IMODE(d.stat().st_mode) == 0o700, d
    exposed = [p for p in (s.neo4j_home / "data").rglob("*") if p.is_file() and p.stat().st_mode & 0o077]
    exposed += [p for p in (s.neo4j_home / "logs").rglob("*") if p.stat().st_mode & 0o077]
    assert not exposed, exposed[:5]


def test_deleted_password_file_is_recovered_by_db_start_and_the_graph_kept(fresh):
    import neo4j

    from lineage.graph import server

    s, env = fresh
    server.start(s)
    with neo4j.GraphDatabase.driver(s.neo4j_uri, auth=("neo4j", s.resolved_password())) as d:
        d.execute_query("CREATE (:Kept {x: 1})")
    server.stop(s)
    s.password_file.unlink()
    proc = run_cli("db", "start", env=env)
    assert proc.returncode == 0, proc.stderr
    assert "password file" in proc.stderr and "new password" in proc.stderr
    assert stat.S_IMODE(s.password_file.stat().st_mode) == 0o600
    with neo4j.GraphDatabase.driver(s.neo4j_uri, auth=("neo4j", s.resolved_password())) as d:
        assert d.execute_query("MATCH (n:Kept) RETURN count(n) AS n").records[0]["n"] == 1
    # deleted while running: `db start` restarts it with a new password
    s.password_file.unlink()
    proc = run_cli("db", "start", env=env)
    assert proc.returncode == 0, proc.stderr
    with neo4j.GraphDatabase.driver(s.neo4j_uri, auth=("neo4j", s.resolved_password())) as d:
        assert d.execute_query("MATCH (n:Kept) RETURN count(n) AS n").records[0]["n"] == 1
