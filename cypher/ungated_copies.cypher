// name: ungated_copies
// mode: read
// description: Gated models re-published without the gate: a model that descends by its weights (declared or inferred parent edges; not through distillation) from an ancestor whose access is gated (the card's extra_gated_prompt, or the Hub's gated flag) while no gate is recorded for the model itself, with the gated ancestor, its gating prompt (first 200 characters), the path and each hop's source (manifest, model_card, or inferred:<channel> with its confidence), and whether only inferred, undeclared edges carry it (listed first). A policy audit: never cut.
// param inferred_only = false: only the copies reached solely through inferred edges
// example: lineage query ungated_copies --param inferred_only=true
// :param inferred_only => false
MATCH (m:Model)-[o:OBLIGATION_FROM {kind: 'gated_access', status: 'ungated'}]->(a:Model)
WHERE NOT $inferred_only OR o.inferred_only
RETURN m.id AS model, m.licence AS declared_licence, a.id AS origin, a.gated_mode AS gated_mode,
       left(a.gating_prompt, 200) AS gating_prompt, o.generations AS generations, o.path AS path,
       o.sources AS sources, o.inferred_only AS inferred_only, o.via_contradicted AS via_contradicted,
       o.reason AS reason
ORDER BY inferred_only DESC, model, origin
