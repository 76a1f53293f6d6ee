"""Redis Cluster: one pool per node, commands routed by key slot."""

from __future__ import annotations

from .slots import SLOTS, hash_slot

__all__ = ["SLOTS", "hash_slot"]
