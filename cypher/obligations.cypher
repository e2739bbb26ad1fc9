// name: obligations
// mode: read
// description: What one model must honour and why: the obligations of its own licence and those inherited from each ancestor's, with the clause, the path and each hop's source, whether only inferred edges carry it, and its status (own, kept, carried, dropped = a licence conflict, unverified = its licence cannot be read; kind gated_access: kept, or ungated = a gated ancestor's weights re-published without a gate).
// param model_id: id of the model
// example: lineage query obligations --param model_id=smol-instruct
// :param model_id => 'smol-instruct'
MATCH (m:Model {id: $model_id})-[o:OBLIGATION_FROM]->(a:Model)
RETURN o.kind AS kind, o.status AS status, a.id AS origin, o.licence_name AS licence, o.clause AS clause,
       o.summary AS summary, o.generations AS generations, o.path AS path, o.sources AS sources,
       o.inferred_only AS inferred_only, o.reason AS reason, o.licence_url AS url
ORDER BY generations, CASE status WHEN 'dropped' THEN 0 WHEN 'ungated' THEN 1 WHEN 'unverified' THEN 2 ELSE 3 END,
         kind, origin
