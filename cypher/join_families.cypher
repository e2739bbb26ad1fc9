// name: join_families
// mode: write
// description: IN_FAMILY edges for placed models (a family new to the graph gets its :Family node; speeds stay those of the last full analysis). Rows: {id, family}.
// param rows: list of maps
// :param rows => []
UNWIND $rows AS r
MATCH (m:Model {id: r.id})
MERGE (f:Family {name: r.family})
ON CREATE SET f.n_models = 0, f.speed_note = 'placed since the last full analysis: no speed yet'
MERGE (m)-[:IN_FAMILY]->(f)
SET f.n_models = COUNT { (f)<-[:IN_FAMILY]-() }
