// name: licence_models
// mode: read
// description: Every model with the name, licence string and access gate (the Hub's gated flag and mode, the card's gating prompt) the licence inheritance needs (failed models too: a licence is metadata, not evidence), and the fingerprint and count of the obligations stored for it (a recompute rewrites only the models whose obligations changed).
// example: lineage query licence_models
MATCH (m:Model)
RETURN m.id AS id, coalesce(m.name, m.id) AS name, m.licence AS licence, m.gated AS gated,
       m.gating_prompt AS gating_prompt, m.gated_mode AS gated_mode, m.licence_digest AS licence_digest,
       COUNT { (m)-[:OBLIGATION_FROM]->() } AS n_stored
ORDER BY id
