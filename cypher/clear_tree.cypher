// name: clear_tree
// mode: write
// description: Remove the phylogenetic tree (:Clade nodes and their :BRANCH edges) and the :Family nodes before they are written anew, in the same transaction.
MATCH (n) WHERE n:Clade OR n:Family
DETACH DELETE n
