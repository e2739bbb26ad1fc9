// name: ingest_lock_holder
// mode: read
// description: Who holds the ingest lock, and since when (empty when no ingest runs).
// example: lineage query ingest_lock_holder
MATCH (l:IngestLock {name: 'ingest'})
RETURN l.owner AS owner, toString(l.since) AS since
