// name: import_metadata_edges
// mode: write
// description: Draw the DECLARED_PARENT edges a Hub dump declares for its metadata-only models (source 'hub-dump', the dump's base_model_relation as relation, drawn_by 'import-metadata'); a parent absent from the graph draws no edge. An edge already there is kept as it is.
// param rows: list of maps {child: string, parent: string, relation: string or null}
UNWIND $rows AS r
MATCH (c:Model {id: r.child})
MATCH (p:Model {id: r.parent})
MERGE (c)-[e:DECLARED_PARENT]->(p)
ON CREATE SET e.relation = r.relation, e.source = 'hub-dump', e.drawn_by = 'import-metadata'
