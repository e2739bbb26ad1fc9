// name: stored_parent_chains
// mode: read
// description: For each given model, the chain of stored inferred parents above it (itself first, then its parent, its parent's parent, ...; at most 64 steps), read in one query instead of a query per generation.
// param ids: list of model ids
// :param ids => ['model-a']
UNWIND $ids AS mid
MATCH (m:Model {id: mid})
OPTIONAL MATCH path = (m)-[:INFERRED_PARENT*1..64]->(:Model)
WITH m, path
ORDER BY length(path) DESC
WITH m, collect(path)[0] AS longest
RETURN m.id AS id, CASE WHEN longest IS NULL THEN [m.id] ELSE [n IN nodes(longest) | n.id] END AS chain
