// name: clear_graph_locked
// mode: write
// description: Delete every node and relationship except the ingest lock, in batches (used by `lineage db clear --yes`, which holds that lock meanwhile: the lock node must outlive every batch, or an ingest could start between two batches and lose its writes to the next one). Schema stays.
// example: lineage db clear --yes
MATCH (n) WHERE NOT n:IngestLock
CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 5000 ROWS
