"""From a model to its DNA: probes, model answers (cached), sentence encoders, the DNA record and its files.

Data flows ``probes`` -> a model source (``lineage.loaders``) answers them, the
answers are kept in the response ``cache`` -> ``encoders`` embed them ->
``extract`` projects them with the core's shared matrix -> a :class:`~lineage.dna.record.DNA`
with its :class:`~lineage.dna.record.Provenance`, written by ``files``.
Only ``extract`` and ``encoders`` load model runtimes (torch, transformers), and only when called.
"""
