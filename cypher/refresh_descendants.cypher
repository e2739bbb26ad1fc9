// name: refresh_descendants
// mode: write
// description: Recount the inferred descendants of the given models and of all their inferred ancestors (after a placement changed parent edges below them).
// param ids: list of model ids
// :param ids => []
UNWIND $ids AS mid
MATCH (:Model {id: mid})-[:INFERRED_PARENT*0..]->(a:Model)
WITH DISTINCT a
SET a.n_descendants = COUNT { (a)<-[:INFERRED_PARENT*1..]-(:Model) }
