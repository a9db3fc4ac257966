"""The kit keeps what it needs per app in one typed ``KitState`` (serambi_kit.state), read through
``kit_state`` only: no other kit module reads or writes an attribute of ``app.state``."""

import re
from pathlib import Path
from types import SimpleNamespace

import pytest
import serambi_kit
from fastapi import FastAPI
from serambi_kit.state import KitState, NoKitState, install, kit_state, service_runtime

KIT = Path(serambi_kit.__file__).parent


def test_only_the_state_module_touches_app_state():
    touching = sorted(
        path.name
        for path in KIT.rglob("*.py")
        if path.name != "state.py" and re.search(r"\bapp\.state\b|getattr\(\s*app\.state", path.read_text())
    )
    assert touching == []


def test_the_state_is_found_from_the_app_and_an_app_without_one_says_so():
    app = FastAPI()
    with pytest.raises(NoKitState):
        kit_state(app)
    state = install(app, KitState(SimpleNamespace(rate_limits={})))
    assert kit_state(app) is state
    with pytest.raises(NoKitState):  # the portal's state has no service runtime
        service_runtime(app)
