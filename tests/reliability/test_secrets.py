"""Secrets never reach the graph or the terminal: credentials in endpoint URLs are refused
before anything is written, settings errors never echo values, URIs are printed redacted."""

from __future__ import annotations

import pytest

from tests.helpers.cli import assert_one_line_error, run_cli
from tests.reliability._hostile import jsonl

SECRET = "s3cr3t-T0KEN-never-print"

URLS = {
    "userinfo": f"http://alice:{SECRET}@127.0.0.1:9/v1",
    "token_only": f"https://{SECRET}@api.example.com/v1",
    "query_key": f"https://api.example.com/v1?api_key={SECRET}",
    "query_token": f"https://api.example.com/v1?foo=1&access_token={SECRET}",
    # a secret needs no telling name, and a fragment is where OAuth puts tokens
    "fragment_token": f"https://api.example.com/v1#access_token={SECRET}",
    "query_k": f"https://api.example.com/v1?k={SECRET}",
    "query_code": f"https://api.example.com/v1?code={SECRET}",
    "query_secret_as_name": f"https://api.example.com/v1?{SECRET}",
    "allowed_then_other": f"https://api.example.com/v1?api-version=2024-06-01&x={SECRET}",
    "secret_in_api_version": f"https://api.example.com/v1?api-version=-{SECRET}",
}


@pytest.mark.neo4j
@pytest.mark.parametrize("case", sorted(URLS))
def test_endpoint_url_with_credentials_is_refused_and_never_stored(case, tmp_path, graph):
    rows = [{"id": "remote", "endpoint": URLS[case], "endpoint_model": "m"}]
    proc = run_cli("ingest", str(jsonl(tmp_path / "m.jsonl", rows)))
    assert_one_line_error(proc, "entry 1", "api_key_env")
    assert SECRET not in proc.stderr + proc.stdout
    assert graph.query("graph_counts") == []


def test_endpoint_source_refuses_credentials_itself():
    from lineage.errors import ModelLoadError
    from lineage.loaders.endpoint import EndpointSource

    with pytest.raises(ModelLoadError) as e:
        EndpointSource("m", endpoint=URLS["userinfo"], endpoint_model="x")
    assert SECRET not in str(e.value) and "api_key_env" in e.value.hint


def test_an_ordinary_query_string_is_allowed():
    from lineage.manifest import ManifestEntry

    e = ManifestEntry(id="a", endpoint="https://x.example/v1?api-version=2024-06-01", endpoint_model="m")
    assert e.endpoint.endswith("2024-06-01")


def test_uri_with_credentials_is_printed_redacted(tmp_path):
    proc = run_cli("query", "models", env={"LINEAGE_NEO4J_URI": f"bolt://neo4j:{SECRET}@127.0.0.1:9",
                                           "NEO4J_PASSWORD": "x", "LINEAGE_CONFIG": str(tmp_path / "none.toml")})
    assert_one_line_error(proc, "bolt://127.0.0.1:9", "carries credentials")
    assert SECRET not in proc.stderr + proc.stdout


@pytest.mark.parametrize("value", [f"['{SECRET}']", f"{{a = '{SECRET}'}}", "true"])
def test_wrong_type_in_config_file_never_echoes_it(value, tmp_path):
    cfg = tmp_path / "config.toml"
    cfg.write_text(f"neo4j_password = {value}\nstate_dir = {value}\n")
    proc = run_cli("db", "status", env={"LINEAGE_CONFIG": str(cfg)})
    assert_one_line_error(proc, "invalid setting")
    assert SECRET not in proc.stderr + proc.stdout


def test_load_settings_itself_never_echoes_a_value(monkeypatch):
    from lineage.errors import ConfigError
    from lineage.settings import load_settings

    with pytest.raises(ConfigError) as e:
        load_settings(neo4j_password=[SECRET], bolt_port=SECRET)
    assert SECRET not in str(e.value) and "bolt_port" in str(e.value)


@pytest.mark.parametrize("content", [b"bolt_port = \n", b"[[[\n", b"neo4j_password = 'caf\xe9'\n"],
                         ids=["no_value", "bad_table", "not_utf8"])
def test_malformed_config_file_is_one_line(content, tmp_path):
    cfg = tmp_path / "config.toml"
    cfg.write_bytes(content)
    assert_one_line_error(run_cli("db", "status", env={"LINEAGE_CONFIG": str(cfg)}), str(cfg))


def test_config_path_that_is_a_directory(tmp_path):
    assert_one_line_error(run_cli("db", "status", env={"LINEAGE_CONFIG": str(tmp_path)}), "is a directory")
