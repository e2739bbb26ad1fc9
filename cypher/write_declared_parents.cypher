// name: write_declared_parents
// mode: write
// description: Draw DECLARED_PARENT edges from each model's declared base models (manifest or model card) to those present in the graph. Rows: {child, parent, relation, source, contradicted, distance, p_value, reason}.
// param rows: list of maps
UNWIND $rows AS r
MATCH (c:Model {id: r.child})
MATCH (p:Model {id: r.parent})
CREATE (c)-[:DECLARED_PARENT {relation: r.relation, source: r.source, contradicted: r.contradicted,
                              distance: r.distance, p_value: r.p_value, reason: r.reason}]->(p)
