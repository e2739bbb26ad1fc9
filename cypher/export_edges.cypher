// name: export_edges
// mode: read
// description: Every relation between models an export carries (declared and inferred parents, undocumented relations, weight matches, DNA neighbours) with all its properties, as ONE row holding the list `edges` of [source, target, type, properties] (one row, not one per relation: 138k records cost the driver ~5 s more than one record holding 138k lists; the exporter sorts). Only those of the given types, and, when model_ids is a list, only those touching one of those models (null: the whole graph). Direction is child -> parent for the parent kinds.
// param model_ids = null: list of model ids, or null for every model
// param types = ["DECLARED_PARENT", "INFERRED_PARENT", "UNDOCUMENTED_RELATION", "WEIGHTS_MATCH", "SIMILAR_TO"]: relation types to include
// example: lineage query export_edges --param 'model_ids=["smol-instruct"]' --format json
// :param model_ids => ['smol-instruct']
// :param types => ['DECLARED_PARENT', 'INFERRED_PARENT', 'UNDOCUMENTED_RELATION', 'WEIGHTS_MATCH', 'SIMILAR_TO']
MATCH (a:Model)-[r]->(b:Model)
WHERE type(r) IN $types
  AND ($model_ids IS NULL OR a.id IN $model_ids OR b.id IN $model_ids)
RETURN collect([a.id, b.id, type(r), properties(r)]) AS edges
