"""Fakes of external services for the tests (Pinecone, OpenAI-compatible providers) and a faster moto transaction."""

from tests.fakes.moto_transactions import install as _install_moto_transactions

_install_moto_transactions()
