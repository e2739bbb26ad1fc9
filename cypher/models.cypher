// name: models
// mode: read
// description: Models with their family, status and counts of declared and inferred relations: those in a family first (by family, release date, id; the family index gives the order, so the first `limit` come without sorting the graph), then those without one (by id).
// param limit = 1000: how many models
// example: lineage query models --format csv
// :param limit => 1000
CALL () {
  MATCH (m:Model)
  WHERE m.family IS NOT NULL
  RETURN m ORDER BY m.family, m.release_date, m.id LIMIT $limit
}
WITH collect(m) AS placed
// one row always (an aggregation without grouping keys): empty when `placed` is full
CALL (placed) {
  WITH placed WHERE size(placed) < $limit
  MATCH (m:Model)
  WHERE m.id IS NOT NULL AND m.family IS NULL
  WITH m ORDER BY m.id LIMIT $limit
  RETURN collect(m) AS unplaced
}
UNWIND (placed + unplaced)[0..$limit] AS m
RETURN m.id AS model, m.family AS family, m.organisation AS organisation, toString(m.release_date) AS released,
       m.status AS status, coalesce(m.degenerate, false) AS degenerate,
       COUNT { (m)-[:DECLARED_PARENT]->() } AS declared_parents,
       COUNT { (m)-[:INFERRED_PARENT]->() } AS inferred_parents,
       coalesce(m.n_descendants, 0) AS n_descendants
