"""The base of every public event, and field markers for personal data."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, EmailStr, Field

TYPE_NAMESPACE = "id.go.kalbarprov.ekonomi"
SCHEMA_BASE = "https://serambi.kalbarprov.go.id/schemas"

#: Personal data (UU 27/2022). Marked in the JSON Schema as ``x-personal-data``.
_PD = {"x-personal-data": True}
PersonName = Annotated[str, Field(min_length=1, max_length=200, json_schema_extra=_PD)]
PersonEmail = Annotated[EmailStr, Field(max_length=254, json_schema_extra=_PD)]
PhoneE164 = Annotated[
    str, Field(pattern=r"^\+[1-9][0-9]{7,14}$", json_schema_extra=_PD, description="E.164")
]
AggregateId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,128}$")]
ShortText = Annotated[str, Field(min_length=1, max_length=300)]
LongText = Annotated[str, Field(min_length=1, max_length=5000)]


class Value(BaseModel):
    """A value nested inside events. Frozen; unknown fields are ignored."""

    model_config = ConfigDict(frozen=True, extra="ignore")


class Event(BaseModel):
    """A fact that happened. Frozen; readers ignore fields they do not know (tolerant reader)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    context: ClassVar[str]
    version: ClassVar[int] = 1

    @classmethod
    def name(cls) -> str:
        return cls.__name__

    @classmethod
    def event_type(cls) -> str:
        """Reverse-DNS, versioned CloudEvents type, e.g. ``….intake.RequestSubmitted.v1``."""
        return f"{TYPE_NAMESPACE}.{cls.context}.{cls.name()}.v{cls.version}"

    @classmethod
    def schema_uri(cls) -> str:
        return f"{SCHEMA_BASE}/{cls.event_type()}.json"

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        schema = cls.model_json_schema(mode="serialization")
        schema["$id"] = cls.schema_uri()
        schema["x-event-type"] = cls.event_type()
        return schema
