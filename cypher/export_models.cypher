// name: export_models
// mode: read
// description: Models with every stored property except the DNA vector (as [key, value] pairs), for exports and reports; all models when model_ids is null.
// param model_ids = null: list of model ids, or null for every model
// example: lineage query export_models --param 'model_ids=["smol-instruct"]' --format json
// :param model_ids => ['smol-instruct']
MATCH (m:Model)
WHERE $model_ids IS NULL OR m.id IN $model_ids
RETURN m.id AS id, [k IN keys(m) WHERE k <> 'dna' AND k <> 'id' | [k, m[k]]] AS props
ORDER BY id
