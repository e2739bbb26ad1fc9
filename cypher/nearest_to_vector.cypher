// name: nearest_to_vector
// mode: read
// description: The k models whose DNA is closest to a given vector (approximate, via the model_dna vector index). Distance is Euclidean.
// param vector: a DNA vector (list of floats of the graph's DNA dimension)
// param k = 10: how many models
// example: lineage query nearest_to_vector --param vector='[0.1, ...]' --param k=5
// :param vector => [0.0]
// :param k => 10
CALL db.index.vector.queryNodes('model_dna', $k, $vector) YIELD node, score
RETURN node.id AS id, node.family AS family,
       sqrt(reduce(acc = 0.0, i IN range(0, size($vector) - 1) | acc + ($vector[i] - node.dna[i]) ^ 2)) AS distance
ORDER BY distance
