"""The AWS-runtime tests use Pinecone (through its fake data plane on loopback) as the vector index."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.pinecone_server import FakePinecone


@pytest.fixture
def vector_env() -> Iterator[dict[str, str]]:
    fake = FakePinecone()
    yield {"PINECONE_HOST": fake.url, "PINECONE_API_KEY": "test-key"}
    fake.close()
