// name: record_failed_models
// mode: write
// description: Record models whose extraction failed in this run, with the reason. A model that already has a valid DNA keeps it (status unchanged, last_error set); a new one is stored with status 'failed' and no DNA, so queries that need DNA skip it.
// param rows: list of maps {id: string, error: string, props: map of scalar properties}
// param run_id: id of the :Run
UNWIND $rows AS r
MERGE (m:Model {id: r.id})
ON CREATE SET m += r.props, m.status = 'failed'
SET m.error = r.error, m.last_error = r.error,
    m.status = CASE WHEN m.dna IS NULL THEN 'failed' ELSE m.status END
WITH m
MATCH (run:Run {id: $run_id})
MERGE (run)-[:FAILED]->(m)
