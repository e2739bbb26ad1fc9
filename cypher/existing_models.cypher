// name: existing_models
// mode: read
// description: Models already in the graph with a DNA: id, status, source fingerprint and DNA provenance key (ingest uses it to skip what is done).
UNWIND [1] AS _
MATCH (m:Model)
RETURN m.id AS id, m.status AS status, m.source AS source, m.provenance_key AS provenance_key, m.dna IS NOT NULL AS has_dna
