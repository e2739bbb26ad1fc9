// name: clear_licence_obligations
// mode: write
// description: Remove the licence obligations recomputed by every ingest (OBLIGATION_FROM relations) before they are written anew, in the same transaction.
MATCH ()-[r:OBLIGATION_FROM]->()
DELETE r
