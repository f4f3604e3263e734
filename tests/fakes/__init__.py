"""Fakes of external services for the tests (Pinecone, OpenAI-compatible providers), moto made faster where it
costs more than the work and atomic per request (as AWS is), and a seeded fault layer for boto3 clients."""

from tests.fakes.faults import install as _install_faults
from tests.fakes.moto_atomic import install as _install_moto_atomic
from tests.fakes.moto_speedups import install as _install_moto_speedups

_install_moto_speedups()
_install_moto_atomic()
_install_faults()
