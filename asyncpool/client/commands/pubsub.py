"""Publishing (subscribing lives in :class:`~asyncpool.PubSub`, on its own connection)."""

from __future__ import annotations

from ..base import EncodableT
from ._base import CommandMixin, Reply, StrT

__all__ = ["PubSubCommands"]


class PubSubCommands(CommandMixin[StrT]):
    """PUBLISH."""

    __slots__ = ()

    def publish(self, channel: EncodableT, message: EncodableT) -> Reply[int]:
        """PUBLISH ``message`` on ``channel``: the number of subscribers that received it."""
        return self._cmd(("PUBLISH", channel, message))
