"""Clients of the services' public HTTP APIs (the portal's only way to the data)."""
