// name: model_info
// mode: read
// description: One model's metadata (without its DNA vector), whether its DNA is valid, and its weights' SHA-256 when they are one file. Each metadata value comes with its source (`licence_source`: `manifest`, `card:license`, `gguf:general.license`, `config.json:model_type`, ...); declared base models absent from the graph are listed as references (`declared_not_in_graph`), and `metadata_warnings` lists what the metadata readers ignored.
// param model_id: id of the model
// example: lineage query model_info --param model_id=smol-base
// :param model_id => 'smol-base'
MATCH (m:Model {id: $model_id})
RETURN m.id AS id, m.name AS name, m.family AS family, m.organisation AS organisation,
       m.architecture AS architecture, m.params AS params, m.release_date AS release_date,
       m.licence AS licence, m.status AS status, m.degenerate AS degenerate, m.error AS error,
       m.dna IS NOT NULL AS has_dna, m.weights_sha256 AS weights_sha256,
       m.quantisation AS quantisation, m.context_length AS context_length,
       m.licence_source AS licence_source, m.architecture_source AS architecture_source,
       m.params_source AS params_source, m.quantisation_source AS quantisation_source,
       m.context_length_source AS context_length_source, m.name_source AS name_source,
       m.release_date_source AS release_date_source,
       coalesce(m.declared_base_models, []) AS declared_base_models,
       m.declared_base_models_source AS declared_base_models_source,
       [b IN coalesce(m.declared_base_models, []) WHERE NOT EXISTS { MATCH (:Model {id: b}) }] AS declared_not_in_graph,
       m.gating_prompt AS gating_prompt, m.gating_prompt_source AS gating_prompt_source,
       coalesce(m.metadata_warnings, []) AS metadata_warnings
