// name: write_similar
// mode: write
// description: SIMILAR_TO edges from each model to its k nearest models by exact Euclidean DNA distance. Rows: {a, b, distance, rank}.
// param rows: list of maps
UNWIND $rows AS r
MATCH (a:Model {id: r.a})
MATCH (b:Model {id: r.b})
CREATE (a)-[:SIMILAR_TO {distance: r.distance, rank: r.rank}]->(b)
