// name: reference_models
// mode: read
// description: The local test's reference sample: the valid models with the smallest sample_key (a hash of the id), in key order.
// param size: how many models
// :param size => 2001
MATCH (m:Model)
WHERE m.sample_key IS NOT NULL AND m.status = 'ok' AND m.dna IS NOT NULL AND coalesce(m.degenerate, false) = false
RETURN m.id AS id
ORDER BY m.sample_key
LIMIT $size
