// name: stored_similar_pairs
// mode: read
// description: Which of the given pairs (a, b) are stored similarity edges a -> b (b among a's stored nearest models). A placement asks it of the relations it found whose end a it did not decide again, instead of reading those models' whole neighbour lists.
// param pairs: list of maps {a, b}
// :param pairs => [{a: 'model-a', b: 'model-b'}]
UNWIND $pairs AS pr
MATCH (a:Model {id: pr.a})-[:SIMILAR_TO]->(b:Model {id: pr.b})
RETURN a.id AS a, b.id AS b
