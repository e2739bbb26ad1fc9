// name: licence_models
// mode: read
// description: Every model with the name and licence string the licence inheritance needs (failed models too: a licence is metadata, not evidence), and the fingerprint and count of the obligations stored for it (a recompute rewrites only the models whose obligations changed).
// example: lineage query licence_models
MATCH (m:Model)
RETURN m.id AS id, coalesce(m.name, m.id) AS name, m.licence AS licence, m.licence_digest AS licence_digest,
       COUNT { (m)-[:OBLIGATION_FROM]->() } AS n_stored
ORDER BY id
