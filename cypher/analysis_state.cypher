// name: analysis_state
// mode: read
// description: The settings and null distribution of the last full analysis (the :Analysis node), which a placement reuses; no row when the graph was never analysed by this version.
MATCH (a:Analysis {id: 'current'})
RETURN a {.*} AS state
