// name: import_metadata_declared
// mode: read
// description: Every model in the graph that declares base models, with them (`lineage import-metadata` refuses a dump whose declarations close a cycle through the graph's).
// example: lineage query import_metadata_declared
MATCH (m:Model)
WHERE size(coalesce(m.declared_base_models, [])) > 0
RETURN m.id AS id, m.declared_base_models AS declared_parents
