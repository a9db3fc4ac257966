"""What the routes get injected (``Annotated[..., Depends(...)]``): the use cases' context, the
read models' database and the settings — read from the app here, never in a route."""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import Depends, Request
from serambi_kit.http import runtime_of
from serambi_kit.mongo import Database

from ..application.context import Intake
from ..settings import IntakeSettings


def intake(request: Request) -> Intake:
    """The context ``main.py`` builds once the runtime is connected. Not checked here: a request
    to an app not started yet is still validated first (422), as the routes did before."""
    return cast(Intake, getattr(request.app.state, "intake", None))


def database(request: Request) -> Database:
    """The read models' database (not before MongoDB is connected: see ``intake``)."""
    runtime = runtime_of(request)
    return cast(Database, runtime.db if runtime.mongo_connected else None)


def settings(request: Request) -> IntakeSettings:
    return cast(IntakeSettings, runtime_of(request).settings)


Ctx = Annotated[Intake, Depends(intake)]
Db = Annotated[Database, Depends(database)]
Settings = Annotated[IntakeSettings, Depends(settings)]
