"""The WhatsApp port's contract, passed by the in-memory fake and by the Cloud API adapter
talking HTTP to a local stand-in of the Graph API."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Iterator

import pytest
from fake_graph_api import FakeGraphApi
from serambi_complaints.adapters.whatsapp import WINDOW_CLOSED
from serambi_complaints.adapters.whatsapp_cloud import CloudWhatsApp
from serambi_complaints.application.ports import MediaTooLarge, PermanentWhatsAppError, TransientWhatsAppError
from serambi_testing.whatsapp import FakeWhatsApp

NUMBER = "+6281234567890"


@pytest.fixture
def graph() -> Iterator[FakeGraphApi]:
    with FakeGraphApi() as server:
        yield server


@pytest.fixture(params=["fake", "cloud"])
async def sender(request: pytest.FixtureRequest, graph: FakeGraphApi) -> AsyncIterator:
    graph.token = "test-access-token"
    if request.param == "fake":
        fake = FakeWhatsApp()
        fake.graph = None
        yield fake
        return
    cloud = CloudWhatsApp(graph.url, "1098765432", "test-access-token", timeout=5)
    cloud.graph = graph
    yield cloud
    await cloud.close()


def fail_next(sender, status: int, code: int | None = None) -> None:
    """Make the next send fail as the Cloud API would."""
    if sender.graph is None:
        if code == WINDOW_CLOSED:
            sender.window_closed = True
        else:
            sender.fail_next = 1
    else:
        sender.graph.script.append((status, {"error": {"message": "refused", "code": code}}))


async def test_a_free_text_is_accepted_and_gets_a_message_id(sender) -> None:
    message_id = await sender.send_text(NUMBER, "Pengaduan Anda sudah kami terima.")
    assert message_id.startswith("wamid.")


async def test_a_template_is_accepted_and_gets_a_message_id(sender) -> None:
    message_id = await sender.send_template(NUMBER, "serambi_jawaban_pengaduan", "id", ["ADU-2026-000001"])
    assert message_id.startswith("wamid.")


async def test_an_unavailable_api_is_a_transient_failure(sender) -> None:
    fail_next(sender, 503)
    with pytest.raises(TransientWhatsAppError):
        await sender.send_text(NUMBER, "halo")
    assert (await sender.send_text(NUMBER, "halo")).startswith("wamid.")


async def test_free_text_after_the_window_is_refused_with_the_re_engagement_code(sender) -> None:
    fail_next(sender, 400, WINDOW_CLOSED)
    with pytest.raises(PermanentWhatsAppError) as refused:
        await sender.send_text(NUMBER, "halo")
    assert refused.value.code == WINDOW_CLOSED


async def test_the_cloud_adapter_posts_meta_s_documented_shapes_with_the_bearer_token(graph) -> None:
    cloud = CloudWhatsApp(graph.url + "/", "1098765432", "test-access-token", timeout=5)
    try:
        await cloud.send_text(NUMBER, "Jawaban")
        await cloud.send_template(NUMBER, "serambi_jawaban_pengaduan", "id", ["ADU-2026-000001"])
    finally:
        await cloud.close()
    text, template = graph.requests
    assert text["path"] == template["path"] == "/v21.0/1098765432/messages"
    assert text["authorization"] == "Bearer test-access-token"
    assert text["body"] == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "6281234567890",
        "type": "text",
        "text": {"preview_url": False, "body": "Jawaban"},
    }
    assert template["body"]["template"] == {
        "name": "serambi_jawaban_pengaduan",
        "language": {"code": "id"},
        "components": [{"type": "body", "parameters": [{"type": "text", "text": "ADU-2026-000001"}]}],
    }


async def test_an_unreachable_api_is_a_transient_failure() -> None:
    from serambi_testing import localstack

    cloud = CloudWhatsApp(f"http://127.0.0.1:{localstack.free_port()}/v21.0", "1", "t", timeout=2)
    try:
        with pytest.raises(TransientWhatsAppError):
            await cloud.send_text(NUMBER, "halo")
    finally:
        await cloud.close()


# -- media a citizen sent (the same port: the fake and the Cloud adapter) -------------------------
PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)


def media(sender, media_id: str, content: bytes) -> None:
    (sender.media if sender.graph is None else sender.graph.media)[media_id] = content


async def test_a_media_file_is_fetched_by_its_id(sender) -> None:
    media(sender, "1479537139650973", PNG)
    file = await sender.fetch_media("1479537139650973", 1_000)
    assert file.read() == PNG


async def test_a_media_id_meta_no_longer_has_is_a_permanent_failure(sender) -> None:
    with pytest.raises(PermanentWhatsAppError):
        await sender.fetch_media("999", 1_000)


async def test_a_media_file_over_the_limit_is_refused_without_its_content(sender) -> None:
    media(sender, "1479537139650974", PNG)
    with pytest.raises(MediaTooLarge):
        await sender.fetch_media("1479537139650974", len(PNG) - 1)


async def test_an_unavailable_media_lookup_is_a_transient_failure(sender) -> None:
    media(sender, "1479537139650975", PNG)
    if sender.graph is None:
        sender.fail_next = 1
    else:
        sender.graph.media_script.append(503)
    with pytest.raises(TransientWhatsAppError):
        await sender.fetch_media("1479537139650975", 1_000)
    assert (await sender.fetch_media("1479537139650975", 1_000)).read() == PNG


async def test_the_cloud_adapter_sends_the_token_to_the_lookup_and_the_download_only(graph) -> None:
    graph.media["1479537139650976"] = PNG
    cloud = CloudWhatsApp(graph.url, "1098765432", "test-token", timeout=5)
    try:
        assert (await cloud.fetch_media("1479537139650976", 1_000)).read() == PNG
    finally:
        await cloud.close()
    assert [(r["path"], r["authorization"]) for r in graph.media_requests()] == [
        ("/v21.0/1479537139650976", "Bearer test-token"),
        ("/files/1479537139650976", "Bearer test-token"),
    ]
    assert not cloud._trusted("http://elsewhere.example/files/1")  # plain http elsewhere: no token
    assert cloud._trusted("https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1")


# -- an expired access token is an operator's fix, not the message's fault: transient -------------
def expire_token(sender) -> None:
    if sender.graph is None:
        sender.token_expired = True
    else:  # the Graph API's answer to an expired or revoked token
        sender.graph.token = "renewed-token"
        sender.graph.script.append(
            (
                401,
                {
                    "error": {
                        "message": "Error validating access token",
                        "type": "OAuthException",
                        "code": 190,
                    }
                },
            )
        )


async def test_an_expired_access_token_is_a_transient_failure_for_sending_and_for_media(sender) -> None:
    media(sender, "1479537139650977", PNG)
    expire_token(sender)
    with pytest.raises(TransientWhatsAppError) as sending:
        await sender.send_text(NUMBER, "halo")
    with pytest.raises(TransientWhatsAppError) as fetching:
        await sender.fetch_media("1479537139650977", 1_000)
    assert sending.value.code == 190 and fetching.value.code == 190


@pytest.mark.parametrize(("status", "code"), [(400, 190), (403, 10), (400, 130429), (400, 131056)])
async def test_meta_s_token_permission_and_rate_limit_codes_are_transient(graph, status, code) -> None:
    cloud = CloudWhatsApp(graph.url, "1098765432", "test-access-token", timeout=5)
    graph.script.append((status, {"error": {"message": "try later", "code": code}}))
    try:
        with pytest.raises(TransientWhatsAppError):
            await cloud.send_text(NUMBER, "halo")
    finally:
        await cloud.close()


async def test_a_refusal_keeps_the_status_and_code_never_meta_s_text(graph) -> None:
    cloud = CloudWhatsApp(graph.url, "1098765432", "test-access-token", timeout=5)
    graph.script.append(
        (400, {"error": {"message": f"(#131026) Message undeliverable to {NUMBER[1:]}", "code": 131026}})
    )
    try:
        with pytest.raises(PermanentWhatsAppError) as refused:
            await cloud.send_text(NUMBER, "halo")
    finally:
        await cloud.close()
    assert refused.value.code == 131026 and NUMBER[1:] not in str(refused.value)


async def test_message_ids_are_shaped_like_meta_s_and_hold_the_number(sender) -> None:
    """Why Serambi keeps them only hashed (serambi_complaints.adapters.whatsapp.message_key)."""
    message_id = await sender.send_text(NUMBER, "halo")
    assert NUMBER[1:].encode() in base64.b64decode(message_id.removeprefix("wamid."))
