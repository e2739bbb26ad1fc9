// name: clear_analysis_state
// mode: write
// description: Remove the :Analysis node (a full analysis of fewer than three models stores none: there is nothing to place onto).
MATCH (a:Analysis {id: 'current'})
DELETE a
