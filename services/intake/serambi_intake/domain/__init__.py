"""Intake's pure domain: audience requests, the guest book, the satisfaction survey (no I/O)."""
