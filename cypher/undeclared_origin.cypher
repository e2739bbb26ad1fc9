// name: undeclared_origin
// mode: read
// description: Models the evidence places below a parent while no manifest or card declares any parent for them (undocumented derivatives), with the inferred parent, channel and confidence.
// param min_confidence = 0.0: keep inferred parents at least this confident
// param limit = 1000: at most this many models (most confident first)
// example: lineage query undeclared_origin --param min_confidence=0.9
// :param min_confidence => 0.0
// :param limit => 1000
MATCH (m:Model)-[i:INFERRED_PARENT]->(p:Model)
WHERE NOT (m)-[:DECLARED_PARENT]->() AND size(coalesce(m.declared_base_models, [])) = 0
  AND i.confidence >= $min_confidence
RETURN m.id AS model, p.id AS inferred_parent, i.channel AS channel, i.confidence AS confidence, i.kind AS kind
ORDER BY confidence DESC, model
LIMIT $limit
