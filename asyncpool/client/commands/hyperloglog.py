"""HyperLogLog commands: PFADD, PFCOUNT, PFMERGE."""

from __future__ import annotations

from .. import replies
from ..base import EncodableT, KeyT
from ._base import CommandMixin, Reply, StrT

__all__ = ["HyperLogLogCommands"]


class HyperLogLogCommands(CommandMixin[StrT]):
    """Probabilistic distinct counting."""

    __slots__ = ()

    def pfadd(self, name: KeyT, *values: EncodableT) -> Reply[bool]:
        """PFADD elements; ``True`` when the estimate changed."""
        return self._cmd(("PFADD", name, *values), replies.to_bool)

    def pfcount(self, *sources: KeyT) -> Reply[int]:
        """PFCOUNT: the estimated number of distinct elements (of the union of ``sources``)."""
        return self._cmd(("PFCOUNT", *sources))

    def pfmerge(self, dest: KeyT, *sources: KeyT) -> Reply[bool]:
        """PFMERGE ``sources`` into ``dest``."""
        return self._cmd(("PFMERGE", dest, *sources), replies.ok)
