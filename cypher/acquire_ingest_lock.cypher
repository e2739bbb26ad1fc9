// name: acquire_ingest_lock
// mode: write
// description: Take the graph-wide ingest lock (one ingest at a time). Returns the holder; the caller owns the lock only when the returned owner is its own.
// param owner: who asks (host:pid:token)
MERGE (l:IngestLock {name: 'ingest'})
ON CREATE SET l.owner = $owner, l.since = datetime()
RETURN l.owner AS owner, toString(l.since) AS since
