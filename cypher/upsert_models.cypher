// name: upsert_models
// mode: write
// description: Create or update :Model nodes with their DNA in one statement, so no model is ever stored without its DNA. Rows: {id, props, dna}.
// param rows: list of maps {id: string, props: map of scalar properties, dna: list of floats}
UNWIND $rows AS r
MERGE (m:Model {id: r.id})
SET m += r.props, m.dna = r.dna, m.status = 'ok'
REMOVE m.error
