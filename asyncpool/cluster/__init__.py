"""Redis Cluster: one ordinary pool per node, commands routed by key slot.

See docs/cluster.md.  :class:`RedisCluster` is also exported as
``asyncpool.RedisCluster``.
"""

from __future__ import annotations

from .client import RedisCluster
from .nodes import ClusterNodes, ReadFrom
from .pipeline import ClusterPipeline
from .sharded import ShardedPubSub
from .slots import SLOTS, hash_slot
from .topology import Address, Shard, Topology

__all__ = [
    "SLOTS",
    "Address",
    "ClusterNodes",
    "ClusterPipeline",
    "ReadFrom",
    "RedisCluster",
    "Shard",
    "ShardedPubSub",
    "Topology",
    "hash_slot",
]
