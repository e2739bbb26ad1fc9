// name: upsert_run
// mode: write
// description: Create or update the :Run node of an ingest. Its id is a hash of the batch and the DNA settings, so rerunning the same batch updates the same node.
// param run_id: the run's id
// param props: map of scalar properties (started, finished, probe_set, probe_hash, encoder, generation, tool_version, ...)
MERGE (r:Run {id: $run_id})
SET r += $props
