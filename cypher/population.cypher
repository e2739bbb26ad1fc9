// name: population
// mode: read
// description: Every model with a valid (non-degenerate) DNA, with what the phylogeny needs: DNA, family, release date, declared parents.
MATCH (m:Model)
WHERE m.status = 'ok' AND m.dna IS NOT NULL AND coalesce(m.degenerate, false) = false
RETURN m.id AS id, m.dna AS dna, m.family AS family, toString(m.release_date) AS release_date,
       coalesce(m.declared_base_models, []) AS declared_parents, m.declared_relation AS declared_relation, m.declared_source AS declared_source,
       m.architecture AS architecture, m.provenance_key AS provenance_key, m.weights_key AS weights_key, m.weights_path AS weights_path, m.logits_key AS logits_key
ORDER BY id
