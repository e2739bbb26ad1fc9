// name: models
// mode: read
// description: Every model in the graph with its family, status and counts of declared and inferred relations.
// param limit = 1000: how many models
// example: lineage query models --format csv
// :param limit => 1000
MATCH (m:Model)
RETURN m.id AS model, m.family AS family, m.organisation AS organisation, toString(m.release_date) AS released,
       m.status AS status, coalesce(m.degenerate, false) AS degenerate,
       COUNT { (m)-[:DECLARED_PARENT]->() } AS declared_parents,
       COUNT { (m)-[:INFERRED_PARENT]->() } AS inferred_parents,
       coalesce(m.n_descendants, 0) AS n_descendants
ORDER BY family, released, model
LIMIT $limit
