// name: write_leaf_branches
// mode: write
// description: Tree branches from a clade down to a model (a leaf). Rows: {parent, child, length}.
// param rows: list of maps
UNWIND $rows AS r
MATCH (p:Clade {id: r.parent})
MATCH (c:Model {id: r.child})
CREATE (p)-[:BRANCH {length: r.length}]->(c)
