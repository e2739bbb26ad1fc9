// name: licence_models_of
// mode: read
// description: The named models with what the licence inheritance needs (as `licence_models`): name, licence string, access gate, and the fingerprint and count of the obligations stored for each (a subset recompute reads only the models it touches).
// param ids: list of model ids
// :param ids => ['model-a']
UNWIND $ids AS mid
MATCH (m:Model {id: mid})
RETURN m.id AS id, coalesce(m.name, m.id) AS name, m.licence AS licence, m.gated AS gated,
       m.gating_prompt AS gating_prompt, m.gated_mode AS gated_mode, m.licence_digest AS licence_digest,
       COUNT { (m)-[:OBLIGATION_FROM]->() } AS n_stored
ORDER BY id
