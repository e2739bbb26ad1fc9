// name: write_undocumented
// mode: write
// description: UNDOCUMENTED_RELATION edges for confident relations that no metadata declares. Rows: {a, b, score, p_value, kind, rank}.
// param rows: list of maps
UNWIND $rows AS r
MATCH (a:Model {id: r.a})
MATCH (b:Model {id: r.b})
CREATE (a)-[:UNDOCUMENTED_RELATION {score: r.score, p_value: r.p_value, kind: r.kind, rank: r.rank}]->(b)
