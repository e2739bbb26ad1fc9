// name: write_analysis_state
// mode: write
// description: Replace the :Analysis node: the settings (k, fpr, tree method, channels), the population size and the fitted null of the analysis just written, plus placement counters.
// param props: map of scalar and list properties
// :param props => {}
MERGE (a:Analysis {id: 'current'})
SET a = $props, a.id = 'current'
