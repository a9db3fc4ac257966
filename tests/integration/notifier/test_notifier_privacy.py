"""What the notifier publishes and keeps about recipients (issue 19, items 3 and 4), on real
JetStream, SecantusDB, an SMTP server and the SMS sink:

- NotificationSent / NotificationFailed carry nothing derived from the address or number (no
  masked address, no keyed hash): two cases of one person cannot be linked through them;
- a provider's bounce text is kept sealed with the citizen's data key (erasing the person erases
  it), an officer's with addresses masked, and the events publish only a category;
- the delivery log is searched by email or phone only by supervisor and admin, audited;
- a citizen's delivery keeps no keyed hash or mask of the address (only their data key and the
  mask sealed under it), so after an erasure a search by the contact finds nothing of theirs.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from types import SimpleNamespace

import httpx
from fastapi import FastAPI
from notifier_harness import code, handled
from serambi_contracts import AggregateRef
from serambi_contracts.audit import PersonalDataAccessed
from serambi_contracts.complaints import Disclosure
from serambi_contracts.notifier import FailureCategory, NotificationFailed, NotificationSent
from serambi_kit.auth import TokenVerifier, issue_dev_token
from serambi_kit.eventstore import read_raw
from serambi_kit.http import _http_error
from serambi_kit.pii import mask_email, mask_phone
from serambi_kit.state import KitState, install
from serambi_notifier import api
from serambi_notifier.adapters.ledger import Ledger
from serambi_testing import samples
from starlette.exceptions import HTTPException as StarletteHTTPException

EMAIL, PHONE = "anonim.pelapor@example.com", "+6281298765432"
GENERIC = {
    "cause_type",
    "notice",
    "channel",
    "recipient_kind",
    "recipient_role",
    "attempts",
    "provider",
    "sent_at",
    "failed_at",
    "category",
}


async def anonymous_complaint(harness, tracking: str, email: str = EMAIL, phone: str | None = PHONE):
    event = await samples.complaint_received(harness.vault, tracking, email=email, phone=phone)
    event = event.model_copy(update={"disclosure": Disclosure.ANONYMOUS})
    return await harness.append(AggregateRef("complaints", "complaint", tracking), event)


async def raw_events(harness, delivery_id: str) -> list[bytes]:
    return [data async for _, data in read_raw(harness.nc, "NOTIFIER", f"notifier.delivery.{delivery_id}.*")]


async def test_public_delivery_events_carry_nothing_that_links_a_case_to_the_contact(harness):
    dispatcher = harness.dispatcher()
    first, second = code("ADU"), code("ADU")
    for tracking in (first, second):
        await handled(dispatcher, await anonymous_complaint(harness, tracking))
    derived = [
        EMAIL,
        "anonim.pelapor",
        mask_email(EMAIL),
        mask_phone(PHONE),
        PHONE.removeprefix("+"),
        harness.vault.lookup_hash(EMAIL),
        harness.vault.lookup_hash(PHONE),
    ]
    events: dict[str, dict[str, dict]] = {}  # case → channel → the citizen's event
    for tracking in (first, second):
        for delivery in await harness.deliveries(tracking):
            [raw] = await raw_events(harness, delivery["_id"])
            assert not [value for value in derived if value in raw.decode()], raw
            [event] = await harness.delivery_events(delivery["_id"])
            assert isinstance(event, NotificationSent)
            if event.recipient_kind == "citizen":
                events.setdefault(tracking, {})[event.channel] = json.loads(raw)
    assert set(events[first]) == set(events[second]) == {"email", "sms"}
    for channel in ("email", "sms"):
        shared = {
            key for key, value in events[first][channel].items() if events[second][channel].get(key) == value
        }
        assert shared <= GENERIC, f"{channel}: {shared - GENERIC} links the two cases"
    assert {"recipient_masked", "recipient_hash"}.isdisjoint(NotificationSent.model_fields)


async def test_a_bounce_quoting_the_address_is_sealed_with_the_citizens_key_and_erased_with_them(harness):
    tracking = code("ADU")
    bounced = "bounce.pelapor@example.com"
    harness.mailbox.refuse_rcpt[bounced] = f"550 5.1.1 <{bounced}>: mailbox unavailable"
    received = await anonymous_complaint(harness, tracking, email=bounced, phone=None)
    await handled(harness.dispatcher(), received)
    [delivery] = [d for d in await harness.deliveries(tracking) if d["recipient_kind"] == "citizen"]
    assert delivery["state"] == "failed" and delivery["reason"] == "refused"
    stored = {k: v for k, v in delivery.items() if k != "detail"}
    assert "bounce.pelapor" not in str(delivery), delivery
    # the bounce's own words, not "550" alone: ids and timestamps may hold those digits by chance
    assert "mailbox unavailable" not in str(stored) and "550 5.1.1" not in str(stored)
    assert "bounce.pelapor" not in json.dumps(delivery["detail"])
    assert delivery["detail"]["sealed"]["key"] == received.event.summary.key
    words = await harness.vault.reveal(delivery["detail"]["sealed"])
    assert bounced in words and "550" in words
    [event] = await harness.delivery_events(delivery["_id"])
    assert isinstance(event, NotificationFailed) and event.category is FailureCategory.REFUSED
    [raw] = await raw_events(harness, delivery["_id"])
    assert b"bounce.pelapor" not in raw and b"550 5.1.1" not in raw and b"mailbox" not in raw
    await harness.vault.erase_person(bounced)
    assert await harness.vault.reveal(delivery["detail"]["sealed"]) is None


async def test_an_officers_bounce_is_kept_with_addresses_and_numbers_masked(harness):
    tracking = code("ADU")
    harness.mailbox.refuse_rcpt["pengaduan@ekonomi.example"] = (
        "550 5.2.2 <pengaduan@ekonomi.example> full; call 081234567890"
    )
    await handled(harness.dispatcher(), await anonymous_complaint(harness, tracking, phone=None))
    [officer] = [d for d in await harness.deliveries(tracking) if d["recipient_kind"] == "officer"]
    assert officer["reason"] == "refused" and "sealed" not in officer["detail"]
    assert officer["detail"]["text"] == (
        "recipient refused: 550 5.2.2 <[redacted-email]> full; call [redacted-phone]"
    )


def log_app(harness) -> httpx.AsyncClient:
    app = FastAPI()
    app.add_exception_handler(StarletteHTTPException, _http_error)  # the services' error bodies
    app.include_router(api.router)
    runtime = SimpleNamespace(vault=harness.vault, store=harness.store, settings=harness.settings)
    install(app, KitState(harness.settings, runtime, TokenVerifier(harness.settings)))  # type: ignore[arg-type]
    app.state.ledger = Ledger(harness.db)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://notifier")


def as_role(harness, role: str) -> dict[str, str]:
    token = issue_dev_token(harness.settings, [role], subject=f"{role}-1")
    return {"Authorization": f"Bearer {token}"}


async def accesses(harness, case: str) -> list[PersonalDataAccessed]:
    return (await harness.store.load(AggregateRef("notifier", "access", case))).payloads


async def test_only_supervisor_and_admin_search_the_log_by_contact_and_every_case_found_is_audited(harness):
    searched = "dicari.pelapor@example.com"
    first, second = code("ADU"), code("ADU")
    dispatcher = harness.dispatcher()
    for tracking in (first, second):
        await handled(dispatcher, await anonymous_complaint(harness, tracking, email=searched, phone=None))
    async with log_app(harness) as log:
        for role in ("desk", "scheduler", "complaint_officer", "complaint_team"):
            refused = await log.get(
                "/api/v1/deliveries", params={"recipient": searched}, headers=as_role(harness, role)
            )
            assert refused.status_code == 403 and "recipient" in refused.text, role
            listed = await log.get(
                "/api/v1/deliveries", params={"case_id": first}, headers=as_role(harness, role)
            )
            citizens = [i for i in listed.json()["items"] if i["recipient_kind"] == "citizen"]
            assert citizens and all(i["recipient"] is None for i in citizens)  # not even masked
        assert await accesses(harness, first) == []
        found = await log.get(
            "/api/v1/deliveries",
            params={"recipient": searched.upper()},
            headers=as_role(harness, "supervisor"),
        )
        assert found.status_code == 200
        assert {i["case_id"] for i in found.json()["items"]} == {first, second}
        assert {i["recipient"] for i in found.json()["items"]} == {mask_email(searched)}
    for tracking in (first, second):
        [audit] = await accesses(harness, tracking)
        assert (audit.officer, audit.fields, audit.roles) == ("supervisor-1", ["recipient"], ["supervisor"])
        assert searched not in audit.model_dump_json()


async def test_the_bounce_text_is_shown_to_supervisors_only_and_audited(harness):
    tracking = code("ADU")
    bounced = "lihat.bounce@example.com"
    harness.mailbox.refuse_rcpt[bounced] = f"550 <{bounced}> unknown"
    await handled(
        harness.dispatcher(), await anonymous_complaint(harness, tracking, email=bounced, phone=None)
    )
    [delivery] = [d for d in await harness.deliveries(tracking) if d["recipient_kind"] == "citizen"]
    async with log_app(harness) as log:
        desk = (
            await log.get(f"/api/v1/deliveries/{delivery['_id']}", headers=as_role(harness, "desk"))
        ).json()
        assert desk["reason"] == "refused" and "detail" not in desk and desk["recipient"] is None
        assert await accesses(harness, tracking) == []
        shown = (
            await log.get(f"/api/v1/deliveries/{delivery['_id']}", headers=as_role(harness, "admin"))
        ).json()
        assert bounced in shown["detail"] and shown["recipient"] == mask_email(bounced)
    [audit] = await accesses(harness, tracking)
    assert audit.fields == ["delivery_error"] and audit.officer == "admin-1"


async def test_a_ledger_written_before_keeps_only_the_categories_of_its_reasons(harness):
    ledger = Ledger(harness.db)
    old = [
        {"_id": "d-old-1", "state": "failed", "reason": "recipient refused: 550 <siti@example.go.id>"},
        {"_id": "d-old-2", "state": "failed", "reason": "recipient erased"},
        {"_id": "d-old-3", "state": "retry", "last_error": "deferred: 451 <+6281345678901> later"},
        {"_id": "d-new", "state": "failed", "reason": "gave_up", "last_error": "unreachable"},
    ]
    await harness.db["deliveries"].insert_many(old)
    await harness.db["notifier_migrations"].delete_many({})
    assert await ledger.categorise_old_reasons() == 3
    after = {
        d["_id"]: d async for d in harness.db["deliveries"].find({"_id": {"$in": [d["_id"] for d in old]}})
    }
    assert [after[i].get("reason") for i in ("d-old-1", "d-old-2", "d-new")] == [
        "refused",
        "recipient_erased",
        "gave_up",
    ]
    assert after["d-old-3"]["last_error"] == "deferred" and "6281345678901" not in str(after)
    assert await ledger.categorise_old_reasons() == 0  # once per database


# -- erasure cuts the delivery log off from the person (issue 19 review, item 1) -----------------


async def search(log, harness, contact: str) -> list[dict]:
    found = await log.get(
        "/api/v1/deliveries", params={"recipient": contact}, headers=as_role(harness, "supervisor")
    )
    assert found.status_code == 200, found.text
    return found.json()["items"]


async def test_after_an_erasure_a_search_by_the_contact_finds_none_of_the_persons_deliveries(harness):
    email, phone = "terhapus.pelapor@example.com", "+6281211112222"
    first, second = code("ADU"), code("ADU")
    dispatcher = harness.dispatcher()
    for tracking in (first, second):
        await handled(dispatcher, await anonymous_complaint(harness, tracking, email=email, phone=phone))
    async with log_app(harness) as log:
        by_email = await search(log, harness, email)
        by_phone = await search(log, harness, "0812-1111-2222")  # any written form
        assert {(i["case_id"], i["channel"]) for i in by_email} == {(first, "email"), (second, "email")}
        assert {(i["case_id"], i["channel"]) for i in by_phone} == {(first, "sms"), (second, "sms")}
        assert {i["recipient"] for i in by_email + by_phone} == {mask_email(email), mask_phone(phone)}
        assert await harness.vault.erase_person(email)
        for contact in (email, email.upper(), phone, "0812-1111-2222", "+62 812 1111 2222"):
            assert await search(log, harness, contact) == [], contact
        listed = await log.get(
            "/api/v1/deliveries", params={"case_id": first}, headers=as_role(harness, "admin")
        )
        citizens = [i for i in listed.json()["items"] if i["recipient_kind"] == "citizen"]
        assert len(citizens) == 2 and all(i["recipient"] is None for i in citizens)  # not even masked
        one = await log.get(
            f"/api/v1/deliveries/{citizens[0]['delivery_id']}", headers=as_role(harness, "admin")
        )
        assert one.json()["recipient"] is None
    derived = [
        email,
        mask_email(email),
        mask_phone(phone),
        phone,
        phone.removeprefix("+"),
        harness.vault.lookup_hash(email),
        harness.vault.lookup_hash(phone),
    ]
    for tracking in (first, second):
        for delivery in await harness.deliveries(tracking):
            if delivery["recipient_kind"] == "citizen":
                assert not [value for value in derived if value in str(delivery)], delivery


async def test_a_citizens_delivery_keeps_no_hash_or_mask_an_officers_keeps_both(harness):
    tracking = code("ADU")
    received = await anonymous_complaint(harness, tracking, email="simpan.pelapor@example.com", phone=None)
    await handled(harness.dispatcher(), received)
    deliveries = await harness.deliveries(tracking)
    [citizen] = [d for d in deliveries if d["recipient_kind"] == "citizen"]
    assert {"recipient_hash", "recipient_masked"}.isdisjoint(citizen)
    assert citizen["subject_key"] == citizen["recipient_sealed"]["key"] == received.event.summary.key
    assert await harness.vault.reveal(citizen["recipient_sealed"]) == mask_email("simpan.pelapor@example.com")
    [officer] = [d for d in deliveries if d["recipient_kind"] == "officer"]
    assert officer["recipient_masked"] == mask_email("pengaduan@ekonomi.example")
    assert officer["recipient_hash"] == harness.vault.lookup_hash("pengaduan@ekonomi.example")
    async with log_app(harness) as log:  # an officer's own deliveries are still found by address
        [found] = await search(log, harness, "Pengaduan@Ekonomi.example")
        assert found["delivery_id"] == officer["_id"] and found["recipient"] == mask_email(
            "pengaduan@ekonomi.example"
        )
        refused = await log.get(
            "/api/v1/deliveries",
            params={"recipient": "6171012301900001"},
            headers=as_role(harness, "supervisor"),
        )
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "recipient"


async def test_a_ledger_written_before_forgets_citizens_hashes_and_masks_once_and_sweeps_late_ones(harness):
    ledger = Ledger(harness.db)
    tracking = code("ADU")
    await anonymous_complaint(harness, tracking, email="lama.pelapor@example.com")  # its case: contact, key
    [case] = [c async for c in harness.db["cases"].find({"_id": f"complaint:{tracking}"})]
    key = case["contact"]["email"]["key"]
    at = datetime(2026, 3, 1, tzinfo=UTC)
    old = [
        {
            "_id": "d-citizen",
            "recipient_kind": "citizen",
            "case_id": tracking,
            "subject_key": key,
            "recipient_masked": "l***@example.com",
            "recipient_hash": "a" * 64,
            "created_at": at,
        },
        {
            "_id": "d-citizen-before-keys",
            "recipient_kind": "citizen",
            "case_id": tracking,
            "recipient_masked": "+6281******432",
            "recipient_hash": "b" * 64,
            "created_at": at,
        },
        {
            "_id": "d-officer",
            "recipient_kind": "officer",
            "case_id": tracking,
            "recipient_masked": "p***@ekonomi.example",
            "recipient_hash": "c" * 64,
            "created_at": at,
        },
    ]
    await harness.db["deliveries"].insert_many(old)
    await harness.db["notifier_migrations"].delete_many({"_id": "citizen-contacts"})
    assert await ledger.forget_citizen_contacts() == 2
    after = {
        d["_id"]: d async for d in harness.db["deliveries"].find({"_id": {"$in": [d["_id"] for d in old]}})
    }
    for name in ("d-citizen", "d-citizen-before-keys"):
        assert {"recipient_masked", "recipient_hash"}.isdisjoint(after[name]), after[name]
        assert after[name]["subject_key"] == key  # found through the vault while the person exists
    assert (after["d-officer"]["recipient_masked"], after["d-officer"]["recipient_hash"]) == (
        "p***@ekonomi.example",
        "c" * 64,
    )
    assert await ledger.forget_citizen_contacts() == 0  # again: nothing left to change
    late = {
        "_id": "d-late",
        "recipient_kind": "citizen",
        "case_id": tracking,
        "subject_key": key,
        "recipient_hash": "d" * 64,
        "created_at": datetime.now(UTC),
    }  # an older replica, mid-upgrade
    await harness.db["deliveries"].insert_one(late)
    assert await ledger.forget_citizen_contacts() == 1
    assert "recipient_hash" not in await harness.db["deliveries"].find_one({"_id": "d-late"})
