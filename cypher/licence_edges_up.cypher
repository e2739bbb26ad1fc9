// name: licence_edges_up
// mode: read
// description: The parent edges the licence inheritance follows out of the named models (each named model is the child), with the fields of `licence_edges`: a subset recompute walks up from the models it recomputes, a level per call.
// param ids: list of model ids (children)
// :param ids => ['model-a']
UNWIND $ids AS mid
MATCH (c:Model {id: mid})-[r:DECLARED_PARENT|INFERRED_PARENT]->(p:Model)
RETURN c.id AS child, p.id AS parent, type(r) AS type, r.source AS source, r.relation AS relation,
       r.contradicted AS contradicted, r.channel AS channel, r.confidence AS confidence, r.kind AS kind
ORDER BY child, parent, type
