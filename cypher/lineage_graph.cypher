// name: lineage_graph
// mode: read
// description: A model's lineage as a graph for Neo4j Browser: every declared and inferred parent path up to 12 generations up and down, plus undocumented relations touching it.
// param model_id: id of the model
// example: lineage query lineage_graph --param model_id=smol-instruct --format json
// :param model_id => 'smol-instruct'
MATCH (m:Model {id: $model_id})
CALL (m) {
  MATCH p = (m)-[:DECLARED_PARENT|INFERRED_PARENT]->{1,12}(:Model)
  RETURN p
  UNION
  MATCH p = (:Model)-[:DECLARED_PARENT|INFERRED_PARENT]->{1,12}(m)
  RETURN p
  UNION
  MATCH p = (m)-[:UNDOCUMENTED_RELATION]-(:Model)
  RETURN p
}
RETURN p
