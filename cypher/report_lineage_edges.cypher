// name: report_lineage_edges
// mode: read
// description: The declared and inferred parent edges among a model's ancestors and descendants (up to 12 generations and `limit` each way, found breadth-first), with their properties, for the report's picture. Direction is child -> parent.
// param model_id: id of the model
// param limit = 100: at most this many ancestors and this many descendants
// example: lineage query report_lineage_edges --param model_id=smol-instruct --format json
// :param model_id => 'smol-instruct'
// :param limit => 100
MATCH (m:Model {id: $model_id})
CALL (m) {
  MATCH p = ANY SHORTEST (m)-[:DECLARED_PARENT|INFERRED_PARENT]->{1,12}(:Model)
  WITH p LIMIT $limit
  RETURN collect(p) AS up
}
// descendants: the direct children first, read lazily (a hub base has tens of thousands: when
// they fill the limit the walk stops there); otherwise breadth-first to 12 generations
CALL (m) {
  MATCH (o:Model)-[:DECLARED_PARENT|INFERRED_PARENT]->(m)
  WITH DISTINCT o LIMIT $limit
  RETURN collect(o) AS children
}
CALL (m, children) {
  WITH m, children WHERE size(children) < $limit
  MATCH p = ANY SHORTEST (:Model)-[:DECLARED_PARENT|INFERRED_PARENT]->{1,12}(m)
  WITH p LIMIT $limit
  RETURN collect(p) AS down
}
WITH m, reduce(acc = [m] + children, q IN up + down | acc + nodes(q)) AS bag
UNWIND bag AS a
WITH collect(DISTINCT a) AS members
UNWIND members AS a
MATCH (a)-[r:DECLARED_PARENT|INFERRED_PARENT]->(b:Model)
WHERE b IN members
RETURN a.id AS source, b.id AS target, type(r) AS type, properties(r) AS props
ORDER BY type, source, target
