"""Intake's HTTP API: the public routes and the information desk's."""

from . import officer, public

ROUTERS = (public.router, officer.router)
