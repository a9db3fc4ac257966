"""Scheduling's adapters: MongoDB (read models, queries, reports) and the answer letters."""
