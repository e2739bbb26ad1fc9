// name: conflicts
// mode: read
// description: Declared parents that the DNA contradicts (a model card names a parent whose behaviour is no closer than an unrelated model's), with the DNA's best candidate instead.
// example: lineage query conflicts
MATCH (c:Model)-[d:DECLARED_PARENT]->(p:Model)
WHERE d.contradicted
OPTIONAL MATCH (c)-[i:INFERRED_PARENT]->(q:Model)
RETURN c.id AS model, p.id AS declared_parent, d.relation AS declared_relation, d.source AS declared_in,
       d.distance AS distance, d.p_value AS p_value, d.reason AS reason,
       q.id AS dna_suggests, i.confidence AS suggestion_confidence
ORDER BY p_value DESC, model
