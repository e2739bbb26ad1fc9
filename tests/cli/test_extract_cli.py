"""`lineage extract` through typer's runner; results checked through the Python API."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from lineage.cli.app import get_app
from lineage.dna.files import dna_filename, load_dna
from tests.helpers.tiny import build_tiny_model


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return build_tiny_model(tmp_path_factory.mktemp("m") / "tiny-gpt2", arch="gpt2", seed=5)


def _run(*args):
    return CliRunner().invoke(get_app(), list(map(str, args)))


def test_extract_writes_one_file_per_model_and_a_summary(tiny, tmp_path):
    out = tmp_path / "dna"
    r = _run("extract", tiny, "--n-probes", 6, "--max-new-tokens", 8, "--batch-size", 3, "--device", "cpu",
             "--out", out, "--cache-dir", tmp_path / "cache", "--format", "json")
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout[r.stdout.index("["):])
    assert rows[0]["model"] == "tiny-gpt2" and rows[0]["cached"] == 0
    d = load_dna(out / dna_filename("tiny-gpt2"))
    assert d.vector.shape == (128,) and d.provenance.n_probes == 6
    assert d.provenance.generation.max_new_tokens == 8 and d.provenance.dtype == "float32"
    # second run: everything from the cache, same vector
    r2 = _run("extract", tiny, "--n-probes", 6, "--max-new-tokens", 8, "--device", "cpu",
              "--out", tmp_path / "dna2", "--cache-dir", tmp_path / "cache", "--format", "json")
    assert r2.exit_code == 0, r2.output
    assert json.loads(r2.stdout[r2.stdout.index("["):])[0]["cached"] == 6
    assert np.array_equal(load_dna(tmp_path / "dna2" / dna_filename("tiny-gpt2")).vector, d.vector)


def test_bad_model_path_is_one_line_error(tmp_path):
    r = _run("extract", tmp_path / "missing", "--out", tmp_path / "o", "--cache-dir", tmp_path / "c")
    assert r.exit_code == 1
    assert "error: model 'missing': path" in r.output and "Traceback" not in r.output


def test_bad_batch_size_is_refused(tiny, tmp_path):
    r = _run("extract", tiny, "--batch-size", "lots", "--cache-dir", tmp_path / "c")
    assert r.exit_code == 1 and "--batch-size" in r.output


def test_help_has_an_example():
    from lineage.cli.extract import extract_cmd

    r = _run("extract", "--help")
    assert r.exit_code == 0 and "Example:" in r.output and "chat-template" in r.output
    assert extract_cmd.__doc__.strip().splitlines()[-1].strip().startswith("Example: lineage extract ")
