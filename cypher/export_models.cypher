// name: export_models
// mode: read
// description: Models with every stored property except the DNA vector, for exports and reports, as ONE row holding the list `models` of [id, [[key, value], ...]] (one row: see export_edges); all models when model_ids is null.
// param model_ids = null: list of model ids, or null for every model
// example: lineage query export_models --param 'model_ids=["smol-instruct"]' --format json
// :param model_ids => ['smol-instruct']
MATCH (m:Model)
WHERE $model_ids IS NULL OR m.id IN $model_ids
RETURN collect([m.id, [k IN keys(m) WHERE k <> 'dna' AND k <> 'id' | [k, m[k]]]]) AS models
