"""Evidence of heritage beyond the DNA: weights (open-weight models) and next-token distributions
(open-weight models, and endpoints that return logprobs). Each channel is extracted once per
model, cached (by the weights' content, or by the endpoint's identity), and reduced to a small
profile that the pure core (:mod:`lineage.core.channels.weights`, :mod:`lineage.core.channels.logits`) compares
pair by pair. A channel that cannot apply to a model (weights behind an endpoint, a precomputed
DNA) is simply absent. :func:`lineage.evidence.profiles.model_evidence` builds a model's profiles
for ingest and eval.
"""
