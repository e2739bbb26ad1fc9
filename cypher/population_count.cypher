// name: population_count
// mode: read
// description: Number of models with a valid (non-degenerate) DNA: the population every decision is corrected for.
MATCH (m:Model)
WHERE m.status = 'ok' AND m.dna IS NOT NULL AND coalesce(m.degenerate, false) = false
RETURN count(m) AS n
