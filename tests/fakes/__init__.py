"""Fakes of external services for the tests (Pinecone, OpenAI-compatible providers) and moto made faster where it costs more than the work."""

from tests.fakes.moto_speedups import install as _install_moto_speedups

_install_moto_speedups()
