// name: licence_edges
// mode: read
// description: Every parent edge the licence inheritance follows, child to parent: declared (with where it was declared, its relation and whether the evidence contradicts it) and inferred (with the deciding channel, its confidence and the derivation kind).
// example: lineage query licence_edges
MATCH (c:Model)-[r:DECLARED_PARENT|INFERRED_PARENT]->(p:Model)
RETURN c.id AS child, p.id AS parent, type(r) AS type, r.source AS source, r.relation AS relation,
       r.contradicted AS contradicted, r.channel AS channel, r.confidence AS confidence, r.kind AS kind
ORDER BY child, parent, type
