// name: non_commercial_ancestry
// mode: read
// description: Models (all, or those listed, e.g. the ones headed for production) that inherit non-commercial terms from an ancestor, whatever their own licence says, with the ancestor, the clause, the path and whether only inferred edges carry it.
// param model_ids = null: list of model ids to check, or null for every model
// example: lineage query non_commercial_ancestry --param 'model_ids=["smol-instruct"]'
// :param model_ids => ['smol-instruct']
MATCH (m:Model)-[o:OBLIGATION_FROM {kind: 'non_commercial'}]->(a:Model)
WHERE m <> a AND ($model_ids IS NULL OR m.id IN $model_ids)
RETURN m.id AS model, m.licence AS declared_licence, a.id AS origin, o.licence_name AS origin_licence,
       o.clause AS clause, o.status AS status, o.path AS path, o.sources AS sources, o.inferred_only AS inferred_only
ORDER BY model, origin
