"""`lineage tree` and `lineage eval` on DNA files written with save_dna."""

import json

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from lineage.cli.app import get_app
from lineage.core.score.simulate import simulate_population
from lineage.dna.record import DNA, GenerationConfig, Provenance
from lineage.dna.files import dna_filename, save_dna

PROV = Provenance(probe_set="test", probe_hash="0" * 16, n_probes=20, generation=GenerationConfig(),
                  dtype="float32", encoder="minilm", row_reduction="projection")


@pytest.fixture(scope="module")
def zoo(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("zoo")
    pop = simulate_population(40, n_families=5, p_wrong=0.1, random_state=4)
    paths = []
    for m, v, f in zip(pop.ids, pop.X, pop.families):
        paths.append(str(save_dna(DNA(model_id=m, vector=v, provenance=PROV, meta={"family": f}),
                                  tmp / "dna" / dna_filename(m))))
    (tmp / "truth.json").write_text(json.dumps(pop.truth_dict()))
    entries = [
        {"id": m, "dna": p, "family": f, "release_date": d.isoformat(), "base_model": dp,
         "base_model_relation": r}
        for m, p, f, d, dp, r in zip(pop.ids, paths, pop.families, pop.release_dates,
                                     pop.declared_parents, pop.declared_relations)
    ]
    (tmp / "manifest.yaml").write_text(yaml.safe_dump({"models": entries}))
    return tmp, pop, paths


def test_tree_writes_newick_png_svg(zoo):
    tmp, pop, paths = zoo
    out = tmp / "tree"
    r = CliRunner().invoke(get_app(), ["tree", *paths, "--out", str(out), "--format", "json"])
    assert r.exit_code == 0, r.output
    rows = {x["field"]: x["value"] for x in json.loads(r.stdout)}
    assert rows["models"] == 40 and rows["families"] == 5
    nwk = (out / "tree.nwk").read_text()
    assert all(f"'{m}'" in nwk for m in pop.ids)
    assert (out / "tree.png").read_bytes()[:4] == b"\x89PNG"
    assert "<svg" in (out / "tree.svg").read_text()[:2000]


def test_tree_outgroup_from_manifest_and_upgma(zoo):
    tmp, pop, paths = zoo
    r = CliRunner().invoke(get_app(), ["tree", *paths, "--out", str(tmp / "t2"), "--root", "outgroup",
                                       "--manifest", str(tmp / "manifest.yaml"), "--method", "upgma",
                                       "--format", "json"])
    assert r.exit_code == 0, r.output
    oldest = min(zip(pop.release_dates, pop.ids))[1]
    assert {x["field"]: x["value"] for x in json.loads(r.stdout)}["root"] == f"outgroup {oldest}"


def test_tree_bad_input_is_one_line_error(zoo, tmp_path):
    _, _, paths = zoo
    r = CliRunner().invoke(get_app(), ["tree", *paths[:2], "--out", str(tmp_path)])
    assert r.exit_code == 1 and "need at least 3 DNA files" in r.output and "Traceback" not in r.output
    r = CliRunner().invoke(get_app(), ["tree", *paths, "--out", str(tmp_path), "--method", "ml"])
    assert r.exit_code == 1 and "'--method': 'ml' is not one of 'nj', 'upgma'" in r.output


def test_eval_prints_the_table(zoo):
    tmp, pop, paths = zoo
    r = CliRunner().invoke(get_app(), ["eval", "--truth", str(tmp / "truth.json"), "--manifest",
                                       str(tmp / "manifest.yaml"), *paths, "--n-splits", "3", "--format", "json"])
    assert r.exit_code == 0, r.output
    rows = {x["metric"]: x for x in json.loads(r.stdout)}
    for key in ("parent_directed_accuracy", "parent_undirected_accuracy", "robinson_foulds_normalised",
                "related_null_by_model_f1", "related_null_by_family_auc", "undocumented_precision",
                "conflict_recall"):
        assert key in rows
    assert rows["parent_directed_accuracy"]["n"] == sum(1 for p in pop.true_parents if p)


def test_eval_refuses_dna_missing_from_truth(zoo, tmp_path):
    tmp, pop, paths = zoo
    stray = save_dna(DNA(model_id="stranger", vector=np.linspace(-1, 1, 128, dtype=np.float32), provenance=PROV),
                     tmp_path / "s.dna.json")
    r = CliRunner().invoke(get_app(), ["eval", "--truth", str(tmp / "truth.json"), *paths, str(stray)])
    assert r.exit_code == 1 and "'stranger'" in r.output


def test_a_folder_of_dna_files_stands_for_its_files(zoo, tmp_path):
    tmp, pop, paths = zoo
    r = CliRunner().invoke(get_app(), ["tree", str(tmp / "dna"), "--out", str(tmp / "tree-from-folder"),
                                       "--format", "json"])
    assert r.exit_code == 0, r.output
    assert {x["field"]: x["value"] for x in json.loads(r.stdout)}["models"] == 40
    (tmp_path / "empty").mkdir()
    r = CliRunner().invoke(get_app(), ["tree", str(tmp_path / "empty"), "--out", str(tmp_path / "t")])
    assert r.exit_code == 1 and "holds no .dna.json files" in r.output


def test_eval_manifest_mode_refuses_bad_channels_and_a_missing_manifest(zoo):
    tmp, pop, paths = zoo
    truth = str(tmp / "truth.json")
    for bad in ("weights", "dna,foo", "dna,weights,logit"):
        r = CliRunner().invoke(get_app(), ["eval", "--truth", truth, "--manifest", str(tmp / "manifest.yaml"),
                                           "--channels", bad])
        assert r.exit_code == 1 and "--channels takes dna plus any of weights, logits" in r.output, (bad, r.output)
        assert "Traceback" not in r.output
    r = CliRunner().invoke(get_app(), ["eval", "--truth", truth])  # neither DNA files nor a manifest
    assert r.exit_code == 1 and "give DNA files or --manifest" in r.output
