// name: write_clade_branches
// mode: write
// description: Tree branches between clades. Rows: {parent, child, length}.
// param rows: list of maps
UNWIND $rows AS r
MATCH (p:Clade {id: r.parent})
MATCH (c:Clade {id: r.child})
CREATE (p)-[:BRANCH {length: r.length}]->(c)
