"""Reading Meta's webhook deliveries, checking their signature, and the channel's settings."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError
from serambi_complaints.adapters.whatsapp import complaint_of, parse_delivery, signature_valid
from serambi_complaints.settings import ComplaintsSettings
from serambi_complaints.whatsapp_settings import WhatsAppSettings

CONFIGURED = {
    "whatsapp_mode": "cloud",
    "whatsapp_phone_number_id": "1098765432",
    "whatsapp_access_token": "token",
    "whatsapp_app_secret": "secret",
    "whatsapp_verify_token": "verify",
}


def delivery(*messages: dict, contacts: list | None = None) -> dict:
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "1",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "contacts": contacts or [],
                            "messages": list(messages),
                        },
                    }
                ],
            }
        ],
    }


def test_an_image_with_a_caption_keeps_its_media_id_for_the_officer() -> None:
    image = {
        "from": "6281234567890",
        "id": "wamid.A",
        "timestamp": "1767225600",
        "type": "image",
        "image": {"id": "1479537139650973", "mime_type": "image/jpeg", "caption": "Foto antrean"},
    }
    [message] = parse_delivery(delivery(image))
    assert (message.phone, message.text, message.media_id) == (
        "+6281234567890",
        "Foto antrean",
        "1479537139650973",
    )
    assert message.received_at == datetime(2026, 1, 1, tzinfo=UTC)
    new = complaint_of(message, datetime(2026, 1, 2, tzinfo=UTC))
    assert new.summary == "Foto antrean" and "media id 1479537139650973" in new.description


def test_a_foreign_number_is_kept_in_e164_and_reactions_and_broken_items_are_skipped() -> None:
    text = {
        "from": "4915112345678",
        "id": "wamid.B",
        "timestamp": "1767225600",
        "type": "text",
        "text": {"body": "Hallo"},
    }
    reaction = {
        "from": "6281234567890",
        "id": "wamid.C",
        "timestamp": "1767225600",
        "type": "reaction",
        "reaction": {"message_id": "wamid.A", "emoji": "👍"},
    }
    broken = {"from": "6281234567890", "type": "text"}
    [message] = parse_delivery(delivery(text, reaction, broken))
    assert message.phone == "+4915112345678"


def test_a_delivery_for_another_object_records_nothing() -> None:
    assert parse_delivery({"object": "page", "entry": []}) == []
    assert parse_delivery(["not", "an", "object"]) == []


def test_the_signature_is_the_hmac_of_the_raw_body_with_the_app_secret() -> None:
    body = b'{"object":"whatsapp_business_account"}'
    good = "sha256=" + hmac.new(b"secret", body, hashlib.sha256).hexdigest()
    assert signature_valid("secret", body, good)
    assert not signature_valid("secret", body + b" ", good)
    assert not signature_valid("other", body, good)
    assert not signature_valid("secret", body, None)
    assert not signature_valid("secret", body, good.removeprefix("sha256="))


def test_the_enabled_channel_names_every_missing_setting() -> None:
    with pytest.raises(ValidationError, match="SERAMBI_WHATSAPP_APP_SECRET, SERAMBI_WHATSAPP_VERIFY_TOKEN"):
        ComplaintsSettings(whatsapp_mode="cloud", whatsapp_phone_number_id="1", whatsapp_access_token="t")
    assert ComplaintsSettings(**CONFIGURED).whatsapp_enabled
    assert not ComplaintsSettings().whatsapp_enabled


class ProductionWhatsApp(WhatsAppSettings):
    """The channel's settings as a production service sees them (the kit's own production checks,
    tested elsewhere, need values of their own)."""

    environment: str = "production"


@pytest.mark.parametrize(
    "url", ["https://127.0.0.1:8443/v21.0", "https://localhost/v21.0", "http://graph.facebook.com/v21.0"]
)
def test_production_refuses_a_local_or_plain_http_graph_api(url: str) -> None:
    # the environment given, not read: the test session's SERAMBI_ENVIRONMENT would win otherwise
    with pytest.raises(ValidationError, match="SERAMBI_WHATSAPP_API_BASE_URL"):
        ProductionWhatsApp(**CONFIGURED, whatsapp_api_base_url=url, environment="production")
    assert ProductionWhatsApp(**CONFIGURED, environment="production").whatsapp_enabled  # Meta's own address


def test_production_refuses_the_templates_placeholder_and_empty_values_as_missing() -> None:
    values = {
        **CONFIGURED,
        "whatsapp_app_secret": "REPLACE_ME",
        "whatsapp_verify_token": " ",
        "environment": "production",
    }
    with pytest.raises(
        ValidationError, match="needs SERAMBI_WHATSAPP_APP_SECRET, SERAMBI_WHATSAPP_VERIFY_TOKEN"
    ):
        ProductionWhatsApp(**values)
    off = ProductionWhatsApp(whatsapp_phone_number_id="", whatsapp_access_token="", environment="production")
    assert not off.whatsapp_enabled and off.whatsapp_phone_number_id is None  # compose's empty ${X:-}


def test_a_timestamp_that_is_no_time_skips_the_item_and_a_future_one_is_cut_to_now() -> None:
    now = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)

    def text(number: str, timestamp: str) -> dict:
        return {
            "from": number,
            "id": "wamid." + number,
            "timestamp": timestamp,
            "type": "text",
            "text": {"body": "Halo"},
        }

    huge, negative = text("6281200000001", str(10**20)), text("6281200000002", str(-(10**14)))
    future, fine = text("6281200000003", str(10**10)), text("6281200000004", "1796605200")
    found = parse_delivery(delivery(huge, negative, future, fine), now)
    assert [m.phone for m in found] == ["+6281200000003", "+6281200000004"]
    assert found[0].received_at == now + timedelta(minutes=5)
    assert found[1].received_at == datetime.fromtimestamp(1796605200, UTC)
