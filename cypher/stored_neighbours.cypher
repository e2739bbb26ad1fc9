// name: stored_neighbours
// mode: read
// description: For each given model, its stored nearest models (SIMILAR_TO targets) and its stored inferred parent, if any.
// param ids: list of model ids
// :param ids => ['model-a']
UNWIND $ids AS mid
MATCH (m:Model {id: mid})
OPTIONAL MATCH (m)-[:SIMILAR_TO]->(o:Model)
WITH m, collect(o.id) AS neighbours
OPTIONAL MATCH (m)-[:INFERRED_PARENT]->(p:Model)
RETURN m.id AS id, neighbours, collect(p.id) AS parents
