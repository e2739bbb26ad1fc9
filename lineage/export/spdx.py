"""SPDX 3.0.1 JSON-LD with the AI profile, through ``spdx-python-model``.

One ``ai_AIPackage`` per model (``urn:lineage:model:<percent-encoded id>``) with its
name, version and release time where known, primary purpose ``model``, and its licence
as a ``hasDeclaredLicense`` relationship to a licence expression (when the licence is a
valid SPDX expression). Lineage is a ``Relationship`` per claim: a declared or inferred
parent is ``parent ancestorOf child``; an undocumented relation is ``a other b``. Each
relationship's comment says in words where the claim comes from (metadata or evidence)
and what backs it; an ``Annotation`` on it (type ``other``) holds its properties as JSON,
and one on each package holds the model's properties, so a document parses back into
the same models and relations (:func:`from_spdx`).
"""

from __future__ import annotations

import io
import json
from datetime import datetime, timezone
from urllib.parse import quote

from lineage.export.data import LINEAGE_EDGE_TYPES, Edge, ExportData, Node, dumps_value, spdx_licence

_NS = "urn:lineage:"


def model_iri(model_id: str) -> str:
    return f"{_NS}model:{quote(model_id, safe='')}"


def _release_time(text):
    try:
        d = datetime.fromisoformat(str(text))
    except ValueError:
        return None
    return d if d.tzinfo else d.replace(tzinfo=timezone.utc)


def _comment(e: Edge) -> str:
    p = e.props
    if e.type == "DECLARED_PARENT":
        text = (f"declared parent ({p.get('relation') or 'relation unknown'}), claim from metadata "
                f"({p.get('source') or 'unknown source'})")
        if p.get("contradicted"):
            text += f"; CONFLICT: the evidence contradicts it ({p.get('reason') or 'no reason given'})"
        return text
    if e.type == "INFERRED_PARENT":
        return (f"inferred parent (kind {p.get('kind') or 'unknown'}), claim from evidence "
                f"(channel {p.get('channel') or 'dna'}, confidence {p.get('confidence')}, p-value {p.get('p_value')})")
    return (f"undocumented relation ({p.get('kind') or 'related'}), claim from evidence "
            f"(score {p.get('score')}, p-value {p.get('p_value')}); no metadata declares it")


def to_spdx(data: ExportData, *, timestamp: datetime | None = None, tool_version: str = "") -> str:
    """An SPDX 3.0.1 JSON-LD document: an AIPackage per model and a relationship per lineage claim."""
    from spdx_python_model import v3_0_1 as s

    data = data.only(LINEAGE_EDGE_TYPES)
    ci = s.CreationInfo(specVersion="3.0.1", created=timestamp or datetime.now(timezone.utc))
    agent = s.Tool(spdxId=f"{_NS}tool:lineage", name=f"lineage {tool_version}".strip(), creationInfo=ci)
    org = s.Organization(spdxId=f"{_NS}agent:lineage", name="lineage", creationInfo=ci)
    ci.createdBy = [org]
    ci.createdUsing = [agent]
    objs: list = [org, agent]
    packages = {}
    n_ann = 0

    def annotate(subject, statement: dict) -> None:
        nonlocal n_ann
        n_ann += 1
        objs.append(s.Annotation(spdxId=f"{_NS}annotation:{n_ann}", creationInfo=ci, subject=subject,
                                 annotationType=s.AnnotationType.other, statement=dumps_value(statement)))

    for n in data.nodes:
        p = n.props
        pkg = s.ai_AIPackage(spdxId=model_iri(n.id), name=str(p.get("name") or n.id), creationInfo=ci)
        pkg.software_primaryPurpose = s.software_SoftwarePurpose.model
        if p.get("release_date"):
            pkg.software_packageVersion = str(p["release_date"])
            t = _release_time(p["release_date"])
            if t is not None:
                pkg.releaseTime = t
        if p.get("source") and str(p.get("source_kind")) == "hub_id":
            pkg.software_downloadLocation = f"https://huggingface.co/{p['source']}"
        if p.get("architecture"):
            pkg.ai_typeOfModel = [str(p["architecture"])]
        packages[n.id] = pkg
        objs.append(pkg)
        annotate(pkg, {"lineage": "model", "model_id": n.id, "properties": p})
        lic = spdx_licence(str(p["licence"])) if p.get("licence") else None
        if lic:
            expr = s.simplelicensing_LicenseExpression(spdxId=f"{model_iri(n.id)}:licence", creationInfo=ci,
                                                       simplelicensing_licenseExpression=lic)
            objs += [expr, s.Relationship(spdxId=f"{model_iri(n.id)}:licence-rel", creationInfo=ci, from_=pkg,
                                          to=[expr], relationshipType=s.RelationshipType.hasDeclaredLicense)]
    for i, e in enumerate(data.edges):
        child, parent = packages[e.source], packages[e.target]
        if e.type == "UNDOCUMENTED_RELATION":
            rel = s.Relationship(spdxId=f"{_NS}relationship:{i}", creationInfo=ci, from_=child, to=[parent],
                                 relationshipType=s.RelationshipType.other, comment=_comment(e))
        else:
            rel = s.Relationship(spdxId=f"{_NS}relationship:{i}", creationInfo=ci, from_=parent, to=[child],
                                 relationshipType=s.RelationshipType.ancestorOf, comment=_comment(e))
        objs.append(rel)
        annotate(rel, {"lineage": "relation", "type": e.type, "claim": e.claim, "source": e.source,
                       "target": e.target, "properties": e.props})
    doc = s.SpdxDocument(spdxId=f"{_NS}document", name="lineage export", creationInfo=ci,
                         profileConformance=[s.ProfileIdentifierType.core, s.ProfileIdentifierType.software,
                                             s.ProfileIdentifierType.ai],
                         element=objs, rootElement=list(packages.values()) or [org])
    objset = s.SHACLObjectSet()
    for o in [doc, *objs]:
        objset.add(o)
    buf = io.BytesIO()
    s.JSONLDSerializer().write(objset, buf)
    return buf.getvalue().decode("utf-8")


def load_spdx(text: str):
    """The document's objects, decoded (and so checked) by the SPDX bindings."""
    from spdx_python_model import v3_0_1 as s

    objset = s.SHACLObjectSet()
    s.JSONLDDeserializer().read(io.BytesIO(text.encode("utf-8")), objset)
    return objset


def from_spdx(text: str) -> ExportData:
    """The models and lineage relations a document from :func:`to_spdx` holds."""
    from spdx_python_model import v3_0_1 as s

    nodes, edges = [], []
    for a in load_spdx(text).foreach_type(s.Annotation):
        try:
            st = json.loads(a.statement)
        except (TypeError, json.JSONDecodeError):
            continue
        if not isinstance(st, dict):
            continue
        if st.get("lineage") == "model":
            nodes.append(Node(st["model_id"], st["properties"]))
        elif st.get("lineage") == "relation":
            edges.append(Edge(st["source"], st["target"], st["type"], st["properties"]))
    return ExportData(nodes, edges)
