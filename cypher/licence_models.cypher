// name: licence_models
// mode: read
// description: Every model with the name and licence string the licence inheritance needs (failed models too: a licence is metadata, not evidence).
// example: lineage query licence_models
MATCH (m:Model)
RETURN m.id AS id, coalesce(m.name, m.id) AS name, m.licence AS licence
ORDER BY id
