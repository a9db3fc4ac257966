"""Scheduling's pure domain: audiences, resources, bookings, slot rules, the answer clock."""
