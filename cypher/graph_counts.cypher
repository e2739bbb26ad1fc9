// name: graph_counts
// mode: read
// description: Node and relationship counts by label and type (to check that reruns change nothing).
// example: lineage query graph_counts
CALL () {
  MATCH (n) UNWIND labels(n) AS what RETURN 'node' AS kind, what, count(*) AS n
  UNION ALL
  MATCH ()-[r]->() RETURN 'relationship' AS kind, type(r) AS what, count(*) AS n
}
RETURN kind, what, n ORDER BY kind, what
