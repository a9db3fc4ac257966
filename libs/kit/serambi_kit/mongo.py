"""MongoDB access through PyMongo's async API, with write concern majority."""

from __future__ import annotations

from typing import Any

from pymongo import AsyncMongoClient, WriteConcern
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from .tracing import MONGO_SPANS

MAJORITY = WriteConcern(w="majority")

Document = dict[str, Any]  # a document as the client returns it (PyMongo's default document class)
Database = AsyncDatabase[Document]
Collection = AsyncCollection[Document]


def connect(url: str, *, traced: bool = False) -> AsyncMongoClient[Document]:
    """A client whose calls cannot hang for ever on a server that stopped answering (a frozen
    or partitioned primary keeps its sockets open): each read of a socket gives up after
    ``socketTimeoutMS`` (30 s unless the URL says otherwise), and the caller sees an outage.
    ``traced``: its commands are spans of the trace they run in (``serambi_kit.tracing.
    MONGO_SPANS``); only when tracing records, since any listener costs pymongo its fast path."""
    options: dict[str, Any] = {} if "sockettimeoutms" in url.lower() else {"socketTimeoutMS": 30_000}
    return AsyncMongoClient(
        url,
        w="majority",
        serverSelectionTimeoutMS=5000,
        tz_aware=True,
        event_listeners=[MONGO_SPANS] if traced else [],
        **options,
    )


def database(client: AsyncMongoClient[Document], name: str) -> Database:
    return client.get_database(name, write_concern=MAJORITY)
