// name: import_metadata_targets
// mode: read
// description: For `lineage import-metadata`: which of the given ids are already models in the graph, whether each has a DNA, its own declared base models (with their source) and which of the metadata properties the dump can fill are already set (a model measured here keeps those; the dump fills only the empty ones).
// param ids: list of model ids (the dump's models and the bases they declare)
// param fields: list of property names the dump can fill
// example: lineage query import_metadata_targets --param ids='["smol-base"]' --param fields='["licence"]'
// :param ids => ['smol-base']
// :param fields => ['licence']
UNWIND $ids AS id
MATCH (m:Model {id: id})
RETURN m.id AS id, m.status AS status, m.dna IS NOT NULL AS has_dna,
       coalesce(m.declared_base_models, []) AS declared_parents, m.declared_source AS declared_source,
       [k IN $fields WHERE m[k] IS NOT NULL] AS set_fields
