// name: clear_derived_edges
// mode: write
// description: Remove the relationships recomputed by every ingest (similarity, weight matches, inferred parents, undocumented relations, declared-parent edges, family membership) before they are written anew, in the same transaction.
MATCH ()-[r:SIMILAR_TO|INFERRED_PARENT|UNDOCUMENTED_RELATION|DECLARED_PARENT|IN_FAMILY|WEIGHTS_MATCH]->()
DELETE r
