"""Measurement: the DNA's projection and row algebra, and distances between DNAs."""
