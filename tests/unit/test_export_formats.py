"""The pure export conversions: every format validates through its standard's library, parses
back into the same models, relations and properties, and keeps awkward ids intact; the
report escapes everything and says in words what the graph says."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from html import unescape
from html.parser import HTMLParser
from typing import get_args

import pytest

from lineage.export import FORMATS, from_format, to_format
from lineage.export.data import LINEAGE_EDGE_TYPES, Edge, ExportData, Node
from lineage.export.report import ReportData, render_index, render_report, report_filename, summarise

IDS = ['root "quoted"', "org/child<&>", "ünï-cödé ✓ 模型", "it's/a\\path", "plain"]


def population() -> ExportData:
    root, child, uni, odd, plain = IDS
    nodes = [
        Node(root, {"name": root, "family": "f", "release_date": "2024-01-01", "licence": "apache-2.0", "params": 123,
                    "declared_base_models": [], "degenerate": False, "source_fingerprint": "0123abcd" * 2,
                    "weights_key": "ab" * 32, "weights_sha256": "cd" * 32, "status": "ok", "architecture": "LlamaForCausalLM", "n_probes": 20,
                    "n_empty": 2, "probe_set": "rand", "encoder": "all-MiniLM-L6-v2", "dna_dim": 128}),
        Node(child, {"name": "child <b>", "release_date": "2024-05-01", "licence": "a custom licence",
                     "declared_base_models": [root], "n_empty": 0, "status": "ok"}),
        Node(uni, {"licence": "MIT OR Apache-2.0", "status": "ok", "release_date": "2024-03-01",
                   "architecture": "a-new-kind", "n_probes": 20, "n_empty": 15, "degenerate": True}),
        Node(odd, {"status": "ok", "source": "hub:org/a model", "source_kind": "hub"}),
        Node(plain, {"status": "failed", "error": "missing <path> & more"}),
    ]
    edges = [
        Edge(child, root, "DECLARED_PARENT", {"relation": "finetune", "source": "manifest", "contradicted": False,
                                              "p_value": 0.001, "distance": 0.5}),
        Edge(child, root, "INFERRED_PARENT", {"confidence": 0.97, "p_value": 0.0, "distance": 0.4, "channel": "weights",
                                              "kind": "finetune", "method": "combined", "documented": True,
                                              "evidence": json.dumps([{"channel": "weights", "note": "<&>\"'"}])}),
        Edge(uni, odd, "DECLARED_PARENT", {"relation": "merge", "source": "model_card", "contradicted": True,
                                           "reason": 'released <after> & "unrelated"', "p_value": 0.5}),
        Edge(uni, root, "INFERRED_PARENT", {"confidence": 0.6, "p_value": 1e-6, "distance": 1.1, "channel": "dna",
                                            "kind": "unknown", "method": "dna", "documented": False, "evidence": "[]"}),
        Edge(uni, root, "UNDOCUMENTED_RELATION", {"score": 0.9, "p_value": 0.001, "kind": "parent", "rank": 1}),
        Edge(uni, root, "SIMILAR_TO", {"distance": 1.2, "rank": 1}),
        Edge(child, root, "WEIGHTS_MATCH", {"distance": 0.1, "p_value": 0.0, "cosine": 0.99, "n_matched": 12}),
    ]
    return ExportData(nodes, edges)


def expected(data: ExportData, fmt: str) -> ExportData:
    return data if fmt in ("graphml", "json") else data.only(LINEAGE_EDGE_TYPES)


def test_cli_format_choices_are_the_export_formats():
    from lineage.cli.export import ExportFormat

    assert set(get_args(ExportFormat)) == set(FORMATS)


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_round_trips_models_edges_and_properties(fmt):
    data = population()
    back = from_format(to_format(data, fmt), fmt)
    want = expected(data, fmt)
    assert [n.id for n in back.nodes] == sorted(IDS)
    assert back.nodes == want.nodes
    assert back.edges == want.edges


def test_cyclonedx_validates_against_the_1_6_schema_and_says_where_claims_come_from():
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    text = to_format(population(), "cyclonedx")
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    doc = json.loads(text)
    assert doc["specVersion"] == "1.6"
    comps = {c["bom-ref"]: c for c in doc["components"]}
    assert {c["type"] for c in comps.values()} == {"machine-learning-model"}
    child = comps["model:org/child<&>"]
    claims = {}
    for a in child["pedigree"]["ancestors"]:
        p = {x["name"]: x["value"] for x in a["properties"]}
        claims[p["lineage:edge-type"]] = p
    assert claims["DECLARED_PARENT"]["lineage:claim"] == "metadata"
    assert claims["DECLARED_PARENT"]["lineage:declared-in"] == "manifest"
    assert claims["INFERRED_PARENT"]["lineage:claim"] == "evidence"
    assert claims["INFERRED_PARENT"]["lineage:confidence"] == "0.97"
    assert claims["INFERRED_PARENT"]["lineage:kind"] == "finetune"
    assert claims["INFERRED_PARENT"]["lineage:ref"] == 'model:root "quoted"'
    root = comps['model:root "quoted"']
    assert root["hashes"] == [{"alg": "SHA-256", "content": "cd" * 32}]  # the weights file, not the cache key
    assert root["licenses"][0]["license"]["id"] == "Apache-2.0"
    uni = comps["model:ünï-cödé ✓ 模型"]
    props = [(x["name"], x["value"]) for x in uni["properties"]]
    conflict = [json.loads(v) for k, v in props if k == "lineage:conflict"]
    assert conflict and conflict[0]["declared_parent"] == "it's/a\\path" and "unrelated" in conflict[0]["reason"]
    assert any(k == "lineage:undocumented-relation" for k, _ in props)


def test_cyclonedx_model_cards_hold_only_what_is_known():
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    text = to_format(population(), "cyclonedx")
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None  # model cards included
    comps = {c["bom-ref"]: c for c in json.loads(text)["components"]}
    root = comps['model:root "quoted"']["modelCard"]
    assert root["modelParameters"] == {
        "architectureFamily": "transformer", "modelArchitecture": "LlamaForCausalLM", "task": "text-generation",
        "inputs": [{"format": "string"}], "outputs": [{"format": "string"}]}
    assert root["considerations"] == {
        "technicalLimitations": ["2 of its 20 answers to the lineage probe prompts were empty."]}
    assert {p["name"]: p["value"] for p in root["properties"]} == {
        "lineage:dna-probe-set": "rand", "lineage:dna-n-probes": "20", "lineage:dna-encoder": "all-MiniLM-L6-v2",
        "lineage:dna-dim": "128"}
    uni = comps["model:ünï-cödé ✓ 模型"]["modelCard"]
    assert "architectureFamily" not in uni["modelParameters"]  # an architecture whose family is not known
    assert uni["modelParameters"]["modelArchitecture"] == "a-new-kind"
    assert "not a valid fingerprint" in uni["considerations"]["technicalLimitations"][0]
    # nothing known (no architecture, no DNA measured from answers): no model card at all
    assert "modelCard" not in comps["model:it's/a\\path"] and "modelCard" not in comps["model:plain"]
    assert "modelCard" not in comps["model:org/child<&>"]


@pytest.mark.parametrize(("architecture", "family"), [
    ("llama", "transformer"), ("LlamaForCausalLM", "transformer"), ("GPT2LMHeadModel", "transformer"),
    ("gpt_neox", "transformer"), ("GPTNeoXForCausalLM", "transformer"), ("MambaForCausalLM", "state-space model"),
    ("rwkv", "recurrent neural network"), ("jamba", None), ("FalconH1ForCausalLM", None), ("model", None), ("", None)])
def test_architecture_family_only_for_types_whose_family_is_known(architecture, family):
    from lineage.export.cyclonedx import architecture_family

    assert architecture_family(architecture) == family


def test_cyclonedx_is_what_the_library_writes_for_the_same_bom():
    """The document is written as dicts; the library reads it into its object model and
    writes the same document back (it does not model the 1.6 model card: left out here)."""
    from cyclonedx.model.bom import Bom
    from cyclonedx.output.json import JsonV1Dot6

    doc = json.loads(to_format(population(), "cyclonedx", tool_version="1.2.3"))
    for c in doc["components"]:
        c.pop("modelCard", None)
    writer = JsonV1Dot6(Bom.from_json(json.loads(json.dumps(doc))))
    assert json.loads(writer.output_as_string()) == doc


def test_spdx_is_decoded_by_the_bindings_with_an_ai_package_per_model():
    from spdx_python_model import v3_0_1 as s

    from lineage.export.spdx import load_spdx, model_iri

    text = to_format(population(), "spdx")
    objs = load_spdx(text)  # the bindings decode and type-check every object
    pkgs = {p._id: p for p in objs.foreach_type(s.ai_AIPackage)}
    assert set(pkgs) == {model_iri(i) for i in IDS}
    doc = next(iter(objs.foreach_type(s.SpdxDocument)))
    assert s.ProfileIdentifierType.ai in doc.profileConformance
    rels = list(objs.foreach_type(s.Relationship))
    lineage = [r for r in rels if r.relationshipType == s.RelationshipType.ancestorOf]
    assert len(lineage) == 4
    assert any("claim from metadata" in r.comment and "CONFLICT" in r.comment for r in lineage)
    assert any("claim from evidence" in r.comment and "confidence 0.97" in r.comment for r in lineage)
    lic = [r for r in rels if r.relationshipType == s.RelationshipType.hasDeclaredLicense]
    assert len(lic) == 2  # apache-2.0 and MIT OR Apache-2.0; the custom text is not an SPDX expression
    # the document is written as dicts: what the bindings decoded, they encode to the same text
    # (and they check required properties on encode)
    import io

    buf = io.BytesIO()
    s.JSONLDSerializer().write(objs, buf)
    assert buf.getvalue().decode("utf-8") == text
    pkg = pkgs[model_iri(IDS[0])]
    assert pkg.ai_typeOfModel == ["LlamaForCausalLM"] and pkg.software_packageVersion == "2024-01-01"
    assert pkgs[model_iri(IDS[3])].software_downloadLocation == "https://huggingface.co/org/a%20model"
    assert pkg.software_downloadLocation is None  # not from the Hub
    assert [(h.algorithm, h.hashValue) for h in pkg.verifiedUsing] == [(s.HashAlgorithm.sha256, "cd" * 32)]
    assert not pkgs[model_iri(IDS[1])].verifiedUsing  # no hash known, none claimed


@pytest.mark.parametrize("when", [
    datetime(2026, 11, 29, 12, 0, 5, 123456, tzinfo=timezone.utc), datetime(2026, 1, 2, 3, 4, 5),
    datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=5, minutes=30, seconds=17))),
    datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(-timedelta(hours=3)))])
def test_spdx_times_are_written_as_the_bindings_write_them(when):
    from spdx_python_model import v3_0_1 as s

    from lineage.export.spdx import _spdx_time

    assert _spdx_time(when) == s.DateTimeProp().to_string(when)


def test_graphml_opens_in_networkx_with_types_and_labels():
    import io

    import networkx as nx

    g = nx.read_graphml(io.BytesIO(to_format(population(), "graphml").encode()), force_multigraph=True)
    assert set(g.nodes) == set(IDS)
    assert g.nodes['root "quoted"']["params"] == 123 and g.nodes["org/child<&>"]["label"] == "child <b>"
    types = sorted(a["type"] for _, _, a in g.edges(data=True))
    assert types == sorted(["DECLARED_PARENT", "INFERRED_PARENT", "DECLARED_PARENT", "INFERRED_PARENT",
                            "UNDOCUMENTED_RELATION", "SIMILAR_TO", "WEIGHTS_MATCH"])


def _networkx_graphml(data: ExportData) -> str:
    """What networkx's own writer makes of the graph :func:`to_graphml` describes."""
    import io

    import networkx as nx

    g = nx.MultiDiGraph()
    json_keys: dict[str, set] = {"node": set(), "edge": set()}

    def attrs(props: dict, scope: str) -> dict:
        out = {}
        for k, v in props.items():
            if v is not None and not isinstance(v, (str, int, float, bool)):
                json_keys[scope].add(k)
                v = json.dumps(v, ensure_ascii=False)
            if v is not None:
                out[k] = v
        return out

    for n in data.nodes:
        g.add_node(n.id, label=str(n.props.get("name") or n.id), **attrs(n.props, "node"))
    for e in data.edges:
        g.add_edge(e.source, e.target, type=e.type, **attrs(e.props, "edge"))
    g.graph["lineage_json_node_keys"] = json.dumps(sorted(json_keys["node"]))
    g.graph["lineage_json_edge_keys"] = json.dumps(sorted(json_keys["edge"]))
    buf = io.BytesIO()
    nx.write_graphml(g, buf, encoding="utf-8")
    return buf.getvalue().decode("utf-8")


def test_graphml_is_byte_for_byte_what_networkx_writes():
    data = population()
    odd = Node("tab\tnew\nline\r", {"name": "", "params": 1.5, "flag": True, "empty": "", "gone": None})
    data = ExportData([*data.nodes, odd], [*data.edges, Edge("not a node", odd.id, "SIMILAR_TO", {"rank": "one"}),
                                           Edge(IDS[0], "also not", "SIMILAR_TO", {}),
                                           Edge(IDS[0], IDS[1], "SIMILAR_TO", {"rank": 2, "distance": 0.5})])
    assert to_format(data, "graphml") == _networkx_graphml(data)


def test_edges_sort_by_type_ends_then_properties():
    import random

    from lineage.export.data import sorted_edges

    edges = [Edge(s, t, typ, {"p": p, "q": [p]}) for typ in ("B", "A") for s in "ba" for t in "ab" for p in (3, 1, 2)]
    shuffled = random.Random(0).sample(edges, len(edges))
    assert sorted_edges(shuffled) == sorted(edges, key=Edge.sort_key)
    assert ExportData([], shuffled).edges == sorted(edges, key=Edge.sort_key)


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.text, self.ids = [], [], set()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if dict(attrs).get("id"):
            self.ids.add(dict(attrs)["id"])

    def handle_data(self, data):
        self.text.append(data)


def report_of(model_id: str) -> ReportData:
    data = population()
    lineage_edges = [e for e in data.edges if e.type in ("DECLARED_PARENT", "INFERRED_PARENT")]
    touching = [e for e in data.edges if e.type in LINEAGE_EDGE_TYPES and model_id in (e.source, e.target)]
    return ReportData(model_id, data.node(model_id).props, {"run": "run:1", "probe_set": "rand"},
                      [e for e in lineage_edges if model_id in (e.source, e.target)], touching,
                      [{"model": IDS[0], "family": "f", "distance": 1.25, "direct_relation": True}],
                      {n.id: n.props.get("name") or n.id for n in data.nodes})


def test_report_escapes_every_id_and_holds_picture_and_sections():
    html = render_report(report_of(IDS[2]))
    assert "<b>" not in html and "<&>" not in html and "<after>" not in html
    p = _Collect()
    p.feed(html)
    text = "".join(p.text)
    assert {"summary", "metadata", "provenance", "lineage", "nearest", "conflicts", "undocumented", "lineage-svg"} <= p.ids
    assert IDS[2] in text and 'released <after> & "unrelated"' in text  # unescaped back by the parser
    classes = [a.get("class", "") for t, a in p.tags if t == "path"]
    assert "edge conflict" in classes and "edge inferred" in classes
    assert not any(t in ("script", "link", "img") for t, _ in p.tags)  # self-contained, nothing fetched
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in html


def test_summary_says_what_is_declared_and_what_the_evidence_says():
    assert summarise(report_of(IDS[1])) == (
        'Declared as a fine-tune of root "quoted" (in the manifest); the evidence agrees '
        "(weights evidence, kind finetune, confidence high (0.97)).")
    s = summarise(report_of(IDS[2]))
    assert s.startswith("Declared as a merge of it's/a\\path (in the model card); the evidence contradicts this")
    assert "points instead to root \"quoted\" (dna evidence, kind unknown, confidence low (0.60))" in s
    assert "no metadata connects it to" in s
    assert "1 model is declared or inferred to derive from it directly" in summarise(report_of(IDS[3]))
    assert "could not be made (missing <path> & more)" in summarise(report_of(IDS[4]))
    assert summarise(report_of(IDS[0])).startswith("No parent is declared and the evidence finds none")


def test_report_file_names_are_safe_and_distinct():
    names = [report_filename(i) for i in IDS + ["org_child__", "a" * 300]]
    assert len(set(names)) == len(names)
    assert all("/" not in n and "\\" not in n and n.isascii() and len(n) < 100 for n in names)


def test_index_links_every_report():
    reports = [(report_of(i), report_filename(i)) for i in IDS]
    p = _Collect()
    p.feed(render_index(reports))
    hrefs = [a["href"] for t, a in p.tags if t == "a"]
    assert sorted(hrefs) == sorted(report_filename(i) for i in IDS)


def test_report_reads_in_a_reviewers_order():
    html = render_report(report_of(IDS[2]))
    at = {i: html.index(f'id="{i}"') for i in ("summary", "lineage", "findings", "conflicts", "undocumented",
                                                 "evidence", "nearest", "technical", "metadata", "provenance")}
    order = ["summary", "lineage", "findings", "conflicts", "undocumented", "evidence", "nearest", "technical"]
    assert [at[i] for i in order] == sorted(at[i] for i in order)
    # the internal keys and the DNA provenance sit in the folded technical part, after everything else
    technical = html[at["technical"]:html.index("</details>", at["provenance"])]
    assert "n_empty" not in html[:at["technical"]] and "n_empty" in html[at["technical"]:]
    assert 'id="metadata"' in technical and 'id="provenance"' in technical
    assert html[at["technical"] - len('<details class="technical" '):].startswith("<details")
    # the print stylesheet is there, and tables take the page's width and wrap
    assert "@media print" in html and "overflow-wrap:anywhere" in html


def test_report_says_strengths_in_words():
    from lineage.export.report import confidence_words, evidence_words, p_words

    assert p_words(1e-300) == p_words(0.0) == "p < 1e-12 (beyond doubt)"
    assert p_words(3.2e-5) == "p = 3e-05 (strong)"
    assert p_words(0.004) == "p = 0.004 (significant)"
    assert p_words(0.03) == "p = 0.03 (weak)" and p_words(0.5) == "p = 0.50 (not significant)"
    assert p_words(None) == p_words(float("nan")) == "no p-value recorded"
    assert confidence_words(0.996) == "near certain (1.00)"
    assert [confidence_words(c) for c in (0.95, 0.8, 0.4)] == ["high (0.95)", "moderate (0.80)", "low (0.40)"]
    ev = json.dumps([{"channel": "weights", "distance": 0.031, "p_value": 0.0, "cosine": 0.9994, "n_matched": 30},
                     {"channel": "weights", "distance": 0.0, "p_value": 0.0, "cosine": 1.0},
                     {"channel": "weights", "distance": 0.4, "p_value": 1e-5, "cosine": 0.93, "layer_map": [0, 2]},
                     {"channel": "logits", "distance": 0.2, "p_value": 0.002, "top1_agreement": 0.874, "n_positions": 640},
                     {"channel": "dna", "distance": 0.5648, "p_value": 3e-229}])
    assert evidence_words(ev) == [
        "weights identical up to fine-tuning noise (relative distance 0.031, cosine 0.9994, 30 matrices compared); "
        "p < 1e-12 (beyond doubt)",
        "weights identical (relative distance 0, cosine 1.0000); p < 1e-12 (beyond doubt)",
        "weights clearly share their origin (relative distance 0.4, cosine 0.9300, layers matched into a deeper model); "
        "p = 1e-05 (strong)",
        "next tokens agree at 87% of 640 positions; p = 0.002 (significant)",
        "answers' DNA distance 0.565; p < 1e-12 (beyond doubt)",
    ]
    html = unescape(render_report(report_of(IDS[1])))
    assert "p < 1e-12 (beyond doubt)" in html and "high (0.97)" in html
    assert "e-300" not in html and "0.00e+00" not in html
