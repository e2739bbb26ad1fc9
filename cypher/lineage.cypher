// name: lineage
// mode: read
// description: Ancestors and descendants of a model, each with its path, whether the path rests on declared metadata, on inferred (DNA) parents, or on both, where each step's claim comes from (manifest, model_card, or the evidence channel that decided: weights or dna), and each step's derivation kind (declared relation or inferred kind). Up to 12 generations each way; the shortest path per relative is shown.
// param model_id: id of the model
// example: lineage query lineage --param model_id=smol-instruct
// :param model_id => 'smol-instruct'
MATCH (m:Model {id: $model_id})
CALL (m) {
  MATCH p = (m)-[:DECLARED_PARENT|INFERRED_PARENT]->{1,12}(other:Model)
  RETURN 'ancestor' AS direction, other, p
  UNION ALL
  MATCH p = (other:Model)-[:DECLARED_PARENT|INFERRED_PARENT]->{1,12}(m)
  RETURN 'descendant' AS direction, other, p
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
