"""The cache's memory: an LRU of replies bounded by entries and bytes, indexed by key.

:class:`CacheStore` knows nothing of Redis connections.  It keeps

* the entries, in LRU order, each a raw reply with the Redis keys it depends on,
  its estimated size and an optional deadline;
* an index from each Redis key (bytes, as invalidations name it) to the entries
  that depend on it;
* the *in-flight reads*: for each key a read from the server is pending on, a
  count of invalidations seen since.  A read records the count when it is sent
  (:meth:`begin`) and may store its reply only if no invalidation of its keys,
  and no flush, happened in between (:meth:`may_store`).  That closes the race
  between a reply and an invalidation that crosses it.

All of it runs on the event loop thread, without locks.
"""

from __future__ import annotations

import sys
import time
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["CacheStore", "Entry", "ReadToken", "estimate_size"]

_INF = float("inf")

#: Bookkeeping bytes per entry: the entry object, its LRU node, its index sets.
ENTRY_OVERHEAD = 240


class Entry:
    """One cached reply."""

    __slots__ = ("expires_at", "keys", "size", "value")

    def __init__(self, value: Any, keys: tuple[bytes, ...], size: int, expires_at: float) -> None:
        self.value = value
        self.keys = keys
        self.size = size
        #: Monotonic deadline (``inf``: none); the server's TTL or the config's.
        self.expires_at = expires_at


class ReadToken:
    """What :meth:`CacheStore.begin` hands a read: the counts to compare at store time."""

    __slots__ = ("epoch", "gens", "keys")

    def __init__(self, keys: tuple[bytes, ...], gens: tuple[int, ...], epoch: int) -> None:
        self.keys = keys
        self.gens = gens
        self.epoch = epoch


class CacheStore:
    """LRU entries, the key index and in-flight read counters."""

    def __init__(self, max_entries: int, max_bytes: int, entry_limit: int) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.entry_limit = entry_limit
        self._entries: OrderedDict[Any, Entry] = OrderedDict()
        self._by_key: dict[bytes, set[Any]] = {}
        #: key -> [reads in flight, invalidations seen while they were].
        self._inflight: dict[bytes, list[int]] = {}
        #: Bumped by every flush: a read that saw an older epoch stores nothing.
        self.epoch = 0
        self.bytes = 0
        self.evictions = 0
        self.invalidations = 0
        self.expirations = 0

    def __len__(self) -> int:
        return len(self._entries)

    # -- lookups -----------------------------------------------------------------------
    def get(self, cache_key: Any) -> Entry | None:
        """The live entry for ``cache_key`` (made most recently used), or ``None``."""
        entry = self._entries.get(cache_key)
        if entry is None:
            return None
        expires_at = entry.expires_at
        if expires_at != _INF and expires_at <= time.monotonic():
            self._remove(cache_key, entry)
            self.expirations += 1
            return None
        self._entries.move_to_end(cache_key)
        return entry

    # -- reads from the server -----------------------------------------------------------
    def begin(self, keys: tuple[bytes, ...]) -> ReadToken:
        """Note a read of ``keys`` about to be sent; pass the token to :meth:`end`."""
        inflight = self._inflight
        gens = []
        for key in keys:
            record = inflight.get(key)
            if record is None:
                inflight[key] = record = [0, 0]
            record[0] += 1
            gens.append(record[1])
        return ReadToken(keys, tuple(gens), self.epoch)

    def may_store(self, token: ReadToken) -> bool:
        """True when no flush and no invalidation of the read's keys came since :meth:`begin`."""
        if token.epoch != self.epoch:
            return False
        inflight = self._inflight
        for key, gen in zip(token.keys, token.gens, strict=True):
            record = inflight.get(key)
            if record is None or record[1] != gen:
                return False
        return True

    def end(self, token: ReadToken) -> None:
        """The read is over (stored, refused or failed): forget its counters."""
        if token.epoch != self.epoch:
            return  # a flush cleared every counter
        inflight = self._inflight
        for key in token.keys:
            record = inflight.get(key)
            if record is not None:
                record[0] -= 1
                if record[0] <= 0:
                    del inflight[key]

    def put(self, cache_key: Any, entry: Entry) -> bool:
        """Store ``entry`` (evicting LRU entries to fit); False when it is too large."""
        if entry.size > self.entry_limit:
            return False
        old = self._entries.get(cache_key)
        if old is not None:
            self._remove(cache_key, old)
        self._entries[cache_key] = entry
        self.bytes += entry.size
        by_key = self._by_key
        for key in entry.keys:
            dependants = by_key.get(key)
            if dependants is None:
                by_key[key] = {cache_key}
            else:
                dependants.add(cache_key)
        entries = self._entries
        while len(entries) > self.max_entries or self.bytes > self.max_bytes:
            victim_key, victim = next(iter(entries.items()))
            self._remove(victim_key, victim)
            self.evictions += 1
        return True

    # -- invalidation --------------------------------------------------------------------------
    def invalidate(self, keys: Iterable[bytes]) -> int:
        """Drop every entry depending on ``keys`` and poison reads in flight for them."""
        dropped = 0
        inflight = self._inflight
        by_key = self._by_key
        entries = self._entries
        for key in keys:
            record = inflight.get(key)
            if record is not None:
                record[1] += 1
            dependants = by_key.get(key)
            if dependants is None:
                continue
            for cache_key in list(dependants):
                entry = entries.get(cache_key)
                if entry is not None:
                    self._remove(cache_key, entry)
                    dropped += 1
        self.invalidations += dropped
        return dropped

    def flush(self) -> int:
        """Drop everything and poison every read in flight; returns the entries dropped."""
        dropped = len(self._entries)
        self._entries.clear()
        self._by_key.clear()
        self._inflight.clear()
        self.bytes = 0
        self.epoch += 1
        return dropped

    def _remove(self, cache_key: Any, entry: Entry) -> None:
        del self._entries[cache_key]
        self.bytes -= entry.size
        by_key = self._by_key
        for key in entry.keys:
            dependants = by_key.get(key)
            if dependants is not None:
                dependants.discard(cache_key)
                if not dependants:
                    del by_key[key]


def estimate_size(args: Sequence[Any], value: Any) -> int:
    """Estimated bytes an entry holds: its arguments, its reply and the bookkeeping."""
    return ENTRY_OVERHEAD + _size(args) + _size(value)


_STR_OVERHEAD = sys.getsizeof("")
_BYTES_OVERHEAD = sys.getsizeof(b"")


def _size(value: Any) -> int:
    kind = value.__class__
    if kind is bytes:
        return _BYTES_OVERHEAD + len(value)
    if kind is str:
        return _STR_OVERHEAD + len(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        return 56 + 8 * len(value) + sum(_size(item) for item in value)
    if isinstance(value, dict):
        return 64 + 24 * len(value) + sum(_size(k) + _size(v) for k, v in value.items())
    if value is None or isinstance(value, bool):
        return 0
    if isinstance(value, (int, float)):
        return 32
    return sys.getsizeof(value)
