// name: clear_placed_edges
// mode: write
// description: Before a placement rewrites them: the outgoing similarity, inferred-parent, declared-parent and family edges, and every undocumented relation, of the given models.
// param ids: list of model ids
// :param ids => []
UNWIND $ids AS mid
MATCH (m:Model {id: mid})
OPTIONAL MATCH (m)-[r:SIMILAR_TO|INFERRED_PARENT|DECLARED_PARENT|IN_FAMILY]->()
DELETE r
WITH DISTINCT m
OPTIONAL MATCH (m)-[u:UNDOCUMENTED_RELATION]-()
DELETE u
