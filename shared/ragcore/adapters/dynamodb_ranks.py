"""Counted trees over list positions (see table_schema.py): which nodes a position touches, and finding a rank.

Pure arithmetic and bookkeeping; the DynamoDB adapter does the reads and writes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ragcore.adapters.table_schema import CAPACITY, FANOUT, LEAF, LEVELS
from ragcore.errors import StorageError

NodeKey = tuple[str, str, int, int]  # (order "c"/"u", view, level, index)


@dataclass(frozen=True)
class Membership:
    """An item's place in one ordered view."""

    order: str  # "c" (creation) or "u" (last update)
    view: str
    position: int


def path(position: int) -> list[tuple[int, int, int]]:
    """(level, node index, child slot) from the leaves' parents up to the root."""
    if not 0 <= position < CAPACITY:
        raise StorageError(f"List position {position} is outside the store's range (0 to {CAPACITY - 1}).")
    leaf = position // LEAF
    out = []
    for level in range(1, LEVELS + 1):
        out.append((level, leaf // FANOUT**level, (leaf // FANOUT ** (level - 1)) % FANOUT))
    return out


def deltas(removed: Iterable[Membership], added: Iterable[Membership]) -> dict[NodeKey, dict[int, int]]:
    """Per node, the count change of each child slot; changes that cancel out are left out."""
    acc: dict[NodeKey, dict[int, int]] = {}
    for sign, members in ((-1, removed), (1, added)):
        for m in members:
            for level, index, slot in path(m.position):
                node = acc.setdefault((m.order, m.view, level, index), {})
                node[slot] = node.get(slot, 0) + sign
    out: dict[NodeKey, dict[int, int]] = {}
    for key, slots in acc.items():
        kept = {s: d for s, d in slots.items() if d}
        if kept:
            out[key] = kept
    return out


def merge_into(total: dict[NodeKey, dict[int, int]], more: dict[NodeKey, dict[int, int]]) -> None:
    for key, slots in more.items():
        node = total.setdefault(key, {})
        for slot, d in slots.items():
            node[slot] = node.get(slot, 0) + d
            if not node[slot]:
                del node[slot]
        if not node:
            del total[key]


ReadLevel = Callable[[int, int], list[dict[int, int]]]  # (level, index) → each view's child counts there


def total(read: ReadLevel) -> int:
    return sum(sum(counts.values()) for counts in read(LEVELS, 0))


def locate(read: ReadLevel, rank: int) -> tuple[int, int, int] | None:
    """The first position of the leaf holding the item at `rank` (0-based, ascending), how many items of that leaf
    come before it, and the views' total; None when rank is past the end."""
    index = 0
    grand = 0
    for level in range(LEVELS, 0, -1):
        counts = [0] * FANOUT
        for view_counts in read(level, index):
            for slot, n in view_counts.items():
                counts[slot] += n
        if level == LEVELS:
            grand = sum(counts)
            if rank >= grand:
                return None
        for slot, n in enumerate(counts):
            if rank < n:
                index = index * FANOUT + slot
                break
            rank -= n
        else:  # counts moved under us (a concurrent write): the caller retries
            return None
    return index * LEAF, rank, grand
