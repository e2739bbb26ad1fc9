"""Shared fixtures. Neo4j tests talk to the real server that scripts/test.sh starts
(settings from LINEAGE_* variables); they are skipped with a reason when it is not running."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")


@pytest.fixture(scope="session")
def settings():
    from lineage.settings import load_settings

    return load_settings()


@pytest.fixture(scope="session")
def _graph_session(settings):
    from lineage.graph import server
    from lineage.graph.store import Graph

    if settings.is_local and not server.status(settings).running:
        pytest.skip("Neo4j is not running: run the suite with `bash scripts/test.sh` (it starts one)")
    with Graph(settings) as g:
        g.bootstrap_schema()
        yield g


@pytest.fixture()
def graph(_graph_session):
    """The real graph, emptied before the test (schema kept)."""
    _graph_session.query("clear_graph")
    return _graph_session
