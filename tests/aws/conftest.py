"""Which vector index the AWS-runtime tests use: the local one, and Pinecone through its fake when present."""

from __future__ import annotations

import pytest


@pytest.fixture
def vector_env() -> dict[str, str]:
    return {}
