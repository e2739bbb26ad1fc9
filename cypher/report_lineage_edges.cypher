// name: report_lineage_edges
// mode: read
// description: Every declared and inferred parent edge on a lineage path through a model (up to 12 generations up and down), with its properties, for the report's picture. Direction is child -> parent.
// param model_id: id of the model
// example: lineage query report_lineage_edges --param model_id=smol-instruct --format json
// :param model_id => 'smol-instruct'
MATCH (m:Model {id: $model_id})
CALL (m) {
  MATCH p = (m)-[:DECLARED_PARENT|INFERRED_PARENT]->{1,12}(:Model)
  RETURN p
  UNION
  MATCH p = (:Model)-[:DECLARED_PARENT|INFERRED_PARENT]->{1,12}(m)
  RETURN p
}
UNWIND relationships(p) AS r
WITH DISTINCT r
RETURN startNode(r).id AS source, endNode(r).id AS target, type(r) AS type, properties(r) AS props
ORDER BY type, source, target
