"""The cluster's shape: which node serves which slot, parsed from the server.

A :class:`Topology` is an immutable snapshot: its shards (a primary and its
replicas) and a 16384-entry table from slot to shard.  It is read from
``CLUSTER SHARDS`` (Redis 7.0+) or, on older servers, ``CLUSTER SLOTS``;
both parsers accept RESP2 arrays and RESP3 maps, ``bytes`` or ``str``.
A MOVED reply patches one slot at once with :meth:`Topology.moved`, which
returns a new snapshot, so readers never see a half-updated table.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .slots import SLOTS

__all__ = ["Address", "Shard", "Topology", "parse_shards", "parse_slots"]

#: ``(host, port)`` of one node.
Address = tuple[str, int]


@dataclass(frozen=True)
class Shard:
    """A primary and its replicas, serving the same slots."""

    primary: Address
    replicas: tuple[Address, ...] = ()
    #: Inclusive slot ranges.
    ranges: tuple[tuple[int, int], ...] = field(default=(), compare=False)

    @property
    def nodes(self) -> tuple[Address, ...]:
        return (self.primary, *self.replicas)


class Topology:
    """Shards and the slot table of one moment."""

    __slots__ = ("_by_primary", "shards", "table")

    def __init__(self, shards: Iterable[Shard]) -> None:
        self.shards: tuple[Shard, ...] = tuple(shards)
        table: list[Shard | None] = [None] * SLOTS
        for shard in self.shards:
            for lo, hi in shard.ranges:
                for slot in range(max(lo, 0), min(hi, SLOTS - 1) + 1):
                    table[slot] = shard
        #: Slot -> the shard serving it (``None``: not covered).
        self.table = table
        self._by_primary = {s.primary: s for s in self.shards}

    def __repr__(self) -> str:
        return f"<Topology shards={len(self.shards)} covered={self.covered()}/{SLOTS}>"

    def covered(self) -> int:
        """How many slots have an owner."""
        return sum(1 for s in self.table if s is not None)

    def addresses(self) -> set[Address]:
        """Every node, primaries and replicas."""
        return {a for s in self.shards for a in s.nodes}

    def primaries(self) -> list[Address]:
        """The primaries that serve slots, in shard order."""
        return [s.primary for s in self.shards if s.ranges]

    def shard_of(self, primary: Address) -> Shard | None:
        return self._by_primary.get(primary)

    def moved(self, slot: int, address: Address) -> Topology:
        """A copy where ``slot`` is served by ``address`` (a MOVED reply said so)."""
        shard = self._by_primary.get(address)
        shards = list(self.shards)
        if shard is None:  # a node we did not know as a primary (a promoted replica, a new node)
            for known in self.shards:
                if address in known.replicas:  # promoted: it takes its old shard's replicas
                    rest = tuple(r for r in known.replicas if r != address)
                    shard = Shard(address, (*rest, known.primary))
                    break
            else:
                shard = Shard(address)
            shards.append(shard)
        clone = Topology.__new__(Topology)
        clone.shards = tuple(shards)
        clone.table = list(self.table)
        clone.table[slot] = shard
        clone._by_primary = {s.primary: s for s in shards}
        return clone

    def same_layout(self, other: Topology) -> bool:
        """True when both snapshots route every slot to the same nodes."""
        if self.addresses() != other.addresses():
            return False
        return all(
            (a is None and b is None) or (a is not None and b is not None and a == b)
            for a, b in zip(self.table, other.table, strict=True)
        )


def _text(value: Any) -> str:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "replace")
    return str(value)


def _mapping(value: Any) -> dict[str, Any]:
    """A RESP3 map or a RESP2 flat key/value array as a dict with ``str`` keys."""
    if isinstance(value, dict):
        return {_text(k): v for k, v in value.items()}
    items = list(value)
    return {_text(items[i]): items[i + 1] for i in range(0, len(items) - 1, 2)}


def _host(raw: Any, asked: str) -> str:
    """A node's host; empty or ``?`` means "the node you asked"."""
    host = _text(raw) if raw is not None else ""
    return asked if host in ("", "?") else host


def parse_shards(reply: Sequence[Any], asked: str) -> Topology:
    """Parse ``CLUSTER SHARDS``; ``asked`` is the host of the node that answered."""
    shards = []
    for raw_shard in reply:
        shard = _mapping(raw_shard)
        flat = [int(x) for x in shard.get("slots", [])]
        ranges = tuple((flat[i], flat[i + 1]) for i in range(0, len(flat) - 1, 2))
        primary: Address | None = None
        primary_online = False
        replicas: list[Address] = []
        for raw_node in shard.get("nodes", []):
            node = _mapping(raw_node)
            # "loading" is also what 7.x reports for a replica that has not gossiped a
            # replication offset yet; a replica that really loads answers LOADING, and
            # the executor then reads from the primary
            online = _text(node.get("health", "online")) in ("online", "loading")
            endpoint = node.get("endpoint", node.get("ip"))
            port = node.get("port", node.get("tls-port"))
            if port is None:
                continue
            address = (_host(endpoint, asked), int(port))
            if _text(node.get("role", "")) == "master":
                # a failed primary stays the owner until a replica is promoted, so its
                # slots fail fast instead of bouncing between nodes
                if primary is None or (online and not primary_online):
                    primary, primary_online = address, online
            elif online:
                replicas.append(address)
        if primary is not None:
            shards.append(Shard(primary, tuple(replicas), ranges if ranges else ()))
    return Topology(shards)


def parse_slots(reply: Sequence[Any], asked: str) -> Topology:
    """Parse ``CLUSTER SLOTS`` (every Redis with cluster support)."""
    by_primary: dict[Address, tuple[list[tuple[int, int]], list[Address]]] = {}
    for entry in reply:
        lo, hi = int(entry[0]), int(entry[1])
        nodes = [(_host(n[0], asked), int(n[1])) for n in entry[2:] if len(n) >= 2]
        if not nodes:
            continue
        ranges, replicas = by_primary.setdefault(nodes[0], ([], []))
        ranges.append((lo, hi))
        for replica in nodes[1:]:
            if replica not in replicas:
                replicas.append(replica)
    return Topology(
        Shard(primary, tuple(replicas), tuple(sorted(ranges)))
        for primary, (ranges, replicas) in by_primary.items()
    )
