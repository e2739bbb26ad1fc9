"""A policy check as SARIF 2.1.0 (OASIS), the format CI systems display.

One run; the tool driver ``lineage`` lists every rule of the policy (``id``, short and
full description, default level = the rule's severity, the query it runs); each finding
is a result with the rule's id and index, its level, the message, a logical location
naming the model (``model:<id>``, kind ``module``) and a physical location pointing at
the rule in the policy file (code-scanning services need one), plus the query's row as
``properties.row``. ``partialFingerprints`` key a finding by rule, model and message so
a CI service can track it across runs.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from lineage.licences.policy import CheckResult

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def _plain(v):
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    return str(v)


def to_sarif(result: CheckResult, *, tool_version: str = "", policy_uri: str | None = None) -> str:
    """The SARIF 2.1.0 log of ``result`` as JSON text."""
    pol = result.policy
    uri = policy_uri or pol.path or "policy.yaml"
    if Path(uri).is_absolute():  # a SARIF artifact location is a URI: absolute paths as file:// URIs
        uri = Path(uri).as_uri()
    rules = []
    index = {}
    for i, r in enumerate(pol.rules):
        index[r.id] = i
        rules.append({
            "id": r.id, "name": r.id,
            "shortDescription": {"text": r.description or r.id},
            "fullDescription": {"text": (r.description or r.id) + f" (query: {r.query_name})"},
            "defaultConfiguration": {"level": r.severity},
            "properties": {"query": r.query_name, "params": _plain(r.params)},
        })
    lines = {r.id: r.line for r in pol.rules}
    results = []
    for f in result.findings:
        loc: dict = {"physicalLocation": {"artifactLocation": {"uri": uri},
                                          "region": {"startLine": max(1, lines.get(f.rule, 1))}}}
        if f.model is not None:
            loc["logicalLocations"] = [{"name": f.model, "fullyQualifiedName": f"model:{f.model}", "kind": "module"}]
        key = hashlib.sha256(json.dumps([f.rule, f.model, f.message]).encode()).hexdigest()[:32]
        results.append({
            "ruleId": f.rule, "ruleIndex": index[f.rule], "level": f.severity,
            "message": {"text": f.message}, "locations": [loc],
            "partialFingerprints": {"lineageFinding/v1": key},
            "properties": {"model": f.model, "row": _plain(f.row)},
        })
    driver = {"name": "lineage", "rules": rules}
    if tool_version:
        driver["version"] = tool_version
    log = {
        "$schema": SARIF_SCHEMA, "version": "2.1.0",
        "runs": [{
            "tool": {"driver": driver},
            "automationDetails": {"id": f"lineage-check/{pol.name}/"},
            "invocations": [{"executionSuccessful": True,
                             "properties": {"policy": pol.name, "failOn": result.fail_on, "failed": result.failed}}],
            "results": results,
            "properties": {"policy": pol.name, "policyDescription": pol.description},
        }],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"
