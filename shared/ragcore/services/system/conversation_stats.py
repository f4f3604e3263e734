"""GET /system/stats: RAGFlow's daily figures of API conversations (pv, uv, speed, tokens, rounds, thumbs up),
read from counters kept as conversations happen (one item per source and day), never by scanning sessions.

Source "chat" is a chat assistant's sessions (RAGFlow's source-less conversations), "agent" an agent's (RAGFlow's
source "agent", asked for with a `canvas_id` parameter). A turn counts toward the day its session was opened, as
RAGFlow sums each conversation's figures under its creation day. Days are UTC.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from ragcore.domain import kinds
from ragcore.errors import ApiError, RetCode
from ragcore.ids import http_date
from ragcore.ports import ListQuery, MetadataStore

KIND = kinds.CONVERSATION_STATS  # parent = source; id = "<source>:<YYYY-MM-DD>"
SOURCES = ("chat", "agent")
FIELDS = ("pv", "uv", "rounds", "tokens", "duration", "thumb_up")
_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d")


def _day_of(ms: int) -> datetime:
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def _parse(value: str, *, end_of_day: bool) -> int:
    text = value.strip()
    if len(text) == 10 and end_of_day:
        text += " 23:59:59"  # RAGFlow's to_date: a bare day means up to its last second
    for fmt in _FORMATS:
        try:
            return int(datetime.strptime(text, fmt).replace(tzinfo=UTC).timestamp() * 1000)
        except ValueError:
            continue
    raise ApiError(RetCode.ARGUMENT_ERROR, f"Invalid date: {value}; expected YYYY-MM-DD or YYYY-MM-DD HH:MM:SS")


class ConversationStats:
    def __init__(self, store: MetadataStore) -> None:
        self._store = store

    # ---- counting (called where conversations happen) ----------------------------------------------
    def opened(self, tenant: str, source: str, session: dict[str, Any]) -> None:
        created = int(session.get("create_time") or time.time() * 1000)
        deltas: dict[str, int | float] = {"pv": 1}
        day = _day_of(created).strftime("%Y-%m-%d")
        # a distinct user per day and source: the first session of a user claims it
        if self._store.claim(tenant, f"stats-uv:{source}:{day}", f"u:{session.get('user_id') or ''}", str(session["id"])):
            deltas["uv"] = 1
        self._add(tenant, source, created, deltas)

    def answered(self, tenant: str, source: str, session: dict[str, Any], *, tokens: int, duration: float) -> None:
        self._add(tenant, source, int(session.get("create_time") or 0),
                  {"rounds": 1, "tokens": int(tokens), "duration": round(max(duration, 0.0), 3)})

    def thumbed(self, tenant: str, source: str, session: dict[str, Any], delta: int) -> None:
        if delta:
            self._add(tenant, source, int(session.get("create_time") or 0), {"thumb_up": delta})

    def _add(self, tenant: str, source: str, created_ms: int, deltas: dict[str, int | float]) -> None:
        day = _day_of(created_ms or int(time.time() * 1000))
        item_id = f"{source}:{day.strftime('%Y-%m-%d')}"
        if self._store.increment(KIND, tenant, item_id, deltas) is not None:
            return
        ms = int(day.timestamp() * 1000)
        first = {"id": item_id, "create_time": ms, "update_time": ms, **{f: 0 for f in FIELDS}, **deltas}
        if not self._store.put(KIND, tenant, first, parent=source, if_absent=True):
            self._store.increment(KIND, tenant, item_id, deltas)  # another request created the day meanwhile

    # ---- reading ----------------------------------------------------------------------------
    def report(self, tenant: str, params: dict[str, Any]) -> dict[str, list[list[Any]]]:
        """RAGFlow's series: [day, value] pairs per figure, days in order, only days with conversations."""
        now = datetime.now(UTC)
        default_from = (now - timedelta(days=7)).strftime("%Y-%m-%d 00:00:00")
        start = _parse(str(params.get("from_date") or default_from), end_of_day=False)
        end = _parse(str(params.get("to_date") or now.strftime("%Y-%m-%d %H:%M:%S")), end_of_day=True)
        source = "agent" if "canvas_id" in params else "chat"
        # a day's item is stamped with its midnight: a range starting mid-day still includes that day
        query = ListQuery(KIND, tenant, source, desc=False, created_from=int(_day_of(start).timestamp() * 1000), created_to=end)
        found = self._store.count(query) if end >= start else 0
        days = self._store.page(query, 0, found) if found else []
        out: dict[str, list[list[Any]]] = {"pv": [], "uv": [], "speed": [], "tokens": [], "round": [], "thumb_up": []}
        for day in days:
            dt = http_date(int(day["create_time"]))
            pv = int(day.get("pv", 0))
            tokens, duration = float(day.get("tokens", 0)), float(day.get("duration", 0))
            out["pv"].append([dt, pv])
            out["uv"].append([dt, int(day.get("uv", 0))])
            out["speed"].append([dt, tokens / (duration + 0.1)])  # RAGFlow's +0.1 keeps an instant answer finite
            out["tokens"].append([dt, tokens / 1000.0])  # in thousands, as RAGFlow reports
            out["round"].append([dt, float(day.get("rounds", 0)) / pv if pv else 0.0])
            out["thumb_up"].append([dt, int(day.get("thumb_up", 0))])
        return out
