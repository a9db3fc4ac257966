"""The services as their own OS processes, on a NATS and MongoDB-wire server of their own
(serambi_testing.stack.running_stack)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from serambi_testing.stack import Stack, running_stack


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Intake and scheduling, for the audience slice."""
    with running_stack(tmp_path_factory.mktemp("stack"), ("intake", "scheduling")) as running:
        yield running


@pytest.fixture(scope="session")
def stack_of():
    """``running_stack`` for tests in sub-folders, which cannot import this conftest."""
    return running_stack
