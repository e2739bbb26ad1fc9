// name: existing_models
// mode: read
// description: Models already in the graph with a DNA: id, status, source, source fingerprint (names, sizes, mtimes) DNA provenance key (ingest uses it to skip what is done) and declared parents (to refuse declared cycles through the graph).
UNWIND [1] AS _
MATCH (m:Model)
RETURN m.id AS id, m.status AS status, m.source AS source, m.source_fingerprint AS source_fingerprint, m.provenance_key AS provenance_key, m.dna IS NOT NULL AS has_dna,
       coalesce(m.declared_base_models, []) AS declared_parents
