"""Evidence of heritage beyond the DNA, for open-weight models: weights (and, later, next-token
distributions). Each channel is extracted once per model, cached by the weights' content, and
reduced to a small profile that the pure core (:mod:`lineage.core.weights`) compares pair by pair.
A channel that cannot apply to a model (an endpoint, a precomputed DNA) is simply absent.
:func:`lineage.evidence.profiles.model_evidence` builds a model's profiles for ingest and eval.
"""
