// name: set_placed_stats
// mode: write
// description: What placement keeps per model: the distance to its k-th nearest model (a new model closer than it changes its neighbours), its declared-lineage component and its reference-sample key. Rows: {id, knn_radius, declared_component, sample_key}.
// param rows: list of maps
// :param rows => []
UNWIND $rows AS r
MATCH (m:Model {id: r.id})
SET m.knn_radius = r.knn_radius, m.declared_component = r.declared_component, m.sample_key = r.sample_key
