// name: relabel_components
// mode: write
// description: Merge declared-lineage components: every model labelled with one of a row's old labels takes the row's new one (the rows' label sets are disjoint, and no new label is another row's old one).
// param rows: list of maps {old: list of component labels, new: the label they take}
// :param rows => [{old: ['model-b'], new: 'model-a'}]
UNWIND $rows AS r
MATCH (m:Model)
WHERE m.declared_component IN r.old
SET m.declared_component = r.new
