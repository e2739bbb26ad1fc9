"""Inference: trees, parents (DNA-only and combined over every channel), conflicts, speeds and the
whole-population analysis."""
