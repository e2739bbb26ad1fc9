// name: unknown_licences
// mode: read
// description: Models whose licence cannot be read against the licence table: none given, a string the table does not hold (reported as written, never guessed), or an entry such as `other` that names no terms; with how many descendants inherit from them.
// example: lineage query unknown_licences
MATCH (m:Model)
WHERE coalesce(m.licence_status, 'none') <> 'known'
OPTIONAL MATCH (d:Model)-[o:OBLIGATION_FROM {kind: 'unknown_terms'}]->(m)
RETURN m.id AS model, m.licence AS declared_licence, coalesce(m.licence_status, 'none') AS licence_status,
       count(DISTINCT d) AS n_descendants
ORDER BY n_descendants DESC, model
