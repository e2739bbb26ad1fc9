"""The licence table, the pure inheritance of obligations along parent edges, policy parsing
and SARIF output: no database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lineage.errors import InputError, PolicyError
from lineage.licences.inherit import inherit_obligations
from lineage.licences.policy import (CheckResult, check_param_types, findings_from_rows, load_policy, parse_policy,
                                     resolve_policy)
from lineage.licences.sarif import to_sarif
from lineage.licences.table import CONFLICT_KINDS, KINDS, load_table, parse_table

ROOT = Path(__file__).resolve().parents[2]
ISSUE_LICENCES = ("apache-2.0", "mit", "bsd-3-clause", "cc-by-4.0", "cc-by-sa-4.0", "cc-by-nc-4.0", "cc-by-nc-sa-4.0",
                  "openrail", "creativeml-openrail-m", "bigscience-openrail-m", "bigscience-bloom-rail-1.0", "llama2",
                  "llama3", "llama3.1", "llama3.2", "llama3.3", "gemma", "tongyi-qianwen", "qwen-research",
                  "mistral-research", "other")


@pytest.fixture(scope="module")
def table():
    return load_table()


# -- the table ------------------------------------------------------------------------------
def test_every_entry_cites_its_clauses_and_the_issue_list_is_covered(table):
    assert set(ISSUE_LICENCES) <= {lic.id for lic in table}
    for lic in table:
        assert lic.url.startswith("https://") and lic.checked and lic.name, lic.id
        for o in lic.obligations:
            assert o.kind in KINDS and o.clause.strip() and len(o.summary) > 30, (lic.id, o)
        if lic.known:
            assert lic.obligations, lic.id  # every identified licence says what it asks
    # every kind of obligation appears in the table
    assert {o.kind for lic in table for o in lic.obligations} == set(KINDS)


def test_spdx_ids_are_valid_spdx(table):
    from lineage.export.data import spdx_licence

    for lic in table:
        if lic.spdx is not None:
            assert spdx_licence(lic.spdx) == lic.spdx, lic.id
        else:
            assert spdx_licence(lic.expression) != lic.id  # a LicenseRef, never passed off as an SPDX id
            assert lic.expression.startswith("LicenseRef-lineage-")


@pytest.mark.parametrize("text, expected", [
    ("apache-2.0", "apache-2.0"), ("Apache-2.0", "apache-2.0"), ("Apache 2.0", "apache-2.0"), ("APACHE_2.0", "apache-2.0"),
    ("  MIT ", "mit"), ("CC-BY-NC-4.0", "cc-by-nc-4.0"), ("cc by-nc 4.0", "cc-by-nc-4.0"), ("llama3.1", "llama3.1"),
    ("Llama-3.1", "llama3.1"), ("llama2", "llama2"), ("gemma", "gemma"), ("LicenseRef-gemma", "gemma"),
    ("license-mit", "mit"), ("openrail++", "openrail++"), ("bigscience-openrail-m", "bigscience-openrail-m"),
    ("mrl", "mistral-research"), ("qwen-research", "qwen-research")])
def test_lookup_tolerates_case_and_aliases(table, text, expected):
    m = table.lookup(text)
    assert (m.status, m.id) == ("known", expected)


def test_unknown_strings_are_unknown_never_guessed(table):
    for text in ("apache", "llama", "llama4", "Totally Custom v9", "gpl"):
        m = table.lookup(text)
        assert (m.status, m.licence, m.raw) == ("unknown", None, text)
    assert table.lookup(None).status == "none" and table.lookup("  ").status == "none"
    assert (table.lookup("other").status, table.lookup("other").id) == ("unidentified", "other")


@pytest.mark.parametrize("text, status, expected", [
    ("other: llama3", "known", "llama3"), ("Other: Llama-3.1", "known", "llama3.1"),
    ("other:  Apache 2.0 ", "known", "apache-2.0"), ("other: cc-by-nc-4.0", "known", "cc-by-nc-4.0"),
    ("other: my-licence", "unknown", None), ("other: apache", "unknown", None), ("other", "unidentified", "other")])
def test_other_with_a_licence_name_is_looked_up_by_the_name(table, text, status, expected):
    """The Hub's `license: other` + `license_name: x` (stored `other: x`): x is read against the
    table and its aliases; a name the table lacks is unknown, as written, never guessed."""
    m = table.lookup(text)
    assert (m.status, m.id, m.raw) == (status, expected, text)


def test_the_card_reader_keeps_the_licence_name_of_license_other(tmp_path):
    from lineage.loaders.metadata import read_card

    def card(front: str):
        (tmp_path / "README.md").write_text(f"---\n{front}---\n")
        md = read_card(tmp_path)
        return [(f.value, f.source) for f in md.facts if f.field == "licence"], md.warnings

    assert card("license: other\nlicense_name: my-licence\nlicense_link: LICENSE\n") == (
        [("other: my-licence", "card:license_name")], [])
    assert card("license: Other\nlicense_name: llama3\n") == ([("other: llama3", "card:license_name")], [])
    assert card("license: other\n") == ([("other", "card:license")], [])
    assert card("license: other\nlicense_name: ['x']\n") == ([("other", "card:license")], [])
    # a license_name beside a named licence changes nothing: the card's `license:` is the licence
    assert card("license: mit\nlicense_name: my-licence\n") == ([("mit", "card:license")], [])


def test_licence_other_with_an_unknown_name_is_never_permissive(table):
    """A model under `other: my-licence` keeps no inherited term it cannot be shown to keep
    (unverified, not kept or dropped), counts as unknown, and its descendants inherit unknown
    terms from it; `other: cc-by-nc-4.0` is read as CC BY-NC."""
    models = [_m("nc", "cc-by-nc-4.0"), _m("mine", "other: my-licence"), _m("named", "other: cc-by-nc-4.0"),
              _m("below", "apache-2.0")]
    edges = [_declared("mine", "nc"), _declared("named", "nc"), _declared("below", "mine")]
    out = inherit_obligations(models, edges, table)
    assert _status(models, edges, "mine", "non_commercial", table)["status"] == "unverified"
    assert _status(models, edges, "named", "non_commercial", table)["status"] == "kept"
    stats = {r["id"]: r for r in out["models"]}
    assert (stats["mine"]["licence_status"], stats["mine"]["licence_id"]) == ("unknown", None)
    assert (stats["named"]["licence_status"], stats["named"]["licence_id"]) == ("known", "cc-by-nc-4.0")
    unknown = _inherited(out, "below", "unknown_terms")
    assert [(r["origin"], r["status"]) for r in unknown] == [("mine", "unverified")]
    assert "'other: my-licence'" in unknown[0]["reason"]
    # the non-commercial terms of "nc" still reach "below" through "mine", and it drops them
    assert _status(models, edges, "below", "non_commercial", table)["status"] == "dropped"


def test_table_refuses_an_ambiguous_alias_and_a_bad_obligation():
    entry = dict(name="A", url="https://a", commercial=True, outputs="free", checked="x", obligations=[])
    with pytest.raises(InputError, match="names both"):
        parse_table({"licences": {"a": {**entry, "aliases": ["x"]}, "b": {**entry, "aliases": ["X"]}}})
    with pytest.raises(InputError, match="needs a kind"):
        parse_table({"licences": {"a": {**entry, "obligations": [{"kind": "vibes", "summary": "s", "clause": "c"}]}}})
    with pytest.raises(InputError, match="needs a summary and a clause"):
        parse_table({"licences": {"a": {**entry, "obligations": [{"kind": "notice", "summary": "s"}]}}})


# -- inheritance ----------------------------------------------------------------------------
def _m(i, licence, name=None):
    return {"id": i, "licence": licence, "name": name or i}


def _declared(child, parent, relation="finetune", source="manifest", contradicted=False):
    return {"child": child, "parent": parent, "type": "DECLARED_PARENT", "relation": relation, "source": source,
            "contradicted": contradicted}


def _inferred(child, parent, kind="finetune", channel="weights", confidence=0.9):
    return {"child": child, "parent": parent, "type": "INFERRED_PARENT", "kind": kind, "channel": channel,
            "confidence": confidence}


def _inherited(out, model, kind=None):
    return [r for r in out["obligations"] if r["model"] == model and r["generations"] > 0
            and (kind is None or r["kind"] == kind)]


def _status(models, edges, model, kind, table):
    rows = _inherited(inherit_obligations(models, edges, table), model, kind)
    assert len(rows) == 1, rows
    return rows[0]


def test_non_commercial_terms_travel_and_commercial_descendants_drop_them(table):
    models = [_m("nc", "cc-by-nc-4.0"), _m("ft", "apache-2.0"), _m("ft-nc", "cc-by-nc-sa-4.0")]
    edges = [_declared("ft", "nc"), _declared("ft-nc", "nc")]
    r = _status(models, edges, "ft", "non_commercial", table)
    assert (r["status"], r["conflict"], r["origin"], r["path"]) == ("dropped", True, "nc", ["ft", "nc"])
    assert "2(a)(1)" in r["clause"] and "commercial" in r["reason"]
    assert _status(models, edges, "ft-nc", "non_commercial", table)["status"] == "kept"


def test_share_alike_needs_the_same_licence(table):
    models = [_m("sa", "cc-by-sa-4.0"), _m("mit", "mit"), _m("same", "CC-BY-SA-4.0")]
    edges = [_declared("mit", "sa"), _declared("same", "sa")]
    assert _status(models, edges, "mit", "share_alike", table)["status"] == "dropped"
    assert _status(models, edges, "same", "share_alike", table)["status"] == "kept"


def test_use_restrictions_travel_to_fine_tunes_and_gemma_distillations(table):
    models = [_m("g", "gemma"), _m("ft", "apache-2.0"), _m("kd", "mit"), _m("keeps", "gemma"),
              _m("a", "apache-2.0"), _m("kd-of-apache", "mit")]
    edges = [_declared("ft", "g"), _declared("kd", "g", relation="distillation"), _declared("keeps", "g"),
             _declared("kd-of-apache", "a", relation="distillation")]
    out = inherit_obligations(models, edges, table)
    ft = _inherited(out, "ft", "use_restrictions")[0]
    assert ft["status"] == "dropped" and "3.2" in ft["clause"]
    kd = _inherited(out, "kd", "use_restrictions")[0]
    assert kd["status"] == "dropped" and kd["via_outputs"]  # Gemma's terms reach models trained on its outputs
    assert _inherited(out, "keeps", "use_restrictions")[0]["status"] == "kept"
    # Apache's outputs carry nothing: a distillation of an Apache model inherits no obligation
    assert _inherited(out, "kd-of-apache") == []


def test_outputs_restriction_binds_models_trained_on_llama2_outputs_only(table):
    models = [_m("l2", "llama2"), _m("ft", "llama2"), _m("kd", "apache-2.0"), _m("kd-l2", "llama2")]
    edges = [_declared("ft", "l2"), _declared("kd", "l2", relation="distillation"),
             _declared("kd-l2", "l2", relation="distillation")]
    kd = _status(models, edges, "kd", "outputs_restriction", table)
    assert kd["status"] == "dropped" and "1.b.v" in kd["clause"]
    assert _status(models, edges, "ft", "outputs_restriction", table)["status"] == "carried"
    assert _status(models, edges, "kd-l2", "outputs_restriction", table)["status"] == "kept"
    # the rest of Llama 2's terms do not reach a model trained on its outputs
    assert {r["kind"] for r in _inherited(inherit_obligations(models, edges, table), "kd")} == {"outputs_restriction"}


def test_naming_rule_checks_the_name_and_reaches_outputs_trained_models(table):
    models = [_m("l31", "llama3.1"), _m("kd", "llama3.1", name="Tiny-Chat"), _m("kd2", "llama3.1", name="llama-tiny-chat"),
              _m("l3", "llama3"), _m("ft3", "llama3", name="Llama-3-Custom"), _m("kd3", "mit", name="Other")]
    edges = [_declared("kd", "l31", relation="distillation"), _declared("kd2", "l31", relation="distillation"),
             _declared("ft3", "l3"), _declared("kd3", "l3", relation="distillation")]
    r = _status(models, edges, "kd", "naming", table)
    assert r["status"] == "dropped" and "'Tiny-Chat'" in r["reason"] and "'Llama'" in r["reason"]
    assert _status(models, edges, "kd2", "naming", table)["status"] == "kept"
    assert _status(models, edges, "ft3", "naming", table)["status"] == "kept"  # "Llama 3" prefix, separators ignored
    out = inherit_obligations(models, edges, table)
    assert _inherited(out, "kd3", "naming") == []  # Llama 3's naming rule covers derivatives, not outputs


def test_attribution_notice_and_thresholds_are_carried_never_conflicts(table):
    models = [_m("a", "apache-2.0"), _m("m", "mit"), _m("l", "llama3.3"), _m("lft", "llama3.3", name="Llama-ft")]
    edges = [_declared("m", "a"), _declared("lft", "l")]
    out = inherit_obligations(models, edges, table)
    assert {(r["kind"], r["status"]) for r in _inherited(out, "m")} == {("attribution", "carried"), ("notice", "carried")}
    t = _inherited(out, "lft", "user_threshold")[0]
    assert t["status"] == "carried" and t["clause"] == "Section 2" and not t["conflict"]
    assert not any(r["conflict"] for r in out["obligations"])
    assert set(CONFLICT_KINDS) < set(KINDS)


def test_a_merge_inherits_from_every_parent(table):
    models = [_m("g", "gemma"), _m("nc", "cc-by-nc-4.0"), _m("merge", "apache-2.0")]
    edges = [_declared("merge", "g", relation="merge"), _declared("merge", "nc", relation="merge")]
    out = inherit_obligations(models, edges, table)
    dropped = {(r["origin"], r["kind"]) for r in _inherited(out, "merge") if r["conflict"]}
    assert dropped == {("g", "use_restrictions"), ("nc", "non_commercial")}
    stats = next(s for s in out["models"] if s["id"] == "merge")
    assert stats["licence_concluded"] == ["apache-2.0", "cc-by-nc-4.0", "gemma"]
    assert stats["licence_expression"] == "Apache-2.0 AND CC-BY-NC-4.0 AND LicenseRef-lineage-gemma"
    assert stats["n_licence_conflicts"] == 2


def test_an_obligation_reached_only_by_inference_is_flagged_and_declared_paths_win(table):
    models = [_m("g", "gemma"), _m("mid", "apache-2.0"), _m("ft", "apache-2.0"), _m("doc", "apache-2.0")]
    # ft: the card declares nothing; the weights say it is a fine-tune of g
    # doc: declared below mid (declared below g), and also inferred directly below g
    edges = [_inferred("ft", "g", confidence=0.97), _declared("mid", "g"), _declared("doc", "mid"),
             _inferred("doc", "g", confidence=0.8)]
    out = inherit_obligations(models, edges, table)
    ft = _inherited(out, "ft", "use_restrictions")[0]
    assert ft["inferred_only"] and ft["sources"] == ["inferred:weights (confidence 0.97)"] and ft["conflict"]
    assert json.loads(ft["hops"])[0]["confidence"] == 0.97
    doc = _inherited(out, "doc", "use_restrictions")[0]
    assert not doc["inferred_only"] and doc["path"] == ["doc", "mid", "g"] and doc["sources"] == ["manifest", "manifest"]


def test_no_entry_rests_on_memory(table):
    """Every entry says what text it was checked against; none is recalled or unverified."""
    for lic in table:
        assert not any(w in lic.checked.lower() for w in ("recalled", "memory", "not verified")), lic.id


def test_qwen_research_terms_as_verified(table):
    """Qwen Research License (19 Sep 2024): non-commercial for derivatives (1(i), 2(a)-(b)); a copy
    of the agreement and change notes (3(a)-(b)) and a NOTICE file (3(c)) on redistribution;
    "Built with Qwen" (4(b)) for every model made with the materials *or their outputs*."""
    models = [_m("q", "other: qwen-research"), _m("ft", "apache-2.0"), _m("kd", "apache-2.0"),
              _m("ft-q", "qwen-research")]
    edges = [_declared("ft", "q"), _declared("kd", "q", relation="distillation"), _declared("ft-q", "q")]
    out = inherit_obligations(models, edges, table)
    nc = _status(models, edges, "ft", "non_commercial", table)
    assert nc["status"] == "dropped" and "2(a)" in nc["clause"] and "1(i)" in nc["clause"]
    assert _status(models, edges, "ft-q", "non_commercial", table)["status"] == "kept"
    attribution = sorted((r["clause"], r["status"]) for r in _inherited(out, "ft", "attribution"))
    assert attribution == [("Section 3 (Redistribution), items (a)-(b)", "carried"),
                           ("Section 4 (Rules of use), item (b)", "carried")]
    assert "Built with Qwen" in next(r["summary"] for r in _inherited(out, "ft", "attribution") if "4" in r["clause"])
    assert _status(models, edges, "ft", "notice", table)["clause"] == "Section 3 (Redistribution), item (c)"
    # a model trained on the outputs owes "Built with Qwen" and nothing else: outputs are not derivatives
    kd = _inherited(out, "kd")
    assert [(r["kind"], r["clause"], r["via_outputs"], r["status"]) for r in kd] == [
        ("attribution", "Section 4 (Rules of use), item (b)", True, "carried")]
    assert not table.get("qwen-research").kinds() & {"outputs_restriction", "user_threshold"}


def test_mistral_research_terms_as_verified(table):
    """MRL 0.1: derivatives and outputs for Research Purposes only (3.2, 4.2, 4.3, 9), read as
    reaching a model trained on the outputs; a copy of the agreement and modification notices
    (2.2, 2.3) and a NOTICE file (2.2) on distribution."""
    models = [_m("mi", "other: mrl"), _m("ft", "apache-2.0"), _m("kd", "mit"), _m("ft-mi", "mrl")]
    edges = [_declared("ft", "mi"), _declared("kd", "mi", relation="distillation"), _declared("ft-mi", "mi")]
    out = inherit_obligations(models, edges, table)
    nc = _status(models, edges, "ft", "non_commercial", table)
    assert nc["status"] == "dropped" and "3.2" in nc["clause"] and "4.3" in nc["clause"]
    kd = _status(models, edges, "kd", "non_commercial", table)
    assert kd["status"] == "dropped" and kd["via_outputs"] and "4.2" in kd["clause"]
    assert _status(models, edges, "ft-mi", "non_commercial", table)["status"] == "kept"
    assert _status(models, edges, "ft", "notice", table)["clause"] == "Section 2.2"
    assert _status(models, edges, "ft", "attribution", table)["clause"] == "Sections 2.2, 2.3"
    assert {r["kind"] for r in _inherited(out, "kd")} == {"non_commercial"}  # no NOTICE for outputs


def test_tongyi_qianwen_threshold_and_outputs_rule(table):
    """Tongyi Qianwen (3 Aug 2023): commercial use allowed, a separate licence above 100 million
    monthly active users (4), outputs may not improve another LLM (5(b))."""
    lic = table.get("tongyi-qianwen")
    assert lic.commercial is True
    t = next(o for o in lic.obligations if o.kind == "user_threshold")
    assert (t.threshold, t.clause) == (100_000_000, "Section 4 (Restrictions)")
    models = [_m("t", "tongyi-qianwen"), _m("kd", "apache-2.0"), _m("ft", "apache-2.0")]
    edges = [_declared("kd", "t", relation="distillation"), _declared("ft", "t")]
    kd = _status(models, edges, "kd", "outputs_restriction", table)
    assert kd["status"] == "dropped" and "5" in kd["clause"] and "(b)" in kd["clause"]
    assert _status(models, edges, "ft", "outputs_restriction", table)["status"] == "carried"
    assert _status(models, edges, "ft", "user_threshold", table)["status"] == "carried"


def test_unknown_licences_leave_obligations_unverified(table):
    models = [_m("g", "gemma"), _m("x", "Totally Custom"), _m("none", None), _m("u", "my-licence"), _m("below-u", "mit")]
    edges = [_declared("x", "g"), _declared("none", "g"), _declared("below-u", "u")]
    out = inherit_obligations(models, edges, table)
    assert _inherited(out, "x", "use_restrictions")[0]["status"] == "unverified"
    assert _inherited(out, "none", "use_restrictions")[0]["status"] == "unverified"
    unk = _inherited(out, "below-u")
    assert [(r["kind"], r["status"], r["origin"]) for r in unk] == [("unknown_terms", "unverified", "u")]
    stats = {s["id"]: s for s in out["models"]}
    assert (stats["x"]["licence_status"], stats["x"]["licence_id"]) == ("unknown", None)
    assert stats["x"]["licence_concluded"] == ["gemma"] and stats["none"]["licence_status"] == "none"


# -- access gates ---------------------------------------------------------------------------
GATE_PROMPT = "You need to agree to share your contact information to access this model."


def _gates(out, model):
    return _inherited(out, model, "gated_access")


def test_a_gated_ancestors_weights_republished_without_a_gate_are_found(table):
    """A fine-tune, a quantized copy two steps down and a merge of a gated model, published with
    no gate, are `ungated` (with the gated origin, path and prompt); a gated fine-tune keeps the gate."""
    models = [{**_m("g", "gemma"), "gating_prompt": GATE_PROMPT, "gated": True}, _m("ft", "gemma"),
              _m("q", "gemma"), {**_m("ft-g", "gemma"), "gating_prompt": "Accept our terms."},
              _m("merge", "apache-2.0"), _m("other", "mit")]
    edges = [_declared("ft", "g"), _declared("q", "ft", relation="quantized"), _declared("ft-g", "g"),
             _declared("merge", "g", relation="merge"), _declared("merge", "other", relation="merge")]
    out = inherit_obligations(models, edges, table)
    ft = _gates(out, "ft")
    assert [(r["origin"], r["status"], r["conflict"], r["path"]) for r in ft] == [("g", "ungated", False, ["ft", "g"])]
    assert ft[0]["clause"] == "card: extra_gated_prompt" and GATE_PROMPT in ft[0]["summary"]
    assert ft[0]["licence"] is None and ft[0]["licence_name"] == "access gate of g"
    assert "no gate is recorded" in ft[0]["reason"] and "declared edges" in ft[0]["reason"]
    assert [(r["status"], r["path"]) for r in _gates(out, "q")] == [("ungated", ["q", "ft", "g"])]
    assert [r["status"] for r in _gates(out, "ft-g")] == ["kept"]
    assert [r["origin"] for r in _gates(out, "merge")] == ["g"]
    assert _gates(out, "g") == [] and _gates(out, "other") == []  # a gate binds descendants, not the model itself
    stats = {s["id"]: s for s in out["models"]}
    assert (stats["ft"]["n_ungated"], stats["ft-g"]["n_ungated"], stats["g"]["n_ungated"]) == (1, 0, 0)
    # a gate is not a licence term: no licence conflict, and it concludes no licence
    assert stats["ft"]["n_licence_conflicts"] == 0 and stats["ft"]["licence_concluded"] == ["gemma"]


def test_a_gate_follows_the_weights_not_the_outputs_and_inference_is_flagged(table):
    models = [{**_m("g", "llama3.1"), "gated": True, "gated_mode": "manual"}, _m("kd", "llama3.1", name="Llama-kd"),
              _m("copy", "apache-2.0"), _m("kd-ft", "apache-2.0")]
    edges = [_declared("kd", "g", relation="distillation"), _inferred("copy", "g", kind="quantized", confidence=0.99),
             _declared("kd-ft", "kd")]
    out = inherit_obligations(models, edges, table)
    assert _gates(out, "kd") == [] and _gates(out, "kd-ft") == []  # trained on outputs: no weights to gate
    r = _gates(out, "copy")[0]
    assert (r["status"], r["inferred_only"], r["sources"]) == ("ungated", True, ["inferred:weights (confidence 0.99)"])
    assert r["clause"] == "Hub: gated (manual)" and "inferred, undeclared edges only" in r["reason"]


def test_one_finding_per_gate_prompt_on_the_best_path(table):
    """Two gated ancestors behind the same prompt (a gated base and its gated re-upload) are one
    finding, on the path resting least on inference, then the shortest; distinct prompts are two."""
    models = [{**_m("base", "mit"), "gating_prompt": GATE_PROMPT}, {**_m("mirror", "mit"), "gating_prompt": GATE_PROMPT},
              {**_m("other-gate", "mit"), "gating_prompt": "Another gate."}, _m("ft", "mit")]
    edges = [_declared("mirror", "base"), _declared("ft", "mirror"), _inferred("ft", "base"),
             _declared("ft", "other-gate", relation="merge")]
    out = inherit_obligations(models, edges, table)
    rows = _gates(out, "ft")
    assert sorted((r["origin"], tuple(r["path"])) for r in rows) == [("mirror", ("ft", "mirror")),
                                                                     ("other-gate", ("ft", "other-gate"))]
    assert all(r["status"] == "ungated" and not r["inferred_only"] for r in rows)
    assert next(s for s in out["models"] if s["id"] == "ft")["n_ungated"] == 2


def test_models_without_gate_fields_behave_as_before(table):
    """Rows with no gate fields (older callers) yield no gate findings and the same licence rows."""
    models = [_m("g", "gemma"), _m("ft", "apache-2.0")]
    edges = [_declared("ft", "g")]
    out = inherit_obligations(models, edges, table)
    assert not any(r["kind"] == "gated_access" for r in out["obligations"])
    assert all(s["n_ungated"] == 0 for s in out["models"])


def test_cycles_and_self_edges_end(table):
    models = [_m("a", "gemma"), _m("b", "apache-2.0")]
    edges = [_declared("a", "b"), _inferred("b", "a"), _declared("a", "a")]
    out = inherit_obligations(models, edges, table)
    assert {r["origin"] for r in _inherited(out, "b")} == {"a"}
    assert {r["origin"] for r in _inherited(out, "a")} == {"b"}


# -- policies -------------------------------------------------------------------------------
@pytest.mark.parametrize("text, needle", [
    ("rules: [ {id: x\n", "p.yaml:2: not valid YAML"),
    ("- a\n- b\n", "a policy is a mapping"),
    ("rules: []\n", "non-empty list"),
    ("rules:\n  - id: x\n    query: conflicts\n    query_file: a.cypher\n", "exactly one of"),
    ("rules:\n  - id: x\n    query: conflicts\n    serverity: error\n", "unknown key(s) serverity"),
    ("rules:\n  - id: x\n    query: conflicts\n  - id: x\n    query: conflicts\n", "p.yaml:4: rule 'x': the id is used twice"),
    ("rules:\n  - id: x\n    query: conflicts\n    severity: fatal\n", "severity 'fatal'"),
    ("rules:\n  - id: x\n    query: conflicts\n    params: [1]\n", "'params' must be a mapping"),
    ("rules:\n  - id: 'bad id!'\n    query: conflicts\n", "'id' must be a word"),
    ("rulez: []\n", "unknown key(s) rulez"),
])
def test_malformed_policies_are_one_clear_error(text, needle):
    with pytest.raises(PolicyError) as e:
        parse_policy(text, "p.yaml")
    assert needle in e.value.message and "\n" not in e.value.message


def test_fail_on_and_missing_files_are_policy_errors(tmp_path):
    p = tmp_path / "p.yaml"
    p.write_text("rules:\n  - id: x\n    query: conflicts\n")
    with pytest.raises(PolicyError, match="--fail-on: severity 'fatal'"):
        load_policy(p, fail_on="fatal")
    with pytest.raises(PolicyError, match="neither a file nor a shipped policy"):
        resolve_policy(tmp_path / "missing.yaml")
    assert resolve_policy("sample").name == "sample.yaml"


def test_the_sample_policy_names_shipped_read_queries_with_well_typed_parameters():
    from lineage.graph.queries import load_library

    lib = load_library()
    pol = load_policy(resolve_policy("sample"))
    assert len(pol.rules) >= 5
    for rule in pol.rules:
        q = lib.get(rule.query)
        assert q.mode == "read"
        q.bind(rule.params)
        check_param_types(q, rule, pol)
        assert rule.line > 1  # the rule's line in the file, for messages and SARIF


def test_parameter_types_follow_the_query_examples():
    from lineage.graph.queries import load_library

    lib = load_library()
    pol = parse_policy("rules:\n  - id: a\n    query: undeclared_origin\n    params: {min_confidence: 1}\n"
                       "  - id: b\n    query: non_commercial_ancestry\n    params: {model_ids: null}\n"
                       "  - id: c\n    query: non_commercial_ancestry\n    params: {model_ids: x}\n"
                       "  - id: d\n    query: licence_conflicts\n    params: {inferred_only: 1}\n"
                       "  - id: e\n    query: obligations\n    params: {model_id: 3}\n", "p.yaml")
    check_param_types(lib.get("undeclared_origin"), pol.rules[0], pol)  # an int where a float is expected
    check_param_types(lib.get("non_commercial_ancestry"), pol.rules[1], pol)  # null where the default is null
    for rule, want in zip(pol.rules[2:], ("must be list, not str", "must be bool, not int", "must be str, not int")):
        with pytest.raises(PolicyError, match=want):
            check_param_types(lib.get(rule.query), rule, pol)


def _result(tmp_path) -> CheckResult:
    p = tmp_path / "p.yaml"
    p.write_text("name: t\nrules:\n  - id: drop\n    description: no drops\n    query: licence_conflicts\n"
                 "    message: '{model} drops {kind} of {origin} {missing}'\n"
                 "  - id: unk\n    query: unknown_licences\n    severity: note\n")
    pol = load_policy(p)
    findings = findings_from_rows(pol.rules[0], [{"model": "m1", "kind": "use_restrictions", "origin": "g",
                                                 "path": ["m1", "g"]}])
    findings += findings_from_rows(pol.rules[1], [{"model": "m2", "declared_licence": "x", "n_descendants": 0}])
    return CheckResult(pol, findings, fail_on="error")


def test_findings_messages_and_failure_threshold(tmp_path):
    res = _result(tmp_path)
    assert res.findings[0].message == "m1 drops use_restrictions of g {missing}"
    assert res.findings[1].message.startswith("unk (") and "declared_licence=x" in res.findings[1].message
    assert res.failed
    res.fail_on = "error"
    res.findings = res.findings[1:]
    assert not res.failed
    res.fail_on = "note"
    assert res.failed


def test_sarif_validates_against_the_sarif_2_1_0_structure(tmp_path):
    import jsonschema

    schema = json.loads((ROOT / "tests" / "data" / "sarif-2.1.0-subset.schema.json").read_text())
    validator = jsonschema.Draft7Validator(schema)
    log = json.loads(to_sarif(_result(tmp_path), tool_version="0.1.0"))
    validator.validate(log)
    run = log["runs"][0]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == ["drop", "unk"]
    res = run["results"]
    assert [(r["ruleId"], r["ruleIndex"], r["level"]) for r in res] == [("drop", 0, "error"), ("unk", 1, "note")]
    assert res[0]["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == "model:m1"
    assert res[0]["locations"][0]["physicalLocation"]["region"]["startLine"] == 3
    assert res[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == (tmp_path / "p.yaml").as_uri()
    # the schema is not vacuous: a broken log fails it
    for broken in ({**log, "version": "2.0.0"}, {"version": "2.1.0"},
                   {**log, "runs": [{**run, "results": [{**res[0], "level": "fatal"}]}]},
                   {**log, "runs": [{**run, "results": [{k: v for k, v in res[0].items() if k != "message"}]}]}):
        assert not validator.is_valid(broken)


def test_report_licence_section_escapes_and_draws_the_path():
    from lineage.export.report import ReportData, licence_section

    rows = [{"kind": "use_restrictions", "status": "dropped", "origin": "g<1>", "licence": "Gemma Terms of Use",
             "clause": "Section 3.2", "summary": "s", "path": ["m", "mid", "g<1>"],
             "sources": ["manifest", "inferred:weights (confidence 0.97)"], "inferred_only": True,
             "reason": "<script>x</script>", "url": "https://ai.google.dev/gemma/terms", "generations": 2}]
    html = licence_section(ReportData("m", {}, licence_obligations=rows))
    assert "<script>" not in html and "&lt;script&gt;" in html and "g&lt;1&gt;" in html
    assert html.count('class="hop declared"') == 1 and html.count('class="hop inferred"') == 1
    assert "Reached only through inferred, undeclared edges" in html
    assert "no licence obligations recorded" in licence_section(ReportData("m", {}))


def test_report_licence_section_shows_an_ungated_copy():
    from lineage.export.report import ReportData, licence_section

    rows = [{"kind": "gated_access", "status": "ungated", "origin": "g", "licence": "access gate of g",
             "clause": "card: extra_gated_prompt", "summary": "s", "path": ["m", "g"], "sources": ["model_card"],
             "inferred_only": False, "reason": "m descends by its weights from the gated g", "generations": 1},
            {"kind": "attribution", "status": "carried", "origin": "g", "licence": "MIT License", "clause": "c",
             "summary": "s", "path": ["m", "g"], "sources": ["model_card"], "generations": 1}]
    html = licence_section(ReportData("m", {}, licence_obligations=rows))
    assert html.count('class="finding licence-finding') == 1 and "has no access gate" in html
    assert "the gated g" in html and "card: extra_gated_prompt" in html and 'class="hop declared"' in html
