// name: set_licence_stats
// mode: write
// description: Per-model licence summary from the inheritance: the table entry its licence string names (null when none or unknown), whether it was found (known, unidentified, unknown, none), the licences whose terms reach it (its own first) and their SPDX expression, and counts of obligations, conflicts, obligations reached only through inferred edges and gated ancestors whose gate it drops. Rows: {id, licence_id, licence_status, licence_concluded, licence_expression, n_obligations, n_licence_conflicts, n_inferred_obligations, n_ungated, licence_digest (a fingerprint of the model's obligations and summary)}.
// param rows: list of maps
UNWIND $rows AS r
MATCH (m:Model {id: r.id})
SET m.licence_id = r.licence_id, m.licence_status = r.licence_status, m.licence_concluded = r.licence_concluded,
    m.licence_expression = r.licence_expression, m.n_obligations = r.n_obligations,
    m.n_licence_conflicts = r.n_licence_conflicts, m.n_inferred_obligations = r.n_inferred_obligations,
    m.n_ungated = r.n_ungated,
    m.licence_digest = r.licence_digest
