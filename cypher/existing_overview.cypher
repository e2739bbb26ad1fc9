// name: existing_overview
// mode: read
// description: What ingest checks against every model already in the graph, in one row: all ids (look-alike ids, declared parents found nowhere), the DNA provenance keys and counts (a batch made with other settings is refused), and the declared parents of the models that declare any (declared cycles are refused). One row of lists: a row per model cost a 20,000-model graph most of a second in the driver.
UNWIND [1] AS _
MATCH (m:Model)
WITH collect(m.id) AS ids,
     collect(DISTINCT CASE WHEN m.dna IS NOT NULL THEN m.provenance_key END) AS provenance_keys,
     count(CASE WHEN m.dna IS NOT NULL THEN 1 END) AS n_with_dna,
     count(CASE WHEN m.status = 'ok' AND m.dna IS NOT NULL THEN 1 END) AS n_valid,
     collect(CASE WHEN size(coalesce(m.declared_base_models, [])) > 0 THEN {id: m.id, parents: m.declared_base_models} END) AS declared
RETURN ids, provenance_keys, n_with_dna, n_valid, declared
