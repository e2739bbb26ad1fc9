// name: conflicts
// mode: read
// description: Declared parents the evidence contradicts (released after the child; unrelated by the strongest channel for the pair; or, by the weights, another model is the direct parent), with the inferred parent, its kind and evidence instead.
// param limit = 1000: at most this many rows (the most doubtful declarations first)
// example: lineage query conflicts
// :param limit => 1000
MATCH (c:Model)-[d:DECLARED_PARENT]->(p:Model)
WHERE d.contradicted
OPTIONAL MATCH (c)-[i:INFERRED_PARENT]->(q:Model)
RETURN c.id AS model, p.id AS declared_parent, d.relation AS declared_relation, d.source AS declared_in,
       d.distance AS distance, d.p_value AS p_value, d.reason AS reason,
       q.id AS evidence_suggests, i.confidence AS suggestion_confidence, i.channel AS channel, i.kind AS suggested_kind,
       i.evidence AS evidence
ORDER BY p_value DESC, model
LIMIT $limit
