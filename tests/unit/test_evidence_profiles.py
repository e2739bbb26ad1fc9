"""One function builds a model's evidence profiles for ingest and eval; each names its policy
(a real tiny model; seconds)."""

from __future__ import annotations

import shutil

import pytest

from lineage.errors import InputError
from lineage.evidence.logits import logits_profile
from lineage.evidence.profiles import model_evidence
from lineage.evidence.weights import weight_profile
from lineage.manifest import ManifestEntry
from tests.helpers.tiny import build_tiny_model


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("ev")
    good = build_tiny_model(root / "good", hidden=32, layers=1, heads=2)
    no_tokenizer = root / "no-tokenizer"  # weights readable, model not runnable: only the logits channel fails
    shutil.copytree(good, no_tokenizer)
    for f in no_tokenizer.glob("*token*"):
        f.unlink()
    corrupt = root / "corrupt"  # weights unreadable: both channels would fail
    shutil.copytree(good, corrupt)
    (corrupt / "model.safetensors").write_bytes(b"not a safetensors file" * 8)
    return {"good": good, "no-tokenizer": no_tokenizer, "corrupt": corrupt}


def test_a_folder_gets_the_same_profiles_as_each_channel_builds(folders, tmp_path):
    ev = model_evidence(ManifestEntry(id="good", path=folders["good"]), cache_dir=tmp_path, on_error="raise")
    assert not ev.errors and not ev.notes
    assert ev.weights.signature["profile_key"] == weight_profile(folders["good"], cache_dir=tmp_path).signature["profile_key"]
    assert ev.logits.key == logits_profile(folders["good"], cache_dir=tmp_path).key
    only = model_evidence(ManifestEntry(id="good", path=folders["good"]), cache_dir=tmp_path, channels=("dna", "weights"))
    assert only.weights is not None and only.logits is None


def test_record_keeps_the_reason_per_channel(folders, tmp_path):
    ev = model_evidence(ManifestEntry(id="m", path=folders["no-tokenizer"]), cache_dir=tmp_path, on_error="record")
    assert ev.weights is not None and ev.logits is None
    assert set(ev.errors) == {"logits"} and "has no tokenizer" in ev.errors["logits"]
    ev = model_evidence(ManifestEntry(id="m", path=folders["corrupt"]), cache_dir=tmp_path, on_error="record")
    assert ev.weights is None and ev.logits is None
    # as ingest always did: unreadable weights are not loaded a second time to run the text
    assert set(ev.errors) == {"weights"} and "not a valid safetensors file" in ev.errors["weights"]


def test_raise_is_one_input_error_naming_model_channel_and_fix(folders, tmp_path):
    with pytest.raises(InputError, match=r"^model 'm': .*has no tokenizer.* \(logits channel\)$") as e:
        model_evidence(ManifestEntry(id="m", path=folders["no-tokenizer"]), cache_dir=tmp_path, on_error="raise")
    assert "save the tokenizer" in e.value.hint and "without the logits channel" in e.value.hint
    with pytest.raises(InputError, match=r"^model 'm': model.safetensors is not a valid .* \(weights channel\)$"):
        model_evidence(ManifestEntry(id="m", path=folders["corrupt"]), cache_dir=tmp_path, on_error="raise")
    # a channel left out is never built, so it cannot fail
    ev = model_evidence(ManifestEntry(id="m", path=folders["corrupt"]), cache_dir=tmp_path, channels=("dna",))
    assert ev.weights is None and ev.logits is None and not ev.errors


def test_sources_without_local_weights_have_no_channel_and_no_error(tmp_path):
    for entry in (ManifestEntry(id="hub", hub_id="org/model"), ManifestEntry(id="dna", dna=tmp_path / "x.dna.json"),
                  ManifestEntry(id="empty", path=tmp_path)):
        for policy in ("raise", "record"):
            ev = model_evidence(entry, cache_dir=tmp_path, on_error=policy)
            assert (ev.weights, ev.logits, ev.errors, ev.notes) == (None, None, {}, {})
    with pytest.raises(ValueError, match="on_error"):
        model_evidence(ManifestEntry(id="hub", hub_id="org/model"), cache_dir=tmp_path, on_error="ignore")
