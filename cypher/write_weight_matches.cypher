// name: write_weight_matches
// mode: write
// description: WEIGHTS_MATCH edges between models whose weights share heritage (the weights channel's test, p-value at most the ingest's fpr), with the relative weight distance, p-value, norm-weighted cosine and the number of matrices compared. Rows: {a, b, distance, p_value, cosine, n_matched}.
// param rows: list of maps
UNWIND $rows AS r
MATCH (a:Model {id: r.a})
MATCH (b:Model {id: r.b})
CREATE (a)-[:WEIGHTS_MATCH {distance: r.distance, p_value: r.p_value, cosine: r.cosine, n_matched: r.n_matched}]->(b)
