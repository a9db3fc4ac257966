"""The base of every public event, and field markers for personal data."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

TYPE_NAMESPACE = "id.go.kalbarprov.ekonomi"
SCHEMA_BASE = "https://serambi.kalbarprov.go.id/schemas"

AggregateId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,128}$")]
ShortText = Annotated[str, Field(min_length=1, max_length=300)]
LongText = Annotated[str, Field(min_length=1, max_length=5000)]
#: The most a sealed value holds: a LongText of 5,000 characters at UTF-8's 4 bytes each (emoji,
#: some CJK), plus the AES-GCM tag; base64url makes 4 characters of every 3 bytes.
SEALED_MAX_BYTES = 4 * 5000 + 16
SEALED_DATA_MAX_CHARS = -(-SEALED_MAX_BYTES // 3) * 4


class Value(BaseModel):
    """A value nested inside events. Frozen; unknown fields are ignored."""

    model_config = ConfigDict(frozen=True, extra="ignore")


class Sealed(Value):
    """Personal data (UU 27/2022), encrypted with its data subject's own key (AES-256-GCM).

    Only services holding the vault can read it; once the subject's key is erased, every copy —
    in streams, read models and replays — is unreadable (crypto-shredding).
    """

    model_config = ConfigDict(frozen=True, extra="ignore", json_schema_extra={"x-personal-data": True})
    key: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$", description="the data subject's key id")
    nonce: str = Field(pattern=r"^[A-Za-z0-9_-]{16}$", description="base64url, 12 bytes")
    data: str = Field(max_length=SEALED_DATA_MAX_CHARS, pattern=r"^[A-Za-z0-9_-]+$", description="base64url")


#: A person's name, email address, phone number (E.164) or ID number (NIK): always sealed.
PersonalData = Annotated[Sealed, Field(json_schema_extra={"x-personal-data": True})]


class DocumentRef(Value):
    """A stored document, referenced by id, digest and media type (never embedded)."""

    document_id: AggregateId
    kind: ShortText
    media_type: ShortText
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size: int = Field(ge=0)


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
