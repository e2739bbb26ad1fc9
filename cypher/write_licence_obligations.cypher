// name: write_licence_obligations
// mode: write
// description: OBLIGATION_FROM edges from a model to the model whose licence imposes the obligation (itself for its own licence): licence, kind, summary, clause, the path and each hop's source, the hops as JSON, whether only inferred edges carry it, its status (own, kept, carried, dropped, unverified) and whether it is a licence conflict. Rows: {model, origin, licence, licence_raw, licence_name, licence_url, kind, summary, clause, generations, path, sources, hops, inferred_only, via_outputs, via_contradicted, status, conflict, reason}.
// param rows: list of maps
UNWIND $rows AS r
MATCH (m:Model {id: r.model})
MATCH (o:Model {id: r.origin})
CREATE (m)-[:OBLIGATION_FROM {licence: r.licence, licence_raw: r.licence_raw, licence_name: r.licence_name,
                              licence_url: r.licence_url, kind: r.kind, summary: r.summary, clause: r.clause,
                              generations: r.generations, path: r.path, sources: r.sources, hops: r.hops,
                              inferred_only: r.inferred_only, via_outputs: r.via_outputs,
                              via_contradicted: r.via_contradicted, status: r.status, conflict: r.conflict,
                              reason: r.reason}]->(o)
