"""A fixture's clean-up on a database server that hangs fails within its bound, with a reason
(``serambi_testing.localstack.drop_databases``), instead of holding the run."""

from __future__ import annotations

import asyncio

import pytest
from serambi_testing import localstack


class HungServer:
    def __init__(self) -> None:
        self.dropped: list[str] = []

    async def drop_database(self, name: str) -> None:
        if name.endswith("_vault"):
            await asyncio.Event().wait()  # never answers
        self.dropped.append(name)


async def test_a_drop_the_server_never_answers_fails_with_the_database_named() -> None:
    server = HungServer()
    with pytest.raises(localstack.DatabaseHung, match="'test_1_vault' took over 0.05 s"):
        await localstack.drop_databases(server, "test_1", "test_1_vault", timeout=0.05)  # type: ignore[arg-type]
    assert server.dropped == ["test_1"]
