"""Intake's HTTP API: the public routes, the information desk's and the satisfaction survey's."""

from . import officer, public, survey

ROUTERS = (public.router, officer.router, survey.router)
