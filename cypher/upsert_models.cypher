// name: upsert_models
// mode: write
// description: Create or update :Model nodes with their DNA and metadata in one statement, so no model is ever stored without its DNA; links each to the :Run that produced it. Rows: {id, props, dna, release_date}.
// param rows: list of maps {id: string, props: map of scalar properties, dna: list of floats, release_date: 'YYYY-MM-DD' or null}
// param run_id: id of the :Run writing these models
UNWIND $rows AS r
MERGE (m:Model {id: r.id})
SET m += r.props, m.dna = r.dna, m.status = 'ok',
    m.release_date = CASE WHEN r.release_date IS NULL THEN null ELSE date(r.release_date) END
REMOVE m.error
WITH m
MATCH (run:Run {id: $run_id})
OPTIONAL MATCH (m)<-[old:PRODUCED]-(other:Run) WHERE other.id <> $run_id
DELETE old
MERGE (run)-[:PRODUCED]->(m)
