// name: population_of
// mode: read
// description: The named models with a valid DNA, with what the analysis needs (as `population`) and what a placement keeps per model: the distance to its k-th nearest model, its declared-lineage component, its reference-sample key.
// param ids: list of model ids
// :param ids => ['model-a']
UNWIND $ids AS mid
MATCH (m:Model {id: mid})
WHERE m.status = 'ok' AND m.dna IS NOT NULL AND coalesce(m.degenerate, false) = false
RETURN m.id AS id, m.dna AS dna, m.family AS family, toString(m.release_date) AS release_date,
       coalesce(m.declared_base_models, []) AS declared_parents, m.declared_relation AS declared_relation,
       m.declared_source AS declared_source, m.weights_key AS weights_key, m.logits_key AS logits_key,
       m.knn_radius AS knn_radius, m.declared_component AS declared_component
ORDER BY id
