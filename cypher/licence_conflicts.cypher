// name: licence_conflicts
// mode: read
// description: Licence conflicts: a model whose own licence drops an obligation it inherits from an ancestor (non-commercial terms, share-alike, use restrictions, a naming rule, an outputs restriction), with the ancestor, the clause, the path and each hop's source (manifest, model_card, or inferred:<channel> with its confidence), whether only inferred, undeclared edges carry it (listed first: no card-based tool can find those) and whether it rests on a declaration the evidence contradicts.
// param inferred_only = false: only the conflicts reached solely through inferred edges
// example: lineage query licence_conflicts --param inferred_only=true
// :param inferred_only => false
MATCH (m:Model)-[o:OBLIGATION_FROM]->(a:Model)
WHERE o.conflict AND (NOT $inferred_only OR o.inferred_only)
RETURN m.id AS model, m.licence AS declared_licence, a.id AS origin, o.licence_name AS origin_licence,
       o.kind AS kind, o.clause AS clause, o.licence_url AS url, o.path AS path, o.sources AS sources,
       o.inferred_only AS inferred_only, o.via_outputs AS via_outputs, o.via_contradicted AS via_contradicted,
       o.reason AS reason, o.hops AS hops
ORDER BY inferred_only DESC, model, kind, origin
