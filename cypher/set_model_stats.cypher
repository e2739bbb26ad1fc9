// name: set_model_stats
// mode: write
// description: Per-model figures derived from the whole population: number of inferred descendants (sizes nodes in Browser), the distance to the k-th nearest model, the declared-lineage component and the reference-sample key (what a later placement reads). Rows: {id, n_descendants, knn_radius, declared_component, sample_key}.
// param rows: list of maps
UNWIND $rows AS r
MATCH (m:Model {id: r.id})
SET m.n_descendants = r.n_descendants, m.knn_radius = r.knn_radius, m.declared_component = r.declared_component,
    m.sample_key = r.sample_key
