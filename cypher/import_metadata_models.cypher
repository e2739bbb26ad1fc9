// name: import_metadata_models
// mode: write
// description: Write a Hub dump's models: a model new to the graph is created with status 'metadata' and no DNA (so `population` and every DNA computation skip it); an existing one gets the properties in r.props only (the importer leaves out what a model measured here already has). Dates are ISO 8601 strings, written as date / datetime values; a null date leaves the property as it is.
// param rows: list of maps {id: string, props: map of scalar and list properties, release_date: 'YYYY-MM-DD' or null, created_at: ISO date-time or null, last_modified: ISO date-time or null}
UNWIND $rows AS r
MERGE (m:Model {id: r.id})
ON CREATE SET m.status = 'metadata'
SET m += r.props,
    m.release_date = CASE WHEN r.release_date IS NULL THEN m.release_date ELSE date(r.release_date) END,
    m.created_at = CASE WHEN r.created_at IS NULL THEN m.created_at ELSE datetime(r.created_at) END,
    m.last_modified = CASE WHEN r.last_modified IS NULL THEN m.last_modified ELSE datetime(r.last_modified) END
