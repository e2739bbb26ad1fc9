// name: undocumented
// mode: read
// description: Models whose place in the lineage no model card or manifest documents, one row per model: the parent the evidence infers for it (kind, channel, confidence, evidence), its declared parents if any, and every model the evidence relates it to across declared lineages, strongest first (undocumented fine-tunes, prunings, distillations, re-uploads). Each undocumented relation belongs to the model it leaves unplaced: the evidence's child; for a relation without a direction, the end with no declared parent, else the end with an inferred parent, else the later release. `undocumented_pairs` lists the relations one by one.
// param limit = 50: how many models
// param max_p_value = 0.01: keep relations at least this significant
// example: lineage query undocumented --param limit=20
// :param limit => 50
// :param max_p_value => 0.01
MATCH (a:Model)-[u:UNDOCUMENTED_RELATION]->(b:Model)
WHERE u.p_value <= $max_p_value
WITH a, b, u,
     EXISTS { (a)-[:DECLARED_PARENT]->(:Model) } AS a_declared, EXISTS { (b)-[:DECLARED_PARENT]->(:Model) } AS b_declared,
     EXISTS { (a)-[:INFERRED_PARENT]->(:Model) } AS a_inferred, EXISTS { (b)-[:INFERRED_PARENT]->(:Model) } AS b_inferred
WITH u, CASE
       WHEN u.kind = 'parent' THEN [b, a]
       WHEN a_declared <> b_declared THEN CASE WHEN a_declared THEN [b, a] ELSE [a, b] END
       WHEN a_inferred <> b_inferred THEN CASE WHEN a_inferred THEN [a, b] ELSE [b, a] END
       WHEN coalesce(a.release_date > b.release_date, false) THEN [a, b]
       ELSE [b, a] END AS ends
WITH ends[0] AS m, ends[1] AS r, u
ORDER BY u.p_value ASC, u.score DESC, r.id
WITH m, collect(r.id) AS relatives, min(u.p_value) AS p_value, max(u.score) AS score
OPTIONAL MATCH (m)-[i:INFERRED_PARENT]->(q:Model)
WITH m, relatives, p_value, score, i, q
ORDER BY i.confidence DESC, q.id
WITH m, relatives, p_value, score,
     collect(CASE WHEN q IS NULL THEN null ELSE {parent: q.id, kind: i.kind, channel: coalesce(i.channel, 'dna'),
                                                 confidence: i.confidence, evidence: i.evidence} END) AS inferred
OPTIONAL MATCH (m)-[:DECLARED_PARENT]->(d:Model)
WITH m, relatives, p_value, score, inferred, d
ORDER BY d.id
WITH m, relatives, p_value, score, inferred, collect(d.id) AS declared_parents
RETURN m.id AS model, m.family AS family, inferred[0].parent AS parent, inferred[0].kind AS kind,
       inferred[0].channel AS channel, inferred[0].confidence AS confidence,
       [x IN inferred[1..] | x.parent] AS other_inferred_parents, declared_parents,
       size(relatives) AS n_relatives, relatives, p_value, score, inferred[0].evidence AS evidence
ORDER BY p_value ASC, score DESC, model
LIMIT $limit
