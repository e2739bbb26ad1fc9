// name: release_ingest_lock
// mode: write
// description: Release the ingest lock if the given owner holds it (`lineage db unlock` passes the current holder to break a dead one).
// param owner: the holder to release
MATCH (l:IngestLock {name: 'ingest', owner: $owner})
DELETE l
