"""What an integration needs once it is switched on (a channel's address, login and secrets).

A deployment passes such a setting whether or not the integration is on: compose as ``${X:-}``
(an empty variable), Kubernetes from an optional Secret key (absent, empty, or still the
production template's ``REPLACE_ME``). None of these is a value: a settings class turns an empty
one into "not set" (``empty_is_unset``, as a ``mode="before"`` field validator) and, with the
integration on, refuses to start while any is missing (``require``), naming each variable and
never showing a value.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import SecretStr

#: deploy/k8s/overlays/prod/secrets.template.yaml's placeholder, never a real value
PLACEHOLDER = "REPLACE_ME"


def empty_is_unset(value: object) -> object:
    """An empty or blank variable (compose's ``${X:-}``, an empty Secret key) means not set."""
    return None if isinstance(value, str) and not value.strip() else value


def missing(settings: object, names: Iterable[str]) -> list[str]:
    """``SERAMBI_<NAME>`` of each of ``names`` that is unset, empty or ``REPLACE_ME``."""
    return [
        f"SERAMBI_{name.upper()}" for name in names if _value(getattr(settings, name)) in ("", PLACEHOLDER)
    ]


def require(settings: object, switch: str, names: Iterable[str], where: str) -> None:
    """Refuse (ValueError) when any of ``names`` is missing, as ``<switch> needs A, B (…; where)``:
    ``switch`` is what turned the integration on (``SERAMBI_EMAIL_MODE=imap``), ``where`` the
    documentation that says where the values come from."""
    absent = missing(settings, names)
    if absent:
        raise ValueError(f"{switch} needs {', '.join(absent)} (unset, empty or {PLACEHOLDER}; {where})")


def _value(setting: object) -> str:
    if isinstance(setting, SecretStr):
        return setting.get_secret_value().strip()
    return "" if setting is None else str(setting).strip()
