"""Counted trees over list positions (see table_schema.py): which nodes a position touches, and finding a rank.

Pure arithmetic and bookkeeping; the DynamoDB adapter does the reads and writes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ragcore.adapters.table_schema import CAPACITY, FANOUT, LEAF, LEVELS
from ragcore.errors import StorageError

NodeKey = tuple[str, str, int, int]  # (order "c"/"u", view, level, index)


# Positions under the first level-1 node. An item written with `head` counts there in the view's head node (level
# 0, index 0) alone, not on a path of LEVELS nodes: a document's chunks (positions from 0 per document) cost one
# node write per view instead of four. Readers add the head node into the tree they descend (head_read), so the
# counts are the same tree either way, and an item written before heads existed keeps its path.
HEAD = LEAF * FANOUT


@dataclass(frozen=True)
class Membership:
    """An item's place in one ordered view."""

    order: str  # "c" (creation) or "u" (last update)
    view: str
    position: int
    head: bool = False  # counted in the view's head node when the position is below HEAD


def path(position: int, head: bool = False) -> list[tuple[int, int, int]]:
    """(level, node index, child slot) from the leaves' parents up to the root; with `head`, a position below HEAD
    is the head node's slot alone."""
    if not 0 <= position < CAPACITY:
        raise StorageError(f"List position {position} is outside the store's range (0 to {CAPACITY - 1}).")
    leaf = position // LEAF
    if head and position < HEAD:
        return [(0, 0, leaf)]
    out = []
    for level in range(1, LEVELS + 1):
        out.append((level, leaf // FANOUT**level, (leaf // FANOUT ** (level - 1)) % FANOUT))
    return out


def deltas(removed: Iterable[Membership], added: Iterable[Membership]) -> dict[NodeKey, dict[int, int]]:
    """Per node, the count change of each child slot; changes that cancel out are left out."""
    acc: dict[NodeKey, dict[int, int]] = {}
    for sign, members in ((-1, removed), (1, added)):
        for m in members:
            for level, index, slot in path(m.position, m.head):
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


def head_read(read: ReadLevel) -> ReadLevel:
    """The tree as if every head-counted item were on its path: `read` returns each view's counts in the views'
    order (an empty dict for a missing node); the head node (0, 0) is added into node (1, 0)'s slots and, as one
    sum, into slot 0 of the nodes above it."""

    def combined(level: int, index: int) -> list[dict[int, int]]:
        found = read(level, index)
        if index != 0:
            return found
        out = []
        for counts, head in zip(found, read(0, 0), strict=True):
            merged = dict(counts)
            if head:
                if level == 1:
                    for slot, n in head.items():
                        merged[slot] = merged.get(slot, 0) + n
                else:
                    merged[0] = merged.get(0, 0) + sum(head.values())
            out.append(merged)
        return out

    return combined


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
