"""Complaints' use cases and the ports they work through."""
