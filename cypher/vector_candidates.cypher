// name: vector_candidates
// mode: read
// description: For each given DNA, the ids of the k valid models nearest to it by the model_dna vector index (approximate; the caller re-measures exact distances). Rows: {id, dna}.
// param rows: list of maps {id, dna}
// param k: candidates per row
// :param rows => []
// :param k => 25
UNWIND $rows AS r
CALL db.index.vector.queryNodes('model_dna', $k, r.dna) YIELD node, score
WITH r, node WHERE node.status = 'ok' AND coalesce(node.degenerate, false) = false
RETURN r.id AS id, collect(node.id) AS candidates
