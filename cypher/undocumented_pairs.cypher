// name: undocumented_pairs
// mode: read
// description: Undocumented relations one pair per row (`undocumented` groups them per model): relations the evidence supports (weights where both models' weights share heritage, else the DNA) but no model card or manifest declares, ranked by confidence (undocumented fine-tunes, distillations, re-uploads).
// param limit = 50: how many relations
// param max_p_value = 0.01: keep relations at least this significant
// example: lineage query undocumented_pairs --param limit=20
// :param limit => 50
// :param max_p_value => 0.01
MATCH (a:Model)-[u:UNDOCUMENTED_RELATION]->(b:Model)
WHERE u.p_value <= $max_p_value
OPTIONAL MATCH (x:Model)-[i:INFERRED_PARENT]->(y:Model)
  WHERE u.kind = 'parent' AND x.id = b.id AND y.id = a.id
OPTIONAL MATCH (a)-[w:WEIGHTS_MATCH]-(b)
RETURN a.id AS model, b.id AS related_to, u.kind AS kind, u.score AS score, u.p_value AS p_value,
       a.family AS family, b.family AS related_family,
       CASE WHEN w IS NULL THEN 'dna' ELSE 'weights' END AS channel, i.kind AS derivation, i.evidence AS evidence
ORDER BY score DESC, p_value ASC
LIMIT $limit
