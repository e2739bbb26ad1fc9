// name: deepest_descendant
// mode: read
// description: The model with the longest chain of parents above it (declared or inferred), with that chain's length: a good first model to show a lineage for. Ties go to the smaller id.
// param max_depth = 12: longest chain followed
// example: lineage query deepest_descendant
// :param max_depth => 12
MATCH (m:Model)
WHERE m.status = 'ok'
OPTIONAL MATCH p = (m)-[:DECLARED_PARENT|INFERRED_PARENT]->{1,12}(:Model)
WITH m, max(CASE WHEN p IS NULL THEN 0 ELSE length(p) END) AS depth
WHERE depth <= $max_depth
RETURN m.id AS model, depth
ORDER BY depth DESC, model
LIMIT 1
