// name: clear_tree
// mode: write
// description: Remove the phylogenetic tree (:Clade nodes and their :BRANCH edges) and the :Family nodes before they are written anew, committed in batches (the :Analysis node says 'writing' meanwhile).
// param batch = 5000: nodes deleted per transaction
MATCH (n) WHERE n:Clade OR n:Family
CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF $batch ROWS
