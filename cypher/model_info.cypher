// name: model_info
// mode: read
// description: One model's metadata (without its DNA vector), whether its DNA is valid, and its weights' SHA-256 when they are one file.
// param model_id: id of the model
// example: lineage query model_info --param model_id=smol-base
// :param model_id => 'smol-base'
MATCH (m:Model {id: $model_id})
RETURN m.id AS id, m.name AS name, m.family AS family, m.organisation AS organisation,
       m.architecture AS architecture, m.params AS params, m.release_date AS release_date,
       m.licence AS licence, m.status AS status, m.degenerate AS degenerate, m.error AS error,
       m.dna IS NOT NULL AS has_dna, m.weights_sha256 AS weights_sha256
