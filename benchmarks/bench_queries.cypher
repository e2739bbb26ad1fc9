// Statements benchmarks/bench_queries.py uses to give an imported Hub dump the relations an
// analysis writes (inferred parents, undocumented relations, contradicted declarations,
// licence obligations, families, DNAs), so every shipped query has rows to find. Each block
// starts with a `// -- name` line; each runs as UNWIND $rows batches.

// -- inferred
UNWIND $rows AS r
MATCH (c:Model {id: r.child}), (p:Model {id: r.parent})
MERGE (c)-[i:INFERRED_PARENT]->(p)
SET i.kind = r.kind, i.channel = r.channel, i.confidence = r.confidence, i.distance = r.distance,
    i.evidence = r.evidence

// -- undocumented
UNWIND $rows AS r
MATCH (a:Model {id: r.child}), (b:Model {id: r.parent})
MERGE (a)-[u:UNDOCUMENTED_RELATION]->(b)
SET u.kind = 'parent', u.p_value = r.p_value, u.score = r.score, u.channel = r.channel

// -- contradicted
UNWIND $rows AS r
MATCH (:Model {id: r.child})-[d:DECLARED_PARENT]->(:Model {id: r.parent})
SET d.contradicted = true, d.reason = 'unrelated by the weights', d.p_value = r.p_value, d.distance = r.distance

// -- family
UNWIND $rows AS r
MATCH (m:Model {id: r.id})
SET m.family = r.family, m.n_descendants = r.n_descendants, m.status = coalesce(m.status, 'ok')

// -- family_nodes
UNWIND $rows AS r
MERGE (f:Family {name: r.name})
SET f.n_models = r.n_models, f.slope = r.slope, f.speed = r.speed, f.r2 = r.r2, f.span_days = r.span_days

// -- obligation
UNWIND $rows AS r
MATCH (m:Model {id: r.child}), (a:Model {id: r.origin})
MERGE (m)-[o:OBLIGATION_FROM {kind: r.kind}]->(a)
SET o.status = r.status, o.conflict = r.conflict, o.inferred_only = r.inferred_only, o.licence = r.licence,
    o.licence_name = r.licence, o.clause = 'benchmark', o.generations = r.generations, o.path = r.path,
    o.sources = r.sources, o.via_outputs = false, o.via_contradicted = false, o.hops = r.generations

// -- licence_status
UNWIND $rows AS r
MATCH (m:Model {id: r.id})
SET m.licence_status = r.licence_status, m.licence_id = r.licence_id

// -- dna
UNWIND $rows AS r
MATCH (m:Model {id: r.id})
SET m.dna = r.dna, m.status = 'ok'
