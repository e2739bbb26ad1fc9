// name: clear_graph
// mode: write
// description: Delete every node and relationship in the database, in batches (used by `lineage db clear --yes` and the tests). Schema stays.
// example: lineage db clear --yes
MATCH (n)
CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 5000 ROWS
