// name: lineage
// mode: read
// description: Ancestors and descendants of a model, each with its path, whether the path rests on declared metadata, on inferred (DNA) parents, or on both, where each step's claim comes from (manifest, model_card, or the evidence channel that decided: weights or dna), and each step's derivation kind (declared relation or inferred kind). Up to 12 generations and `limit` relatives each way, found breadth-first (a base with tens of thousands of descendants answers with the first `limit` found, nearest generations first; raise `limit` to see more). Per relative, its shortest paths are compared and the one resting most on declarations is shown; `all_evidence` lists what its shortest paths rest on.
// param model_id: id of the model
// param limit = 500: at most this many ancestors and this many descendants
// example: lineage query lineage --param model_id=smol-instruct
// :param model_id => 'smol-instruct'
// :param limit => 500
MATCH (m:Model {id: $model_id})
// descendants: the direct children first, read lazily (a hub base has tens of thousands: when
// they fill the limit the walk stops there); otherwise breadth-first to 12 generations
CALL (m) {
  MATCH (o:Model)-[:DECLARED_PARENT|INFERRED_PARENT]->(m)
  WITH DISTINCT o LIMIT $limit
  RETURN collect(o) AS children
}
CALL (m, children) {
  WITH m, children WHERE size(children) < $limit
  MATCH p = ANY SHORTEST (o:Model)-[:DECLARED_PARENT|INFERRED_PARENT]->{1,12}(m)
  WITH o LIMIT $limit
  RETURN collect(o) AS deeper
}
WITH m, CASE WHEN size(children) >= $limit THEN children ELSE deeper END AS below
CALL (m, below) {
  MATCH p = ANY SHORTEST (m)-[:DECLARED_PARENT|INFERRED_PARENT]->{1,12}(o:Model)
  WITH o LIMIT $limit
  MATCH p = ALL SHORTEST (m)-[:DECLARED_PARENT|INFERRED_PARENT]->{1,12}(o)
  RETURN 'ancestor' AS direction, o AS other, p
  UNION ALL
  UNWIND below AS o
  MATCH p = ALL SHORTEST (o)-[:DECLARED_PARENT|INFERRED_PARENT]->{1,12}(m)
  RETURN 'descendant' AS direction, o AS other, p
}
WITH direction, other, p,
     [r IN relationships(p) | type(r)] AS kinds
WITH direction, other, p, kinds,
     CASE WHEN all(k IN kinds WHERE k = 'DECLARED_PARENT') THEN 'declared'
          WHEN all(k IN kinds WHERE k = 'INFERRED_PARENT') THEN 'inferred'
          ELSE 'mixed' END AS evidence
ORDER BY length(p), size([k IN kinds WHERE k = 'DECLARED_PARENT']) DESC
WITH direction, other, collect({p: p, evidence: evidence, kinds: kinds})[0] AS best,
     collect(DISTINCT evidence) AS all_evidence
RETURN direction, other.id AS model, other.family AS family, length(best.p) AS generations,
       [n IN nodes(best.p) | n.id] AS path, best.evidence AS evidence, all_evidence,
       [r IN relationships(best.p) | CASE type(r) WHEN 'DECLARED_PARENT' THEN r.source ELSE coalesce(r.channel, 'dna') END] AS sources,
       [r IN relationships(best.p) WHERE type(r) = 'INFERRED_PARENT' | r.confidence] AS inferred_confidences,
       [r IN relationships(best.p) | coalesce(r.kind, r.relation)] AS kinds,
       [r IN relationships(best.p) WHERE type(r) = 'INFERRED_PARENT' | r.channel] AS inferred_channels
ORDER BY direction, generations, model
