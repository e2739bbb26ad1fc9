"""Per-channel statistics: DNA relatedness, weight comparison and next-token comparison, each
with its null distribution of unrelated pairs."""
