"""Executor choice without Ray: local is the default and Ray is never imported unless asked for."""

from __future__ import annotations

import subprocess
import sys

import pytest

from lineage.dna.executors import LocalExecutor, RayExecutor, make_executor
from lineage.errors import ConfigError


def test_local_is_default_and_ray_is_lazy():
    assert isinstance(make_executor(), LocalExecutor)
    assert isinstance(make_executor("ray", address="head:6379"), RayExecutor)  # nothing connects yet
    ex = RayExecutor(task=None)
    assert make_executor(ex) is ex
    code = ("import sys, lineage.dna.executors, lineage.pipeline.ingest, lineage.cli.app; "
            "from lineage.dna.executors import make_executor; make_executor('ray'); "
            "print('ray' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_address_without_ray_and_unknown_executor_are_one_line_errors():
    with pytest.raises(ConfigError, match="a cluster address is for the ray executor"):
        make_executor("local", address="head:6379")
    with pytest.raises(ConfigError, match="unknown executor"):
        make_executor("dask")


def test_local_configure_keeps_the_config():
    from lineage.dna.extract import ExtractConfig

    cfg = ExtractConfig(n_probes=3)
    assert LocalExecutor().configure(cfg) is cfg and LocalExecutor().configure(None) is None
