// name: clear_derived_edges
// mode: write
// description: Remove the relationships recomputed by every full analysis (similarity, weight matches, inferred parents, undocumented relations, declared-parent edges, family membership) before they are written anew, committed in batches (the :Analysis node says 'writing' meanwhile). A declared edge `lineage import-metadata` drew (drawn_by 'import-metadata') stays unless both its ends are models with a DNA: ingest redraws declared edges only between those (docs/metadata.md, 'Importing a Hub metadata dump').
// param batch = 5000: relationships deleted per transaction
MATCH (a)-[r:SIMILAR_TO|INFERRED_PARENT|UNDOCUMENTED_RELATION|DECLARED_PARENT|IN_FAMILY|WEIGHTS_MATCH]->(b)
WHERE r.drawn_by IS NULL
   OR (a.status = 'ok' AND a.dna IS NOT NULL AND b.status = 'ok' AND b.dna IS NOT NULL)
CALL (r) { DELETE r } IN TRANSACTIONS OF $batch ROWS
