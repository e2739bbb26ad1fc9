// name: clear_licence_obligations_of
// mode: write
// description: Remove the licence obligations (OBLIGATION_FROM relations) held by the listed models, before a subset recompute writes theirs anew in the same transaction.
// param ids: list of model ids
UNWIND $ids AS id
MATCH (:Model {id: id})-[r:OBLIGATION_FROM]->()
DELETE r
