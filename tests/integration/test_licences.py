"""Licence obligations along the lineage on a synthetic population with planted licence
conflicts, in the real Neo4j: conflict flags against the true genealogy (with metadata and
blind), the shipped queries, `lineage check` (exit codes, SARIF, bad input leaving the graph
unchanged) and the licence fields of the CycloneDX and SPDX exports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lineage.dna.synthetic import write_synthetic_population
from lineage.pipeline.ingest import ingest
from tests.helpers.cli import run_cli

pytestmark = pytest.mark.neo4j

ROOT = Path(__file__).resolve().parents[2]
#: Family famNNN's licence is FAMILY_LICENCES[NNN % 4]; planted models publish under apache-2.0
#: whatever their family's terms.
FAMILY_LICENCES = ("gemma", "cc-by-nc-4.0", "apache-2.0", "mit")
PLANTED = "apache-2.0"


def _licensed_population(out: Path, *, blind: bool, n: int = 120, seed: int = 3) -> dict:
    """A synthetic population whose models carry licences: every family's licence, except every
    third non-root model, which declares apache-2.0 (a conflict under gemma or cc-by-nc, not
    under the permissive families). ``blind``: no model declares a parent."""
    pop = write_synthetic_population(out, n, random_state=seed)
    rows = [json.loads(l) for l in pop["manifest"].read_text().splitlines()]
    truth = json.loads(pop["truth"].read_text())
    k = 0
    for r in rows:
        lic = FAMILY_LICENCES[int(r["family"].removeprefix("fam")) % 4]
        if r.get("base_model"):
            k += 1
            if k % 3 == 0:
                lic = PLANTED
        r["licence"] = lic
        r["dna"] = str(out / r["dna"])
        if blind:
            r.pop("base_model", None)
            r.pop("base_model_relation", None)
    m = out / ("blind.jsonl" if blind else "manifest.jsonl")
    m.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return {"manifest": m, "licences": {r["id"]: r["licence"] for r in rows}, "truth": truth}


def _true_conflicts(licences: dict[str, str], truth: dict) -> set[str]:
    """The oracle, from the true genealogy alone: a model conflicts when a true ancestor is
    under gemma and it is not (the use restrictions must travel), or a true ancestor is
    non-commercial and its own licence allows commercial use."""
    parents: dict[str, list[str]] = {}
    for e in truth["edges"]:
        parents.setdefault(e["child"], []).append(e["parent"])
    out = set()
    for m, own in licences.items():
        seen, stack = set(), list(parents.get(m, []))
        while stack:
            a = stack.pop()
            if a not in seen:
                seen.add(a)
                stack += parents.get(a, [])
        above = {licences[a] for a in seen}
        if ("gemma" in above and own != "gemma") or ("cc-by-nc-4.0" in above and own != "cc-by-nc-4.0"):
            out.add(m)
    return out


def _truth_edges(truth: dict) -> set[tuple[str, str]]:
    return {(e["child"], e["parent"]) for e in truth["edges"]}


def _on_true_edges(row: dict, true_edges: set) -> bool:
    return all((a, b) in true_edges for a, b in zip(row["path"], row["path"][1:]))


@pytest.mark.parametrize("blind", [True, False], ids=["blind", "with-metadata"])
def test_planted_conflicts_are_found(settings, graph, tmp_path, blind):
    """Precision and recall of the conflict flags against the true genealogy, and exactness of
    the licence logic given the edges: every flag that rests on true edges only is a planted
    conflict, every false flag rests on an edge the truth lacks (a declaration the simulation
    planted wrong, or a wrong inference), every missed conflict has no path in the graph to
    the ancestor whose terms it drops."""
    pop = _licensed_population(tmp_path, blind=blind)
    ingest(pop["manifest"], settings=settings)
    expected = _true_conflicts(pop["licences"], pop["truth"])
    assert len(expected) >= 10  # the plant worked: gemma and cc-by-nc families have apache descendants
    true_edges = _truth_edges(pop["truth"])
    rows = graph.query("licence_conflicts", inferred_only=False)
    flagged = {r["model"] for r in rows}
    tp = len(flagged & expected)
    print(f"\nlicence conflicts ({'blind' if blind else 'with metadata'}): {len(expected)} planted, "
          f"{len(flagged)} flagged, precision {tp / len(flagged):.3f}, recall {tp / len(expected):.3f}; "
          f"missed {sorted(expected - flagged)}, false {sorted(flagged - expected)}; "
          f"flags resting on a contradicted declaration: {sorted({r['model'] for r in rows if r['via_contradicted']})}")
    assert {r["model"] for r in rows if _on_true_edges(r, true_edges)} <= expected
    for m in flagged - expected:
        assert not any(_on_true_edges(r, true_edges) for r in rows if r["model"] == m), m
    restrictive = {"use_restrictions", "non_commercial"}
    for m in expected - flagged:  # the graph holds no path from m to the terms it drops
        assert not any(r["kind"] in restrictive and r["generations"] > 0
                       for r in graph.query("obligations", model_id=m)), m
    assert tp >= 0.6 * len(expected)  # most lineage is found (blind: by the DNA alone)
    if blind:  # nothing is declared: every conflict rests on inferred edges, and says so
        assert rows and all(r["inferred_only"] for r in rows)
        assert all(s.startswith("inferred:") for r in rows for s in r["sources"])
    else:  # declared where the manifest declares (the simulation leaves some parents undeclared)
        assert any(not r["inferred_only"] for r in rows)
        for r in rows:
            assert r["inferred_only"] == any(s.startswith("inferred:") for s in r["sources"]), r


def test_queries_explain_obligations_and_exposure(settings, graph, tmp_path):
    pop = _licensed_population(tmp_path, blind=False)
    ingest(pop["manifest"], settings=settings)
    conflicts = graph.query("licence_conflicts", inferred_only=False)
    gemma_conflict = next(r for r in conflicts if r["kind"] == "use_restrictions")
    m = gemma_conflict["model"]
    assert gemma_conflict["origin_licence"] == "Gemma Terms of Use"
    assert "3.2" in gemma_conflict["clause"] and gemma_conflict["url"] == "https://ai.google.dev/gemma/terms"
    assert gemma_conflict["path"][0] == m and gemma_conflict["path"][-1] == gemma_conflict["origin"]
    assert len(gemma_conflict["sources"]) == len(gemma_conflict["path"]) - 1
    ob = graph.query("obligations", model_id=m)
    own = [r for r in ob if r["status"] == "own"]
    assert {r["licence"] for r in own} == {"Apache License 2.0"} and all(r["generations"] == 0 for r in own)
    dropped = [r for r in ob if r["status"] == "dropped"]
    assert [(r["kind"], r["origin"]) for r in dropped] == [("use_restrictions", gemma_conflict["origin"])]
    carried = {r["kind"] for r in ob if r["status"] == "carried" and r["licence"] == "Gemma Terms of Use"}
    assert carried == {"attribution", "notice"}
    # exposure of the gemma root: every descendant the lineage query shows (Gemma's terms reach
    # derivatives by weights and by outputs alike), conflicts first
    root = "fam000/m0000"
    exposure = graph.query("licence_exposure", base_id=root)
    desc = {r["model"] for r in graph.query("lineage", model_id=root) if r["direction"] == "descendant"}
    assert len(desc) >= 3 and {r["model"] for r in exposure} == desc
    n = [r["n_dropped"] for r in exposure]
    assert n == sorted(n, reverse=True) and n[0] >= 1
    for r in exposure:
        assert (r["n_dropped"] > 0) == (r["declared_licence"] != "gemma"), r
    info = graph.query("model_info", model_id=m)[0]
    assert info["licence"] == "apache-2.0"


def _check(*args, settings) -> "subprocess.CompletedProcess":
    env = {"LINEAGE_NEO4J_URI": settings.neo4j_uri}
    return run_cli("check", *args, env=env, timeout=300)


def _counts(graph) -> dict:
    return {(r["kind"], r["what"]): r["n"] for r in graph.query("graph_counts")}


def test_check_exit_codes_and_sarif(settings, graph, tmp_path):
    import jsonschema

    pop = _licensed_population(tmp_path, blind=False)
    ingest(pop["manifest"], settings=settings)
    sarif_path = tmp_path / "out.sarif"
    proc = _check("--policy", "sample", "--format", "sarif", "--out", str(sarif_path), settings=settings)
    assert proc.returncode == 1, proc.stderr
    log = json.loads(sarif_path.read_text())
    schema = json.loads((ROOT / "tests" / "data" / "sarif-2.1.0-subset.schema.json").read_text())
    jsonschema.Draft7Validator(schema).validate(log)
    results = log["runs"][0]["results"]
    flagged = [r["locations"][0]["logicalLocations"][0]["name"] for r in results if r["ruleId"] == "no-dropped-obligation"]
    assert sorted(flagged) == sorted(r["model"] for r in graph.query("licence_conflicts", inferred_only=False))
    assert {r["level"] for r in results if r["ruleId"] == "no-dropped-obligation"} == {"error"}
    # only warnings and notes: passes at --fail-on error, fails at --fail-on warning
    clean = tmp_path / "clean.yaml"
    clean.write_text("rules:\n  - id: readable\n    query: unknown_licences\n    severity: note\n"
                     "  - id: no-undocumented\n    query: undeclared_origin\n    severity: warning\n")
    assert _check("--policy", str(clean), settings=settings).returncode == 0
    # the json report lists what the table shows
    j = _check("--policy", "sample", "--format", "json", settings=settings)
    assert j.returncode == 1
    doc = json.loads(j.stdout)
    assert doc["failed"] and {f["rule"] for f in doc["findings"]} >= {"no-dropped-obligation", "no-non-commercial-ancestry"}


GATE = "Log in and accept the licence to download this model."


def test_gated_models_republished_without_the_gate(settings, graph, tmp_path):
    """Through ingest: a base whose card sets extra_gated_prompt, one gated fine-tune, and the
    rest of its family published without a gate. `ungated_copies` lists exactly the models that
    descend by weights from a gated model and carry no gate (their obligations say so, with the
    path), and the sample policy's `gate-kept` rule reports each as a warning."""
    pop = write_synthetic_population(tmp_path, 30, random_state=7)
    rows = [json.loads(l) for l in pop["manifest"].read_text().splitlines()]
    root, gated_child = "fam000/m0000", "fam000/m0001"
    for r in rows:
        r["licence"] = "mit"
        r["dna"] = str(tmp_path / r["dna"])
        if r["id"] in (root, gated_child):  # a folder holding only the card, as a gated repository shows it
            card = tmp_path / "cards" / r["id"].replace("/", "_")
            card.mkdir(parents=True)
            (card / "README.md").write_text(f"---\nlicense: mit\nextra_gated_prompt: {GATE}\n---\n# {r['id']}\n")
            r["path"] = str(card)
    m = tmp_path / "gated.jsonl"
    m.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    ingest(m, settings=settings)
    assert graph.query("model_info", model_id=root)[0]["gating_prompt"] == GATE

    edges = graph.query("licence_edges")
    parents: dict[str, list[dict]] = {}
    for e in edges:
        parents.setdefault(e["child"], []).append(e)

    def weights_ancestors(model: str) -> set[str]:  # the oracle: every ancestor not behind a distillation step
        seen, stack = set(), [model]
        while stack:
            for e in parents.get(stack.pop(), ()):
                how = e["relation"] if e["type"] == "DECLARED_PARENT" and e["relation"] else e["kind"]
                if how != "distillation" and e["parent"] not in seen:
                    seen.add(e["parent"])
                    stack.append(e["parent"])
        return seen

    gated = {root, gated_child}
    expected = {r["id"] for r in rows if r["id"] not in gated and weights_ancestors(r["id"]) & gated}
    found = graph.query("ungated_copies", inferred_only=False)
    assert {r["model"] for r in found} == expected
    assert len(expected) >= 5  # the root's declared fine-tunes and quantized copy at least
    for r in found:
        assert r["origin"] in gated and r["gating_prompt"] == GATE and r["path"][-1] == r["origin"]
        assert r["path"][0] == r["model"] and len(r["sources"]) == r["generations"] == len(r["path"]) - 1
    # one gate prompt: one finding per model, on the best path
    assert len(found) == len(expected)
    direct = next(r for r in found if r["model"] == "fam000/m0010")  # declared fine-tune of the root
    assert (direct["origin"], direct["sources"], direct["inferred_only"]) == (root, ["manifest"], False)
    kept = [o for o in graph.query("obligations", model_id=gated_child) if o["kind"] == "gated_access"]
    assert [(o["status"], o["origin"]) for o in kept] == [("kept", root)]
    ob = graph.query("obligations", model_id="fam000/m0010")
    assert [(o["kind"], o["status"]) for o in ob if o["kind"] == "gated_access"] == [("gated_access", "ungated")]
    # a gate is no licence conflict: all models share one permissive licence
    assert graph.query("licence_conflicts", inferred_only=False) == []

    # the sample policy reports each as a warning: exit 0 at --fail-on error, 1 at warning
    only = tmp_path / "gates.yaml"
    only.write_text("rules:\n  - id: gate-kept\n    query: ungated_copies\n    severity: warning\n")
    assert _check("--policy", str(only), settings=settings).returncode == 0
    assert _check("--policy", str(only), "--fail-on", "warning", settings=settings).returncode == 1
    j = _check("--policy", "sample", "--format", "json", "--fail-on", "warning", settings=settings)
    doc = json.loads(j.stdout)
    gate = [f for f in doc["findings"] if f["rule"] == "gate-kept"]
    assert sorted(f["model"] for f in gate) == sorted(expected) and {f["severity"] for f in gate} == {"warning"}


def test_check_on_a_clean_graph_exits_0(settings, graph, tmp_path):
    pop = write_synthetic_population(tmp_path, 30, random_state=5)
    rows = [json.loads(l) for l in pop["manifest"].read_text().splitlines()]
    for r in rows:
        r["licence"] = "apache-2.0"
        r["dna"] = str(tmp_path / r["dna"])
    m = tmp_path / "clean.jsonl"
    m.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    ingest(m, settings=settings)
    policy = tmp_path / "p.yaml"
    policy.write_text("rules:\n  - id: no-dropped-obligation\n    query: licence_conflicts\n    severity: error\n"
                      "  - id: nc\n    query: non_commercial_ancestry\n    params: {model_ids: null}\n    severity: error\n"
                      "  - id: readable\n    query: unknown_licences\n    severity: error\n")
    proc = _check("--policy", str(policy), "--format", "sarif", settings=settings)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["runs"][0]["results"] == []


BAD_POLICIES = {
    "malformed": ("rules: [ {id: x, query: conflicts\n", "not valid YAML"),
    "writes": ("rules:\n  - id: wipe\n    query: clear_graph\n", "writes to the graph"),
    "user-writes": ("rules:\n  - id: sneaky\n    query_file: sneaky.cypher\n", "writes to the graph"),
    "unknown-query": ("rules:\n  - id: nope\n    query: no_such_query\n", "unknown query 'no_such_query'"),
    "wrong-type": ("rules:\n  - id: typed\n    query: undeclared_origin\n    params: {min_confidence: high}\n",
                   "parameter 'min_confidence' of query 'undeclared_origin' must be int or float, not str"),
    "unknown-param": ("rules:\n  - id: extra\n    query: conflicts\n    params: {depth: 3}\n", "has no parameter 'depth'"),
    "severity": ("rules:\n  - id: sev\n    query: conflicts\n    severity: fatal\n", "severity 'fatal'"),
}


@pytest.mark.parametrize("case", sorted(BAD_POLICIES))
def test_bad_policy_is_one_line_exit_2_graph_unchanged(settings, graph, tmp_path, case):
    pop = _licensed_population(tmp_path, blind=False, n=24)
    ingest(pop["manifest"], settings=settings)
    before = _counts(graph)
    text, needle = BAD_POLICIES[case]
    # a user query that plans as a write although its header says read: Neo4j's plan refuses it
    (tmp_path / "sneaky.cypher").write_text("// name: sneaky\n// mode: read\n// description: x\n"
                                            "MATCH (m:Model) DETACH DELETE m RETURN count(*) AS n\n")
    policy = tmp_path / f"{case}.yaml"
    policy.write_text(text)
    proc = _check("--policy", str(policy), settings=settings)
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = [l for l in proc.stderr.strip().splitlines() if l.strip()]
    assert lines[0].startswith("error: ") and len(lines) <= 2, proc.stderr
    assert needle in lines[0] and str(policy) in lines[0], lines[0]
    assert proc.stdout == ""
    assert _counts(graph) == before


def test_unknown_licence_string_is_a_finding_not_a_crash(settings, graph, tmp_path):
    pop = _licensed_population(tmp_path, blind=False, n=24)
    rows = [json.loads(l) for l in pop["manifest"].read_text().splitlines()]
    rows[0]["licence"] = "Totally-Custom Licence v9"
    rows[1]["licence"] = "other: my-licence"  # a card's `license: other` + `license_name: my-licence`
    rows[2]["licence"] = "other: Apache 2.0"  # ... whose name the table knows
    pop["manifest"].write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    ingest(pop["manifest"], settings=settings)
    unknown = graph.query("unknown_licences")
    assert {(r["model"], r["declared_licence"], r["licence_status"]) for r in unknown} == {
        (rows[0]["id"], "Totally-Custom Licence v9", "unknown"), (rows[1]["id"], "other: my-licence", "unknown")}
    assert graph.query("model_info", model_id=rows[2]["id"])[0]["licence"] == "other: Apache 2.0"
    policy = tmp_path / "p.yaml"
    policy.write_text("rules:\n  - id: readable\n    query: unknown_licences\n    severity: error\n")
    proc = _check("--policy", str(policy), settings=settings)
    assert proc.returncode == 1 and "Totally-Custom Licence v9" in proc.stdout, proc.stdout + proc.stderr
    assert "other: my-licence" in proc.stdout


def test_exports_carry_declared_and_concluded_licences(settings, graph, tmp_path):
    from lineage.graph.export import export_graph

    pop = _licensed_population(tmp_path, blind=False, n=24)
    ingest(pop["manifest"], settings=settings)
    m = next(r["model"] for r in graph.query("licence_conflicts", inferred_only=False) if r["kind"] == "use_restrictions")
    cdx = json.loads(export_graph("cyclonedx", model=[m], graph=graph))
    comp = next(c for c in cdx["components"] if c["bom-ref"] == f"model:{m}")
    lic = {(x["license"].get("id") or x["license"].get("name"), x["license"].get("acknowledgement"))
           for x in comp["licenses"]}
    assert lic == {("Apache-2.0", "declared"), ("Apache-2.0", "concluded"), ("LicenseRef-lineage-gemma", "concluded")}
    props = {p["name"]: p["value"] for p in comp["properties"]}
    assert props["lineage:licence-concluded"] == "Apache-2.0 AND LicenseRef-lineage-gemma"
    assert props["lineage:licence-conflicts"] == "1"
    spdx = json.loads(export_graph("spdx", model=[m], graph=graph))
    objs = spdx["@graph"]
    rels = {o["relationshipType"]: o for o in objs if o.get("type") == "Relationship"
            and o.get("relationshipType") in ("hasDeclaredLicense", "hasConcludedLicense") and o["from"].endswith(
                m.replace("/", "%2F"))}
    exprs = {o["spdxId"]: o.get("simplelicensing_licenseExpression") for o in objs
             if o.get("type") == "simplelicensing_LicenseExpression"}
    assert exprs[rels["hasDeclaredLicense"]["to"][0]] == "Apache-2.0"
    assert exprs[rels["hasConcludedLicense"]["to"][0]] == "Apache-2.0 AND LicenseRef-lineage-gemma"


def test_report_shows_the_licence_conflict_with_its_path(settings, graph, tmp_path):
    from lineage.graph.export import write_reports

    pop = _licensed_population(tmp_path, blind=True, n=60)
    ingest(pop["manifest"], settings=settings)
    r = next(r for r in graph.query("licence_conflicts", inferred_only=True) if r["kind"] == "use_restrictions")
    html = write_reports(r["model"], out=tmp_path / "r.html", graph=graph)[0].read_text()
    section = html[html.index('<section id="licences">'):]
    section = section[:section.index("</section>")]
    assert "drops the use restrictions terms of Gemma Terms of Use" in section
    assert "Reached only through inferred, undeclared edges" in section and r["clause"] in section
    chain = section[section.index('<p class="licence-path">'):]
    for node in r["path"]:
        assert node in chain
    assert chain.count('class="hop inferred"') == len(r["path"]) - 1


@pytest.mark.parametrize("args, needle", [(("--polcy", "sample"), "No such option"),
                                          (("--policy", "sample", "--format", "xml"), "'--format': Value error, 'xml' is not one of"),
                                          (("--policy", "sample", "--fail-on", "fatal"), "'--fail-on': Value error, 'fatal' is not one of"),
                                          (("--policy", "no-such-policy"), "neither a file nor a shipped policy")])
def test_a_check_that_cannot_start_exits_2(settings, args, needle):
    proc = _check(*args, settings=settings)
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    lines = [l for l in proc.stderr.strip().splitlines() if l.strip()]
    assert lines[0].startswith("error: ") and needle in lines[0] and len(lines) <= 2 and "Traceback" not in proc.stderr


def _stored_licences(graph, settings) -> tuple[set, dict]:
    """Every stored obligation (all its properties, as a hashable row) and every model's licence summary."""
    with graph.driver.session(database=settings.neo4j_database) as s:
        obs = {(r["m"], r["a"], tuple(sorted((k, json.dumps(v)) for k, v in r["p"].items())))
               for r in s.run("MATCH (m:Model)-[o:OBLIGATION_FROM]->(a:Model) RETURN m.id AS m, a.id AS a, properties(o) AS p")}
        stats = {r["id"]: r["s"] for r in s.run(
            "MATCH (m:Model) RETURN m.id AS id, [m.licence_id, m.licence_status, m.licence_concluded, m.licence_expression,"
            " m.n_obligations, m.n_licence_conflicts, m.n_inferred_obligations] AS s")}
    return obs, stats


def test_subset_recompute_equals_a_full_recompute(settings, graph, tmp_path):
    """Incremental ingest: new models placed under existing ones, and an existing model's licence
    changed; recomputing those ids (and, by the function, their descendants) stores exactly
    what a full recompute stores."""
    from lineage.errors import GraphError
    from lineage.graph.licences import recompute_licences

    pop = _licensed_population(tmp_path, blind=False, n=60)
    ingest(pop["manifest"], settings=settings)
    edges = graph.query("licence_edges")
    children: dict[str, set] = {}
    for e in edges:
        children.setdefault(e["parent"], set()).add(e["child"])
    gemma_base = next(m for m in sorted(children) if pop["licences"][m] == "gemma")
    # a model with descendants two generations down, under apache/mit terms: becomes non-commercial
    changed = next(m for m in sorted(children) if pop["licences"][m] in ("apache-2.0", "mit")
                   and any(c in children for c in children[m]))
    with graph.driver.session(database=settings.neo4j_database) as s:
        s.run("CREATE (:Model {id: 'new/a', name: 'new/a', licence: 'apache-2.0'}), "
              "(:Model {id: 'new/b', name: 'new/b', licence: 'cc-by-nc-4.0'})").consume()
        s.run("MATCH (a:Model {id: 'new/a'}), (g:Model {id: $g}), (b:Model {id: 'new/b'}) "
              "CREATE (a)-[:DECLARED_PARENT {source: 'manifest', relation: 'finetune', contradicted: false}]->(g), "
              "(b)-[:INFERRED_PARENT {channel: 'dna', confidence: 0.9, kind: 'distillation'}]->(a)", g=gemma_base).consume()
        s.run("MATCH (m:Model {id: $m}) SET m.licence = 'cc-by-nc-4.0'", m=changed).consume()
    stale = _stored_licences(graph, settings)
    counts = recompute_licences(graph, ids=["new/a", "new/b", changed])
    subset = _stored_licences(graph, settings)
    recompute_licences(graph)
    full = _stored_licences(graph, settings)
    assert subset[1] == full[1]
    assert subset[0] == full[0]
    # the subset recompute did the work: the new models, the changed one and its descendants
    assert stale[0] != full[0] and {"new/a", "new/b"} <= {m for m, _, _ in full[0]}
    below, stack = set(), [changed]
    while stack:
        for c in children.get(stack.pop(), ()):
            if c not in below:
                below.add(c)
                stack.append(c)
    assert len(below) >= 2 and any(full[1][d] != stale[1][d] for d in below)
    assert counts.n_obligations == sum(1 for m, _, _ in full[0] if m in {"new/a", "new/b", changed} | below)
    # nothing changed: nothing is rewritten; a model whose stored obligations were lost is
    assert recompute_licences(graph).n_rewritten == 0
    with graph.driver.session(database=settings.neo4j_database) as s:
        s.run("MATCH (:Model {id: 'new/b'})-[o:OBLIGATION_FROM]->() DELETE o").consume()
    assert recompute_licences(graph).n_rewritten == 1
    assert _stored_licences(graph, settings) == full
    with pytest.raises(GraphError, match="no model 'no/such' in the graph"):
        recompute_licences(graph, ids=["no/such"])
    assert _stored_licences(graph, settings) == full
