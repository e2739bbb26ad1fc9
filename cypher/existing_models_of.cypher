// name: existing_models_of
// mode: read
// description: The named models already in the graph: id, status, source, source fingerprint (names, sizes, mtimes), DNA provenance key and whether they have a DNA (ingest skips a model whose DNA is there from the same source and settings).
// param ids: list of model ids
// :param ids => ['model-a']
UNWIND $ids AS mid
MATCH (m:Model {id: mid})
RETURN m.id AS id, m.status AS status, m.source AS source, m.source_fingerprint AS source_fingerprint,
       m.provenance_key AS provenance_key, m.dna IS NOT NULL AS has_dna
