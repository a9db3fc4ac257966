"""Real infrastructure for integration, contract and end-to-end tests.

One nats-server and one SecantusDB per test session, on free loopback ports, with data in a
temporary directory. Tests isolate themselves by unique aggregate ids and database names.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator

import nats
import pytest
from nats.aio.client import Client
from pymongo import AsyncMongoClient
from serambi_kit.topology import apply_streams
from serambi_testing import localstack

# Settings default to production, which refuses the development secrets the tests use: the test
# stack chooses its environment explicitly (processes it starts inherit it).
os.environ.setdefault("SERAMBI_ENVIRONMENT", "test")


def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> None:
    """Stop the run when a fixture's clean-up found the shared database server hung
    (``localstack.drop_databases``): every later test would wait out its timeout on it.

    pytest-timeout alone bounds a hung teardown too: with ``timeout_func_only`` false (the
    default, kept in pyproject.toml) its timer spans setup, call and teardown, and the signal
    method fails an ``await`` stuck in the event loop. But it gives each test its 300 s, and
    fails the next one the same way."""
    if call.excinfo is not None and call.excinfo.errisinstance(localstack.DatabaseHung):
        item.session.shouldstop = f"{call.excinfo.value}; the tests after it would hang on it too"


@pytest.fixture(scope="session")
def nats_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[localstack.ManagedProcess]:
    directory = tmp_path_factory.mktemp("nats")
    process = localstack.nats_server(directory, localstack.free_port()).start()
    yield process
    process.stop()


@pytest.fixture(scope="session")
def mongo_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[localstack.ManagedProcess]:
    directory = tmp_path_factory.mktemp("mongo")
    process = localstack.mongo_server(directory / "data", localstack.free_port(), directory)
    yield process.start(ready_timeout=60)
    process.stop()


@pytest.fixture(scope="session")
def nats_url(nats_process: localstack.ManagedProcess) -> str:
    return localstack.nats_url(nats_process.port)


@pytest.fixture(scope="session")
def mongo_url(mongo_process: localstack.ManagedProcess) -> str:
    return localstack.mongo_url(mongo_process.port)


@pytest.fixture(scope="session")
async def nc(nats_url: str) -> AsyncIterator[Client]:
    client = await nats.connect(nats_url)
    await apply_streams(client.jetstream())
    yield client
    await client.drain()


@pytest.fixture(scope="session")
async def mongo_client(mongo_url: str) -> AsyncIterator[AsyncMongoClient]:
    client: AsyncMongoClient = AsyncMongoClient(mongo_url)
    yield client
    await client.close()


@pytest.fixture
async def mongo_db(mongo_client: AsyncMongoClient):
    name = f"test_{uuid.uuid4().hex[:12]}"
    yield mongo_client[name]
    await localstack.drop_databases(mongo_client, name)


@pytest.fixture
def unique_id() -> str:
    return uuid.uuid4().hex[:16]
