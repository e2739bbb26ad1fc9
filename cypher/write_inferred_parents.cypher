// name: write_inferred_parents
// mode: write
// description: INFERRED_PARENT edges (child to parent) with confidence, p-value, distance of the deciding channel, method, whether metadata documents the relation, the channel that decided (weights or dna), the derivation kind it suggests, and the evidence of every channel as a JSON list. Rows: {child, parent, confidence, p_value, distance, method, documented, channel, kind, evidence}.
// param rows: list of maps
UNWIND $rows AS r
MATCH (c:Model {id: r.child})
MATCH (p:Model {id: r.parent})
CREATE (c)-[:INFERRED_PARENT {confidence: r.confidence, p_value: r.p_value, distance: r.distance,
                              method: r.method, documented: r.documented, channel: r.channel, kind: r.kind,
                              evidence: r.evidence}]->(p)
