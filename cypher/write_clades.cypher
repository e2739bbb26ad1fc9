// name: write_clades
// mode: write
// description: The internal nodes of the phylogenetic tree. Rows: {id, n_leaves, is_root}.
// param rows: list of maps
UNWIND $rows AS r
CREATE (:Clade {id: r.id, n_leaves: r.n_leaves, is_root: r.is_root})
