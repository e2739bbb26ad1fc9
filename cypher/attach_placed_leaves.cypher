// name: attach_placed_leaves
// mode: write
// description: Hang newly placed models in the stored tree: each becomes a leaf of the clade that holds its nearest model (a polytomy; branch marked placed), until the next full analysis rebuilds the tree. Rows: {id, nearest, length}.
// param rows: list of maps
// :param rows => []
UNWIND $rows AS r
MATCH (m:Model {id: r.id})
OPTIONAL MATCH (m)<-[old:BRANCH]-()
DELETE old
WITH DISTINCT m, r
MATCH (:Model {id: r.nearest})<-[:BRANCH]-(c:Clade)
CREATE (c)-[:BRANCH {length: r.length, placed: true}]->(m)
