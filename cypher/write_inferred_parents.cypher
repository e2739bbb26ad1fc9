// name: write_inferred_parents
// mode: write
// description: INFERRED_PARENT edges (child to parent) with confidence, p-value, DNA distance, method, and whether metadata documents the relation. Rows: {child, parent, confidence, p_value, distance, method, documented}.
// param rows: list of maps
UNWIND $rows AS r
MATCH (c:Model {id: r.child})
MATCH (p:Model {id: r.parent})
CREATE (c)-[:INFERRED_PARENT {confidence: r.confidence, p_value: r.p_value, distance: r.distance,
                              method: r.method, documented: r.documented}]->(p)
