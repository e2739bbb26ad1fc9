// name: nearest
// mode: read
// description: The k models whose DNA lies closest to a model's, found with the model_dna vector index (no rows for a model without a DNA) (approximate HNSW search; the exact k nearest are the SIMILAR_TO edges). Distance is the exact Euclidean distance.
// param model_id: id of the model
// param k = 10: how many neighbours
// example: lineage query nearest --param model_id=smol-instruct --param k=5
// :param model_id => 'smol-instruct'
// :param k => 10
MATCH (m:Model {id: $model_id})
WHERE m.dna IS NOT NULL
CALL db.index.vector.queryNodes('model_dna', $k + 1, m.dna) YIELD node, score
WITH m, node, score WHERE node <> m
RETURN node.id AS model, node.family AS family,
       sqrt(reduce(acc = 0.0, i IN range(0, size(m.dna) - 1) | acc + (m.dna[i] - node.dna[i]) ^ 2)) AS distance,
       EXISTS { (m)-[:DECLARED_PARENT|INFERRED_PARENT]-(node) } AS direct_relation
ORDER BY distance
LIMIT $k
