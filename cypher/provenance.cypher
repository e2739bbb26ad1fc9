// name: provenance
// mode: read
// description: Where a model's DNA comes from: `dna_source` (`extracted` by lineage from the model's answers, or `file`: a precomputed DNA file the user supplied, not measured here), the run that produced it, the probe set, encoder, generation settings and tool version.
// param model_id: id of the model
// example: lineage query provenance --param model_id=smol-instruct
// :param model_id => 'smol-instruct'
MATCH (m:Model {id: $model_id})
OPTIONAL MATCH (r:Run)-[:PRODUCED]->(m)
RETURN m.id AS model, m.status AS status, m.source AS source, m.source_kind AS source_kind, m.dna_source AS dna_source,
       m.provenance_key AS provenance_key, m.probe_set AS probe_set, m.probe_hash AS probe_hash,
       m.n_probes AS n_probes, m.encoder AS encoder, m.generation AS generation, m.dtype AS dtype,
       m.dna_dim AS dna_dim, m.projection_seed AS projection_seed, m.n_empty AS n_empty,
       m.degenerate AS degenerate, m.tool_version AS tool_version,
       r.id AS run, toString(r.started) AS run_started, toString(r.finished) AS run_finished
