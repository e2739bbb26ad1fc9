"""Scoring an inference against a known genealogy: metrics, evaluations and synthetic populations."""
