"""MongoDB access through PyMongo's async API, with write concern majority."""

from __future__ import annotations

from pymongo import AsyncMongoClient, WriteConcern
from pymongo.asynchronous.database import AsyncDatabase

MAJORITY = WriteConcern(w="majority")


def connect(url: str) -> AsyncMongoClient:
    return AsyncMongoClient(url, w="majority", serverSelectionTimeoutMS=5000, tz_aware=True)


def database(client: AsyncMongoClient, name: str) -> AsyncDatabase:
    return client.get_database(name, write_concern=MAJORITY)
