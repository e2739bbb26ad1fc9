// name: set_model_stats
// mode: write
// description: Per-model figures derived from the whole population (number of inferred descendants, used to size nodes in Browser). Rows: {id, n_descendants}.
// param rows: list of maps
UNWIND $rows AS r
MATCH (m:Model {id: r.id})
SET m.n_descendants = r.n_descendants
