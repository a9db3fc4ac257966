"""Intake's use cases: load → decide → append, and the ports they work through."""
