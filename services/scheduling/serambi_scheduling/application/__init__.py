"""Scheduling's use cases: load → decide → append, with the booking protocol of docs/scheduling.md."""
