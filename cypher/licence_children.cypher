// name: licence_children
// mode: read
// description: The models with a parent edge the licence inheritance follows (declared or inferred) to one of the named models: a subset recompute walks down to every descendant, a level per call.
// param ids: list of model ids (parents)
// :param ids => ['model-a']
UNWIND $ids AS mid
MATCH (c:Model)-[:DECLARED_PARENT|INFERRED_PARENT]->(:Model {id: mid})
RETURN DISTINCT c.id AS id
