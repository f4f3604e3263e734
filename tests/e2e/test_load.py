"""A short load run against the real server: concurrent clients create datasets, upload, parse and search; no
request fails and every write is counted back exactly once (bench/load.py runs the long version and prints
the latencies)."""

from __future__ import annotations

from bench.load import run_load
from tests.conftest import Server


def test_concurrent_clients_lose_and_duplicate_nothing(server: Server) -> None:
    tally, counts, _ = run_load(server.base_url, server.key, clients=20, seconds=4)
    assert tally.errors == []
    assert counts["datasets"] >= 20 and counts["documents"] == counts["datasets"]
    assert counts["lost"] == 0 and counts["duplicated"] == 0 and counts["not_parsed_to_one_chunk"] == 0
