"""Intake's adapters: the MongoDB read models (projections, queries) and what else does I/O."""
