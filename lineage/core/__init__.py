"""The pure numeric core: arrays in, dataclasses out; numpy, scipy and networkx only (no
files, torch, Neo4j or network). Four rooms, each importing only the rooms above it:

``measure``   what a DNA is and how far apart two are
              ``projection`` (the shared random projection), ``dna_math`` (row reduction,
              concatenation), ``distances`` (pairwise and nearest-neighbour distances)
``channels``  one statistic per evidence channel, each with its null of unrelated pairs
              ``relatedness`` (the DNA null and pair classifier), ``weights`` (weight
              profiles compared layer by layer), ``logits`` (next-token profiles)
``infer``     lineage from the channels
              ``parents`` (DNA-only parents, minimum arborescence), ``combine`` (parents,
              kinds and conflicts from all channels), ``tree`` (NJ / UPGMA, Robinson-Foulds),
              ``speed`` (family evolution speed), ``rows`` (the row types an analysis
              returns), ``analysis`` (one call from a population to everything the graph
              stores), ``population`` (the bundle of arrays an analysis reads)
``score``     judging an inference against a ground truth
              ``metrics`` (accuracy, precision/recall, intervals), ``evaluation`` (blind and
              metadata evaluations, calibration), ``simulate`` (synthetic populations)

Model-reading code with similar names lives outside the core: :mod:`lineage.evidence`
*reads* weights and next tokens from models; :mod:`lineage.core.channels` *compares* them.
"""
