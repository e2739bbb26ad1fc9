// name: evidence
// mode: read
// description: What each evidence channel says about one pair of models: DNA distance (computed from the stored vectors; null when either model has no DNA, as models imported from metadata alone), the weights channel's match (relative weight distance, p-value, cosine) when the weights share heritage, inferred and declared parent edges between them with their kind and evidence, and an undocumented relation if one was reported.
// param a: id of one model
// param b: id of the other model
// example: lineage query evidence --param a=smollm2-shout --param b=smollm2-135m-instruct
// :param a => 'smollm2-shout'
// :param b => 'smollm2-135m-instruct'
MATCH (x:Model {id: $a}), (y:Model {id: $b})
OPTIONAL MATCH (x)-[w:WEIGHTS_MATCH]-(y)
OPTIONAL MATCH (x)-[s:SIMILAR_TO]-(y)
OPTIONAL MATCH (x)-[i:INFERRED_PARENT]-(y)
OPTIONAL MATCH (x)-[d:DECLARED_PARENT]-(y)
OPTIONAL MATCH (x)-[u:UNDOCUMENTED_RELATION]-(y)
WITH x, y, w, s, i, d, u,
     CASE WHEN x.dna IS NULL OR y.dna IS NULL THEN null
          ELSE sqrt(reduce(acc = 0.0, k IN range(0, size(x.dna) - 1) | acc + (x.dna[k] - y.dna[k]) ^ 2)) END AS dna_distance
RETURN x.id AS a, y.id AS b, dna_distance, s.rank AS dna_neighbour_rank,
       w IS NOT NULL AS weights_related, w.distance AS weight_distance, w.p_value AS weight_p_value, w.cosine AS weight_cosine,
       CASE WHEN i IS NULL THEN null ELSE startNode(i).id END AS inferred_child, i.kind AS inferred_kind, i.channel AS inferred_channel,
       i.confidence AS inferred_confidence, i.evidence AS inferred_evidence,
       CASE WHEN d IS NULL THEN null ELSE startNode(d).id END AS declared_child, d.relation AS declared_relation,
       d.contradicted AS declared_contradicted, d.reason AS conflict_reason,
       u.kind AS undocumented_kind, u.p_value AS undocumented_p_value
LIMIT 1
