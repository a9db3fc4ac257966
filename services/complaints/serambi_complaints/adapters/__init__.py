"""Adapters of the complaints service's ports to outside systems."""
