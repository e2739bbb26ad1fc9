// name: import_metadata_clear_edges
// mode: write
// description: Remove the DECLARED_PARENT edges a previous `lineage import-metadata` drew from these models (drawn_by 'import-metadata'), before the dump's declarations are drawn again; edges drawn by ingest stay.
// param rows: list of maps {id: string}
UNWIND $rows AS r
MATCH (:Model {id: r.id})-[e:DECLARED_PARENT]->()
WHERE e.drawn_by = 'import-metadata'
DELETE e
