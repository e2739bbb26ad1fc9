// name: import_metadata_link_measured
// mode: write
// description: Connect the models that are not metadata-only (measured: with a DNA, or failed) to the documented graph: an edge from each to every declared base model that is metadata-only, and, where the declaration itself came from a Hub dump, to every declared base in the graph. Ingest draws declared edges only between models with a DNA and would not draw these. Edges carry the declaration's own source and drawn_by 'import-metadata'; an edge already there is kept.
MATCH (c:Model)
WHERE c.status <> 'metadata' AND size(coalesce(c.declared_base_models, [])) > 0
UNWIND c.declared_base_models AS b
MATCH (p:Model {id: b})
WHERE p.status = 'metadata' OR c.declared_source = 'hub-dump'
MERGE (c)-[e:DECLARED_PARENT]->(p)
ON CREATE SET e.relation = c.declared_relation, e.source = coalesce(c.declared_source, 'manifest'), e.drawn_by = 'import-metadata'
