// name: relabel_components
// mode: write
// description: Merge declared-lineage components: every model labelled with one of the old labels takes the new one.
// param old: list of component labels
// param new: the label they take
// :param old => ['model-a']
// :param new => 'model-a'
MATCH (m:Model)
WHERE m.declared_component IN $old
SET m.declared_component = $new
