"""/system/stats' daily counters on both metadata stores: days apart, sources apart, tenants apart, a range that
starts mid-day still holding that day, and concurrent first writes of a day counted once each."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
from ragcore.services.system.conversation_stats import ConversationStats

DAY1 = int(datetime(2025, 3, 1, 9, 30, tzinfo=UTC).timestamp() * 1000)
DAY2 = int(datetime(2025, 3, 2, 23, 0, tzinfo=UTC).timestamp() * 1000)


def session(sid: str, user: str, ms: int) -> dict[str, Any]:
    return {"id": sid, "user_id": user, "create_time": ms}


def test_days_sources_and_tenants_are_counted_apart(store: Any) -> None:
    stats = ConversationStats(store)
    a, b, c = session("a", "ann", DAY1), session("b", "ann", DAY1), session("c", "bob", DAY2)
    for s in (a, b, c):
        stats.opened("t1", "chat", s)
    stats.answered("t1", "chat", a, tokens=300, duration=2.0)
    stats.answered("t1", "chat", a, tokens=100, duration=1.9)
    stats.thumbed("t1", "chat", a, 1)
    stats.opened("t1", "agent", session("g", "ann", DAY1))
    stats.opened("t2", "chat", session("x", "zed", DAY1))

    got = stats.report("t1", {"from_date": "2025-03-01 12:00:00", "to_date": "2025-03-02"})
    d1, d2 = "Sat, 01 Mar 2025 00:00:00 GMT", "Sun, 02 Mar 2025 00:00:00 GMT"
    assert got["pv"] == [[d1, 2], [d2, 1]] and got["uv"] == [[d1, 1], [d2, 1]]
    assert got["round"] == [[d1, 1.0], [d2, 0.0]] and got["thumb_up"] == [[d1, 1], [d2, 0]]
    assert got["tokens"] == [[d1, 0.4], [d2, 0.0]] and got["speed"][0] == [d1, 400 / 4.0]
    assert stats.report("t1", {"from_date": "2025-03-01", "to_date": "2025-03-01", "canvas_id": "any"})["pv"] == [[d1, 1]]
    assert stats.report("t1", {"from_date": "2025-03-03", "to_date": "2025-03-01"})["pv"] == []
    assert stats.report("t2", {"from_date": "2025-03-01", "to_date": "2025-03-02"})["pv"] == [[d1, 1]]


def test_concurrent_first_sessions_of_a_day_are_all_counted(store: Any) -> None:
    if type(store).__name__ == "DynamoMetadataStore":
        pytest.skip("moto applies concurrent updates without a lock; DynamoDB's ADD is atomic")
    stats = ConversationStats(store)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda n: stats.opened("t1", "chat", session(f"s{n}", f"u{n % 3}", DAY1)), range(16)))
    got = stats.report("t1", {"from_date": "2025-03-01", "to_date": "2025-03-01"})
    assert got["pv"][0][1] == 16 and got["uv"][0][1] == 3
