// name: licence_exposure
// mode: read
// description: For one base model: every descendant (through declared or inferred parent edges, up to 12 generations) that owes the base's licence terms (an obligation of the same licence, reached from the base or from another model under it; distillation included where the licence reaches models trained on outputs), the licence each declares, how many of those obligations it drops, and whether only inferred edges carry them; conflicts first.
// param base_id: id of the base model
// param limit = 1000: at most this many descendants (conflicts first)
// example: lineage query licence_exposure --param base_id=smol-base
// :param base_id => 'smol-base'
// :param limit => 1000
MATCH (b:Model {id: $base_id})
MATCH p = ANY SHORTEST (d:Model)-[:DECLARED_PARENT|INFERRED_PARENT]->{1,12}(b)
WITH b, d, length(p) AS generations
MATCH (d)-[o:OBLIGATION_FROM]->(a:Model)
WHERE a <> d AND (a = b OR (b.licence_id IS NOT NULL AND o.licence = b.licence_id))
ORDER BY o.generations, o.kind
WITH d, b, generations, collect(o) AS os
RETURN d.id AS model, d.licence AS declared_licence, d.licence_status AS licence_status, b.licence AS base_licence,
       generations, size([x IN os WHERE x.conflict]) AS n_dropped,
       [x IN os WHERE x.conflict | x.kind] AS dropped,
       all(x IN os WHERE x.inferred_only) AS inferred_only,
       head(os).path AS path, head(os).sources AS sources
ORDER BY n_dropped DESC, generations, model
LIMIT $limit
